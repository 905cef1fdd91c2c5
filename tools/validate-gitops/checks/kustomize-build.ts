import { type GitopsCheck } from '../context';

export const kustomizeBuildCheck: GitopsCheck = {
  id: 'kustomize-build',
  title: 'every kustomization under gitops/ builds',
  run(ctx) {
    const problems = ctx.folders
      .filter((f) => f.error)
      .map((f) => `${f.dir}: kustomize build failed: ${f.error}`);
    for (const f of ctx.folders) {
      if (!f.error && !f.objects.length) problems.push(`${f.dir}: builds to nothing`);
    }
    return problems;
  },
};
