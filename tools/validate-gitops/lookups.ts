// Questions the checks ask of the rendered tree: objects of a kind, the pods a workload runs,
// which Helm release is the monitoring stack or the ingress controller, the rules and alerts an
// app deploys, and a container's effective environment.
import { DEFAULTS } from '../../service/src/config/environment';
import {
  get,
  selectorMatches,
  type AppInfo,
  type Context,
  type Deployable,
  type HelmRelease,
  type Json,
} from './context';
import type { QueriedExpr } from './promql';
import type { K8sObject } from './render';
import { describe } from './schema';

export const ofKind = (objects: K8sObject[], kind: string) =>
  objects.filter((o) => o.kind === kind) as Array<K8sObject & Json>;

/**
 * A variable's value as the container will see it: the literal env entry, else the service's
 * own default (imported from its config, so a changed default is checked at once). ENGINE_WORKERS
 * has no entry there: the service resolves it to 1 (service/src/config/app-config.ts).
 */
export function envValue(container: Json, name: string): string | undefined {
  const e = (container.env ?? []).find((x: Json) => x.name === name);
  if (e) return e.value;
  const fallback = (DEFAULTS as Record<string, unknown>)[name];
  return fallback === undefined ? undefined : String(fallback);
}
export function podsOf(objects: K8sObject[]): Array<{ owner: Json; pod: Json }> {
  return [...ofKind(objects, 'Deployment'), ...ofKind(objects, 'StatefulSet')].map((d) => ({
    owner: d,
    pod: d.spec?.template ?? {},
  }));
}

/** The Deployment whose pods a Service (or other selector) selects. */
export function workloadFor(
  objects: K8sObject[],
  selector: Record<string, string> | undefined,
): Json | undefined {
  if (!selector) return undefined;
  return podsOf(objects).find(({ pod }) =>
    selectorMatches({ matchLabels: selector }, pod.metadata?.labels),
  )?.owner;
}

export function containerPortNames(workload: Json): Array<string | number> {
  return (workload?.spec?.template?.spec?.containers ?? []).flatMap((c: Json) =>
    (c.ports ?? []).flatMap((p: Json) => [p.name, p.containerPort]),
  );
}

export function monitoringStack(ctx: Context): HelmRelease | undefined {
  return ctx.helmReleases.find((r) => r.chart === 'kube-prometheus-stack');
}

export function ingressController(ctx: Context): HelmRelease | undefined {
  return ctx.helmReleases.find((r) => r.chart === 'nginx-ingress');
}

export function namespaceOf(app: AppInfo): string | undefined {
  return app.app.spec?.destination?.namespace;
}

/** Labels kube-prometheus-stack's Prometheus requires on ServiceMonitors / rules. */
export function stackSelector(stack: HelmRelease, kind: 'serviceMonitor' | 'rule'): Json {
  const spec = get(stack.values, 'prometheus.prometheusSpec') ?? {};
  const explicit = spec[`${kind}Selector`];
  const nilUsesHelm = spec[`${kind}SelectorNilUsesHelmValues`] ?? true;
  if (explicit && Object.keys(explicit).length) return explicit;
  // The chart's default: select on release=<release name> unless told to select everything.
  return nilUsesHelm ? { matchLabels: { release: stack.releaseName } } : {};
}

export function rulesOf(d: Deployable): Array<{ rule: K8sObject & Json; groups: Json[] }> {
  return ofKind(d.objects, 'PrometheusRule').map((rule) => ({
    rule,
    groups: rule.spec?.groups ?? [],
  }));
}

export function alertsOf(d: Deployable): Json[] {
  return rulesOf(d).flatMap(({ groups }) =>
    groups.flatMap((g: Json) => (g.rules ?? []).filter((r: Json) => r.alert)),
  );
}

export function alertExprs(ctx: Context): QueriedExpr[] {
  return ctx.deployables.flatMap((d) =>
    rulesOf(d).flatMap(({ rule, groups }) =>
      groups.flatMap((g: Json) =>
        (g.rules ?? []).map((r: Json) => ({
          expr: String(r.expr),
          where: `${d.dir}: ${describe(rule)} ${r.alert ? `alert ${r.alert}` : `record ${r.record}`}`,
        })),
      ),
    ),
  );
}

export interface ContainerOf {
  /** "<folder>: <Kind ns/name> container <name>", the prefix of every message about it. */
  id: string;
  container: Json;
  /** The Deployment or StatefulSet. */
  owner: Json;
  podSpec: Json;
}

/** Every app container of every workload the Applications deploy (init containers excluded). */
export function containersOf(ctx: Context): ContainerOf[] {
  return ctx.deployables.flatMap((d) =>
    podsOf(d.objects).flatMap(({ owner, pod }) =>
      ((pod.spec?.containers ?? []) as Json[]).map((container) => ({
        id: `${d.dir}: ${describe(owner)} container ${container.name}`,
        container,
        owner,
        podSpec: pod.spec ?? {},
      })),
    ),
  );
}

export interface IngressInfo {
  /** Where it is declared, for messages. */
  where: string;
  className?: string;
  hosts: string[];
  /** Hosts its tls section covers, with the Secret each one's certificate lives in. */
  tls: Array<{ hosts: string[]; secretName?: string }>;
  annotations: Record<string, string>;
  /** The namespace it lands in. */
  namespace?: string;
}

/** The three ops UIs kube-prometheus-stack puts behind an Ingress, with their values prefix. */
export const STACK_UIS = ['grafana', 'prometheus', 'alertmanager'] as const;

/**
 * Every Ingress the platform creates: the ones our kustomizations render, and the ones the
 * charts make from their values (kube-prometheus-stack's Grafana, Prometheus and Alertmanager).
 */
export function allIngresses(ctx: Context): IngressInfo[] {
  const out: IngressInfo[] = [];
  for (const d of ctx.deployables) {
    for (const ing of ofKind(d.objects, 'Ingress')) {
      out.push({
        where: `${d.dir}: ${describe(ing)}`,
        className: ing.spec?.ingressClassName,
        hosts: (ing.spec?.rules ?? []).map((r: Json) => r.host).filter(Boolean),
        tls: (ing.spec?.tls ?? []).map((t: Json) => ({
          hosts: t.hosts ?? [],
          secretName: t.secretName,
        })),
        annotations: ing.metadata.annotations ?? {},
        namespace: ing.metadata.namespace ?? namespaceOf(d.app),
      });
    }
  }
  const stack = monitoringStack(ctx);
  for (const ui of STACK_UIS) {
    const ing = get(stack?.values, `${ui}.ingress`);
    if (!stack || ing?.enabled !== true) continue;
    out.push({
      where: `kube-prometheus-stack values ${ui}.ingress`,
      className: ing.ingressClassName,
      hosts: ing.hosts ?? [],
      tls: (ing.tls ?? []).map((t: Json) => ({ hosts: t.hosts ?? [], secretName: t.secretName })),
      annotations: ing.annotations ?? {},
      namespace: namespaceOf(stack.app),
    });
  }
  return out;
}
