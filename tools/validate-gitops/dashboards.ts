// The Grafana dashboards the apps ship (ConfigMaps with the sidecar's label) and the PromQL
// each of their panels and query variables runs.
import { get, type Context, type Json } from './context';
import { monitoringStack, ofKind } from './lookups';
import type { QueriedExpr } from './promql';

export interface DashboardInfo {
  where: string;
  dashboard?: Json;
  error?: string;
  exprs: QueriedExpr[];
}

export function dashboardsOf(ctx: Context): DashboardInfo[] {
  const stack = monitoringStack(ctx);
  const label = get(stack?.values, 'grafana.sidecar.dashboards.label') ?? 'grafana_dashboard';
  const out: DashboardInfo[] = [];
  for (const d of ctx.deployables) {
    for (const cm of ofKind(d.objects, 'ConfigMap')) {
      if (!(label in (cm.metadata.labels ?? {}))) continue;
      for (const [key, text] of Object.entries<string>(cm.data ?? {})) {
        const where = `${d.dir}: ConfigMap ${cm.metadata.name} ${key}`;
        let dashboard: Json;
        try {
          dashboard = JSON.parse(text);
        } catch (e) {
          out.push({
            where,
            error: `dashboard JSON does not parse: ${(e as Error).message}`,
            exprs: [],
          });
          continue;
        }
        const panels: Json[] = [];
        const walk = (ps: Json[]) =>
          ps?.forEach((p) => {
            panels.push(p);
            walk(p.panels);
          });
        walk(dashboard.panels ?? []);
        const exprs: QueriedExpr[] = panels.flatMap((p) =>
          (p.targets ?? [])
            .filter((t: Json) => typeof t.expr === 'string')
            .map((t: Json) => ({ expr: t.expr as string, where: `${where} panel "${p.title}"` })),
        );
        // Query variables read metrics too: label_values(<selector>, label), query_result(<expr>).
        for (const v of dashboard.templating?.list ?? []) {
          if (v.type !== 'query') continue;
          const q = String(typeof v.query === 'string' ? v.query : (v.query?.query ?? ''));
          const inner =
            /^\s*(?:label_values\((.+),\s*[a-zA-Z_][a-zA-Z0-9_]*\s*\)|query_result\((.+)\))\s*$/.exec(
              q,
            );
          if (inner) {
            exprs.push({ expr: inner[1] ?? inner[2], where: `${where} variable $${v.name}` });
          }
        }
        out.push({ where, dashboard, exprs });
      }
    }
  }
  return out;
}
