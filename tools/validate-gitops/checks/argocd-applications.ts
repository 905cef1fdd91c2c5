import { type GitopsCheck, type Json } from '../context';
import { namespaceOf } from '../lookups';
import { describe } from '../schema';

export const argocdApplicationsCheck: GitopsCheck = {
  id: 'argocd-applications',
  title:
    'every Application: automated prune + selfHeal, CreateNamespace=true, resources finalizer, retry with backoff, sources that exist',
  run(ctx) {
    const problems: string[] = [];
    if (!ctx.applications.length) {
      problems.push('no Argo CD Application rendered anywhere under gitops/');
    }
    if (!ctx.repoURL) {
      problems.push('no root Application with path gitops/apps (the app-of-apps) was found');
    }
    for (const a of ctx.applications) {
      const id = `Application ${a.app.metadata.name} (${a.dir})`;
      const sp = a.app.spec?.syncPolicy ?? {};
      if (sp.automated?.prune !== true) {
        problems.push(`${id}: syncPolicy.automated.prune must be true`);
      }
      if (sp.automated?.selfHeal !== true) {
        problems.push(`${id}: syncPolicy.automated.selfHeal must be true`);
      }
      if (!a.syncOptions.includes('CreateNamespace=true')) {
        problems.push(`${id}: syncOptions must include CreateNamespace=true`);
      }
      if (
        !(a.app.metadata as Json).finalizers?.includes('resources-finalizer.argocd.argoproj.io')
      ) {
        problems.push(
          `${id}: metadata.finalizers must include resources-finalizer.argocd.argoproj.io (deleting the app must delete what it deployed)`,
        );
      }
      const retry = sp.retry;
      if (!retry || !(retry.limit > 0)) {
        problems.push(`${id}: syncPolicy.retry.limit must be set above 0`);
      } else if (
        !retry.backoff?.duration ||
        !(retry.backoff?.factor > 1) ||
        !retry.backoff?.maxDuration
      ) {
        problems.push(`${id}: syncPolicy.retry.backoff needs duration, factor > 1 and maxDuration`);
      }
      if (a.app.metadata.namespace !== 'argocd') {
        problems.push(`${id}: must live in the argocd namespace`);
      }
      if (!a.sources.length) problems.push(`${id}: has no source`);
      for (const s of a.sources) {
        if (s.path && ctx.repoURL && s.repoURL === ctx.repoURL) {
          if (!ctx.folders.some((f) => f.dir === s.path!.replace(/\/$/, ''))) {
            problems.push(
              `${id}: source path ${s.path} is not a kustomization folder in this repo`,
            );
          }
        }
      }
    }
    // An Application only exists in the cluster if the root app renders it.
    const rootDir = ctx.applications
      .flatMap((a) => a.sources)
      .find((s) => s.path === 'gitops/apps' && s.repoURL === ctx.repoURL)?.path;
    const underRoot = new Set(
      (ctx.folders.find((f) => f.dir === rootDir)?.objects ?? [])
        .filter((o) => o.kind === 'Application')
        .map((o) => o.metadata.name),
    );
    for (const a of ctx.applications) {
      if (a.dir.startsWith('gitops/bootstrap')) continue;
      if (!underRoot.has(a.app.metadata.name)) {
        problems.push(
          `Application ${a.app.metadata.name} (${a.dir}): not rendered by the root app's folder ${rootDir ?? 'gitops/apps'}, so Argo CD never creates it`,
        );
      }
    }
    // Objects land in their own metadata.namespace; it must be the one the app deploys to.
    for (const d of ctx.deployables) {
      const dest = namespaceOf(d.app);
      for (const o of d.objects) {
        if (o.metadata.namespace && o.metadata.namespace !== dest) {
          problems.push(
            `${d.dir}: ${describe(o)} is in namespace ${o.metadata.namespace}, but Application ${d.app.app.metadata.name} deploys to ${dest}`,
          );
        }
      }
    }
    for (const r of ctx.helmReleases) {
      for (const vf of r.missingValueFiles) {
        problems.push(
          `Application ${r.app.app.metadata.name}: value file ${vf} does not resolve to a file in this repo`,
        );
      }
    }
    return problems;
  },
};
