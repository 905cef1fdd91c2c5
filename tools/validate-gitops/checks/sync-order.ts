import { type AppInfo, type Context, type GitopsCheck, type Json } from '../context';
import { monitoringStack } from '../lookups';
import { describe } from '../schema';

function usesMonitoringCrds(ctx: Context, a: AppInfo): boolean {
  const rendered = ctx.deployables.filter((d) => d.app === a).flatMap((d) => d.objects);
  if (rendered.some((o) => o.apiVersion?.startsWith('monitoring.coreos.com/'))) return true;
  const release = ctx.helmReleases.find((r) => r.app === a);
  if (!release || release.chart === 'kube-prometheus-stack') return false;
  let found = false;
  const walk = (v: Json, key = '') => {
    if (v && typeof v === 'object') {
      if (
        /servicemonitor|prometheusrule|podmonitor/i.test(key) &&
        (v.create === true || v.enabled === true)
      ) {
        found = true;
      }
      Object.entries(v).forEach(([k, x]) => walk(x, k));
    }
  };
  walk(release.values);
  return found;
}

export const syncOrderCheck: GitopsCheck = {
  id: 'sync-order',
  title:
    'kube-prometheus-stack with ServerSideApply, its CRDs synced before their users, app-of-apps health wired',
  run(ctx) {
    const problems: string[] = [];
    const stack = monitoringStack(ctx);
    if (!stack) return ['no Application installs the kube-prometheus-stack chart'];
    if (!stack.app.syncOptions.includes('ServerSideApply=true')) {
      problems.push(
        `Application ${stack.app.app.metadata.name}: syncOptions must include ServerSideApply=true (the prometheus-operator CRDs exceed the client-side apply annotation limit)`,
      );
    }
    for (const a of ctx.applications) {
      if (a === stack.app || !usesMonitoringCrds(ctx, a)) continue;
      const id = `Application ${a.app.metadata.name}`;
      const skip = a.syncOptions.includes('SkipDryRunOnMissingResource=true');
      if (a.wave < stack.app.wave) {
        problems.push(
          `${id}: sync-wave ${a.wave} comes before kube-prometheus-stack (${stack.app.wave}), but it creates ServiceMonitor/PrometheusRule objects`,
        );
      } else if (a.wave === stack.app.wave && !skip) {
        problems.push(
          `${id}: shares sync-wave ${a.wave} with kube-prometheus-stack but lacks SkipDryRunOnMissingResource=true, so its first sync fails before the CRDs exist`,
        );
      }
      for (const d of ctx.deployables.filter((x) => x.app === a)) {
        for (const o of d.objects.filter((x) =>
          x.apiVersion?.startsWith('monitoring.coreos.com/'),
        )) {
          const own = o.metadata.annotations?.['argocd.argoproj.io/sync-options'] ?? '';
          if (!skip && !own.includes('SkipDryRunOnMissingResource=true')) {
            problems.push(
              `${d.dir}: ${describe(o)} needs argocd.argoproj.io/sync-options: SkipDryRunOnMissingResource=true (its CRD may not be served on the first sync)`,
            );
          }
        }
      }
    }
    // Waves between child Applications only hold if Argo CD assesses Application health.
    const cm = ctx.folders
      .flatMap((f) => f.objects)
      .find((o) => o.kind === 'ConfigMap' && o.metadata.name === 'argocd-cm') as Json;
    if (!cm?.data?.['resource.customizations.health.argoproj.io_Application']) {
      problems.push(
        'gitops/bootstrap: argocd-cm has no resource.customizations.health.argoproj.io_Application, so the root app ignores child health and sync waves do not order the apps',
      );
    }
    return problems;
  },
};
