import { type GitopsCheck, type Json } from '../context';

export const argocdProjectsCheck: GitopsCheck = {
  id: 'argocd-projects',
  title: "every Application's project exists and allows its sources and destination",
  run(ctx) {
    const problems: string[] = [];
    for (const a of ctx.applications) {
      const id = `Application ${a.app.metadata.name}`;
      const projectName = a.app.spec?.project;
      if (!projectName || projectName === 'default') {
        problems.push(
          `${id}: uses the unrestricted "default" project; name one of the AppProjects in gitops/bootstrap`,
        );
        continue;
      }
      const p = ctx.projects.find((x) => x.metadata.name === projectName) as Json;
      if (!p) {
        problems.push(`${id}: project "${projectName}" is not defined in gitops/bootstrap`);
        continue;
      }
      const repos: string[] = p.spec?.sourceRepos ?? [];
      if (repos.includes('*')) {
        problems.push(`AppProject ${projectName}: sourceRepos must not be "*"`);
      }
      for (const s of a.sources) {
        if (!repos.includes(s.repoURL)) {
          problems.push(
            `${id}: source ${s.repoURL} is not in AppProject ${projectName}'s sourceRepos`,
          );
        }
      }
      const dest = a.app.spec?.destination ?? {};
      const allowed = (p.spec?.destinations ?? []).some(
        (d: Json) =>
          (d.server === dest.server || d.name === dest.name) &&
          d.namespace === dest.namespace &&
          d.namespace !== '*',
      );
      if (!allowed) {
        problems.push(
          `${id}: destination ${dest.server ?? dest.name}/${dest.namespace} is not allowed by AppProject ${projectName}`,
        );
      }
    }
    return problems;
  },
};
