// The offline checks behind `npm run validate:gitops`. Each returns the problems it found as
// readable messages; an empty list is a pass. tools/validate-gitops/planted.spec.ts shows each one
// failing on a planted mistake.
import * as path from 'node:path';
import { parse, stringify } from 'yaml';
import {
  CONTRACT_DEFAULTS,
  get,
  selectorMatches,
  STARTUP_BUDGET_SECONDS,
  type AppInfo,
  type Context,
  type Deployable,
  type HelmRelease,
  type Json,
} from './context';
import {
  checkQuantileThresholdsOnBuckets,
  checkQueriedMetricsExist,
  expandGrafanaVariables,
  queriedMetrics,
  selectors,
  type QueriedExpr,
} from './promql';
import type { K8sObject } from './render';
import { describe, findUnknownFields, validateWithModels } from './schema';
import { STACK_METRICS } from './stack-metrics';
import { promtoolOnFiles } from './tools';

export interface Check {
  id: string;
  title: string;
  run(ctx: Context): string[] | Promise<string[]>;
}

// ---------- small helpers ----------

const ofKind = (objects: K8sObject[], kind: string) =>
  objects.filter((o) => o.kind === kind) as Array<K8sObject & Json>;

/** Kubernetes CPU quantity in cores. */
export function cpuCores(q: unknown): number | undefined {
  if (typeof q === 'number') return q;
  if (typeof q !== 'string') return undefined;
  const m = /^(\d+(?:\.\d+)?)(m?)$/.exec(q.trim());
  if (!m) return undefined;
  return m[2] === 'm' ? Number(m[1]) / 1000 : Number(m[1]);
}

/** Kubernetes memory quantity in bytes. */
export function memoryBytes(q: unknown): number | undefined {
  if (typeof q === 'number') return q;
  if (typeof q !== 'string') return undefined;
  const m = /^(\d+(?:\.\d+)?)(Ki|Mi|Gi|Ti|k|M|G|T)?$/.exec(q.trim());
  if (!m) return undefined;
  const mult: Record<string, number> = {
    Ki: 1024,
    Mi: 1024 ** 2,
    Gi: 1024 ** 3,
    Ti: 1024 ** 4,
    k: 1e3,
    M: 1e6,
    G: 1e9,
    T: 1e12,
  };
  return Number(m[1]) * (m[2] ? mult[m[2]] : 1);
}

/** NGINX size ("25m", "1g", "512k", bytes without suffix). */
export function nginxSizeBytes(v: unknown): number | undefined {
  const m = /^(\d+)([kKmMgG]?)$/.exec(String(v ?? '').trim());
  if (!m) return undefined;
  const mult: Record<string, number> = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 };
  return Number(m[1]) * mult[m[2].toLowerCase()];
}

/** NGINX time ("30s", "1m", "500ms", seconds without suffix). */
export function nginxTimeMs(v: unknown): number | undefined {
  const m = /^(\d+)(ms|s|m|h)?$/.exec(String(v ?? '').trim());
  if (!m) return undefined;
  const mult: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
  return Number(m[1]) * mult[m[2] ?? 's'];
}

function envValue(container: Json, name: string): string | undefined {
  const e = (container.env ?? []).find((x: Json) => x.name === name);
  return e?.value ?? (e ? undefined : CONTRACT_DEFAULTS[name]);
}

function podsOf(objects: K8sObject[]): Array<{ owner: Json; pod: Json }> {
  return [...ofKind(objects, 'Deployment'), ...ofKind(objects, 'StatefulSet')].map((d) => ({
    owner: d,
    pod: d.spec?.template ?? {},
  }));
}

/** The Deployment whose pods a Service (or other selector) selects. */
function workloadFor(
  objects: K8sObject[],
  selector: Record<string, string> | undefined,
): Json | undefined {
  if (!selector) return undefined;
  return podsOf(objects).find(({ pod }) =>
    selectorMatches({ matchLabels: selector }, pod.metadata?.labels),
  )?.owner;
}

function containerPortNames(workload: Json): Array<string | number> {
  return (workload?.spec?.template?.spec?.containers ?? []).flatMap((c: Json) =>
    (c.ports ?? []).flatMap((p: Json) => [p.name, p.containerPort]),
  );
}

function monitoringStack(ctx: Context): HelmRelease | undefined {
  return ctx.helmReleases.find((r) => r.chart === 'kube-prometheus-stack');
}

function ingressController(ctx: Context): HelmRelease | undefined {
  return ctx.helmReleases.find((r) => r.chart === 'nginx-ingress');
}

function namespaceOf(app: AppInfo): string | undefined {
  return app.app.spec?.destination?.namespace;
}

/** Labels kube-prometheus-stack's Prometheus requires on ServiceMonitors / rules. */
function stackSelector(stack: HelmRelease, kind: 'serviceMonitor' | 'rule'): Json {
  const spec = get(stack.values, 'prometheus.prometheusSpec') ?? {};
  const explicit = spec[`${kind}Selector`];
  const nilUsesHelm = spec[`${kind}SelectorNilUsesHelmValues`] ?? true;
  if (explicit && Object.keys(explicit).length) return explicit;
  // The chart's default: select on release=<release name> unless told to select everything.
  return nilUsesHelm ? { matchLabels: { release: stack.releaseName } } : {};
}

function rulesOf(d: Deployable): Array<{ rule: K8sObject & Json; groups: Json[] }> {
  return ofKind(d.objects, 'PrometheusRule').map((rule) => ({
    rule,
    groups: rule.spec?.groups ?? [],
  }));
}

function alertsOf(d: Deployable): Json[] {
  return rulesOf(d).flatMap(({ groups }) =>
    groups.flatMap((g: Json) => (g.rules ?? []).filter((r: Json) => r.alert)),
  );
}

/** promtool's own parser on one expression, via a one-rule recording-rules file. */
function promtoolParse(expr: string): string | undefined {
  const r = promtoolOnFiles(['check', 'rules', 'expr.rules.yaml'], {
    'expr.rules.yaml': stringify({
      groups: [{ name: 'parse', rules: [{ record: 'parse:check', expr }] }],
    }),
  });
  return r.ok
    ? undefined
    : r.output
        .split('\n')
        .filter((l) => /error|parse/i.test(l))
        .join(' ')
        .trim() || r.output;
}

interface DashboardInfo {
  where: string;
  dashboard?: Json;
  error?: string;
  exprs: QueriedExpr[];
}

function dashboardsOf(ctx: Context): DashboardInfo[] {
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

function alertExprs(ctx: Context): QueriedExpr[] {
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

// ---------- the checks ----------

const kustomizeBuild: Check = {
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

const schema: Check = {
  id: 'schema',
  title:
    'every rendered object matches its schema (Kubernetes, Argo CD and prometheus-operator CRDs), unknown fields rejected',
  run(ctx) {
    const seen = new Set<string>();
    const objects: K8sObject[] = [];
    const add = (o: K8sObject) => {
      const key = JSON.stringify(o);
      if (seen.has(key)) return;
      seen.add(key);
      objects.push(o);
    };
    ctx.folders.forEach((f) => f.objects.forEach(add));
    // Patches cut with a remote base are full objects too; check them on their own.
    ctx.folders.forEach((f) => f.droppedPatches.forEach((p) => p.objects.forEach(add)));
    return [...objects.flatMap(validateWithModels), ...findUnknownFields(objects)];
  },
};

const applicationPolicy: Check = {
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

const projects: Check = {
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

const SEMVER = /^\d+\.\d+\.\d+$/;
const PINNED_REMOTE = /\/v\d+\.\d+\.\d+\/|[?&]ref=(v\d+\.\d+\.\d+|[0-9a-f]{40})\b/;

const pinned: Check = {
  id: 'pinned-versions',
  title:
    'charts, remote bases and images pinned: exact chart versions, tagged Argo CD, images by git SHA (never latest)',
  run(ctx) {
    const problems: string[] = [];
    for (const a of ctx.applications) {
      for (const s of a.sources) {
        const id = `Application ${a.app.metadata.name} source ${s.chart ?? s.repoURL}`;
        if (s.chart) {
          if (!SEMVER.test(s.targetRevision ?? '')) {
            problems.push(
              `${id}: chart targetRevision "${s.targetRevision ?? ''}" must be an exact version like 1.2.3`,
            );
          }
        } else if (!s.targetRevision || /^(HEAD|\*|latest)$/i.test(s.targetRevision)) {
          problems.push(
            `${id}: targetRevision must name a branch, tag or commit, not "${s.targetRevision ?? ''}"`,
          );
        }
      }
    }
    for (const f of ctx.folders) {
      for (const r of f.remoteResources) {
        if (!PINNED_REMOTE.test(r)) {
          problems.push(`${f.dir}: remote resource ${r} is not pinned to a release tag or commit`);
        }
      }
    }
    for (const d of ctx.deployables) {
      for (const { owner, pod } of podsOf(d.objects)) {
        for (const c of [...(pod.spec?.initContainers ?? []), ...(pod.spec?.containers ?? [])]) {
          const image: string = c.image ?? '';
          const where = `${d.dir}: ${describe(owner)} container ${c.name}`;
          const digest = /@sha256:[0-9a-f]{64}$/.test(image);
          const tag = /:([^/:@]+)$/.exec(image)?.[1];
          if (digest) continue;
          if (!tag) {
            problems.push(`${where}: image "${image}" has no tag (Kubernetes pulls :latest)`);
          } else if (tag === 'latest') {
            problems.push(`${where}: image "${image}" uses the moving tag latest`);
          } else if (!/^[0-9a-f]{7,40}$/.test(tag)) {
            problems.push(`${where}: image "${image}" tag "${tag}" is not an immutable git SHA`);
          }
          if (!image.includes('/')) {
            problems.push(
              `${where}: image "${image}" names no registry (the overlay's images: newName is missing)`,
            );
          }
        }
      }
    }
    return problems;
  },
};

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

const syncOrder: Check = {
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
      .flatMap((f) => [...f.objects, ...f.droppedPatches.flatMap((p) => p.objects)])
      .find((o) => o.kind === 'ConfigMap' && o.metadata.name === 'argocd-cm') as Json;
    if (!cm?.data?.['resource.customizations.health.argoproj.io_Application']) {
      problems.push(
        'gitops/bootstrap: argocd-cm has no resource.customizations.health.argoproj.io_Application, so the root app ignores child health and sync waves do not order the apps',
      );
    }
    return problems;
  },
};

const workloads: Check = {
  id: 'workload-policy',
  title:
    'containers: resources (CPU requests = limits, threads from the limit), probes fitting model warm-up, non-root hardening, graceful drain',
  run(ctx) {
    const problems: string[] = [];
    for (const d of ctx.deployables) {
      for (const { owner, pod } of podsOf(d.objects)) {
        const ps = pod.spec ?? {};
        const podSec = ps.securityContext ?? {};
        for (const c of ps.containers ?? []) {
          const id = `${d.dir}: ${describe(owner)} container ${c.name}`;
          const sec = c.securityContext ?? {};
          // Resources
          const req = c.resources?.requests ?? {};
          const lim = c.resources?.limits ?? {};
          for (const r of ['cpu', 'memory']) {
            if (req[r] === undefined) problems.push(`${id}: resources.requests.${r} is not set`);
            if (lim[r] === undefined) problems.push(`${id}: resources.limits.${r} is not set`);
          }
          const cpuReq = cpuCores(req.cpu);
          const cpuLim = cpuCores(lim.cpu);
          if (cpuReq !== undefined && cpuLim !== undefined && cpuReq !== cpuLim) {
            problems.push(
              `${id}: CPU request ${req.cpu} differs from limit ${lim.cpu}; inference is CPU-bound, so they must be equal`,
            );
          }
          const memReq = memoryBytes(req.memory);
          const memLim = memoryBytes(lim.memory);
          if (memReq !== undefined && memLim !== undefined && memReq > memLim) {
            problems.push(`${id}: memory request above its limit`);
          }
          // Engine threads follow the CPU limit. The service counts floor(CPU quota) cores and
          // refuses to start when ENGINE_WORKERS x ENGINE_THREADS exceeds them, while a
          // resourceFieldRef on limits.cpu rounds up: the two agree only on whole cores.
          const threads = (c.env ?? []).find((e: Json) => e.name === 'ENGINE_THREADS');
          const workers = Number(envValue(c, 'ENGINE_WORKERS') ?? 1);
          const budget = cpuLim !== undefined ? Math.max(1, Math.floor(cpuLim)) : undefined;
          if (!threads) {
            problems.push(
              `${id}: ENGINE_THREADS is not set; derive it from the CPU limit (valueFrom.resourceFieldRef limits.cpu)`,
            );
          } else if (threads.valueFrom?.resourceFieldRef) {
            const ref = threads.valueFrom.resourceFieldRef;
            if (
              ref.resource !== 'limits.cpu' ||
              (ref.containerName && ref.containerName !== c.name) ||
              (ref.divisor !== undefined && String(ref.divisor) !== '1')
            ) {
              problems.push(
                `${id}: ENGINE_THREADS must come from this container's limits.cpu with divisor 1`,
              );
            }
            if (cpuLim !== undefined && !Number.isInteger(cpuLim)) {
              problems.push(
                `${id}: CPU limit ${lim.cpu} is not a whole number of cores: ENGINE_THREADS becomes ${Math.ceil(cpuLim)} (rounded up) but the service's CPU budget is ${budget}, so it refuses to start`,
              );
            } else if (budget !== undefined && workers * budget > budget) {
              problems.push(
                `${id}: ENGINE_WORKERS=${workers} x ENGINE_THREADS=${budget} oversubscribes ${lim.cpu} CPU; the service refuses to start`,
              );
            }
          } else if (budget !== undefined) {
            const n = Number(threads.value);
            if (!Number.isInteger(n) || n < 1 || workers * n > budget) {
              problems.push(
                `${id}: ENGINE_WORKERS=${workers} x ENGINE_THREADS=${threads.value} does not fit the CPU limit ${lim.cpu} (${budget} whole cores); the service refuses to start`,
              );
            }
          }
          // Probes
          const ports = [
            ...(c.ports ?? []).map((p: Json) => p.name),
            ...(c.ports ?? []).map((p: Json) => p.containerPort),
          ];
          const probes: Array<[string, string]> = [
            ['startupProbe', '/health/startup'],
            ['readinessProbe', '/health/ready'],
            ['livenessProbe', '/health/live'],
          ];
          for (const [kind, wantPath] of probes) {
            const p = c[kind];
            if (!p) {
              problems.push(`${id}: ${kind} is missing`);
              continue;
            }
            if (p.httpGet?.path !== wantPath) {
              problems.push(
                `${id}: ${kind} must probe ${wantPath}, not ${p.httpGet?.path ?? '(no httpGet)'}`,
              );
            }
            if (p.httpGet && !ports.includes(p.httpGet.port)) {
              problems.push(`${id}: ${kind} port ${p.httpGet.port} is not a port of the container`);
            }
          }
          const sp = c.startupProbe;
          const startupBudget = sp
            ? (sp.initialDelaySeconds ?? 0) + (sp.periodSeconds ?? 10) * (sp.failureThreshold ?? 3)
            : 0;
          if (sp && startupBudget < STARTUP_BUDGET_SECONDS) {
            problems.push(
              `${id}: startupProbe allows ${startupBudget}s (initialDelay + period x failureThreshold) but model load + warm-up may take ${STARTUP_BUDGET_SECONDS}s`,
            );
          }
          const rp = c.readinessProbe;
          if (rp && (rp.periodSeconds ?? 10) * (rp.failureThreshold ?? 3) > 30) {
            problems.push(
              `${id}: readinessProbe takes over 30s to notice a draining pod; traffic would keep arriving after SIGTERM`,
            );
          }
          const lp = c.livenessProbe;
          if (lp && (lp.timeoutSeconds ?? 1) < 2) {
            problems.push(
              `${id}: livenessProbe timeout below 2s restarts pods that are merely busy with inference`,
            );
          }
          const deadline = owner.spec?.progressDeadlineSeconds ?? 600;
          if (owner.kind === 'Deployment' && deadline <= startupBudget) {
            problems.push(
              `${id}: progressDeadlineSeconds ${deadline} is not above the startup budget ${startupBudget}s; rollouts would be marked failed while pods warm up`,
            );
          }
          // Security
          const runAsNonRoot = sec.runAsNonRoot ?? podSec.runAsNonRoot;
          const runAsUser = sec.runAsUser ?? podSec.runAsUser;
          if (runAsNonRoot !== true) problems.push(`${id}: runAsNonRoot must be true`);
          if (runAsUser === 0) problems.push(`${id}: runAsUser must not be 0`);
          if (sec.readOnlyRootFilesystem !== true) {
            problems.push(`${id}: securityContext.readOnlyRootFilesystem must be true`);
          }
          if (sec.allowPrivilegeEscalation !== false) {
            problems.push(`${id}: securityContext.allowPrivilegeEscalation must be false`);
          }
          if (!(sec.capabilities?.drop ?? []).map((x: string) => x.toUpperCase()).includes('ALL')) {
            problems.push(`${id}: securityContext.capabilities.drop must include ALL`);
          }
          if (sec.capabilities?.add?.length) {
            problems.push(`${id}: must not add capabilities (${sec.capabilities.add.join(', ')})`);
          }
          if ((sec.seccompProfile?.type ?? podSec.seccompProfile?.type) !== 'RuntimeDefault') {
            problems.push(`${id}: seccompProfile.type must be RuntimeDefault`);
          }
          if (sec.readOnlyRootFilesystem === true) {
            const tmp = (c.volumeMounts ?? []).find((m: Json) => m.mountPath === '/tmp');
            const vol = tmp && (ps.volumes ?? []).find((v: Json) => v.name === tmp.name);
            if (!vol?.emptyDir) {
              problems.push(
                `${id}: read-only root filesystem without a writable emptyDir at /tmp (the contract asks for one)`,
              );
            }
          }
          // Drain: preStop pause + SHUTDOWN_TIMEOUT_MS must fit in the grace period.
          const pre = c.lifecycle?.preStop;
          const preStopSeconds =
            pre?.sleep?.seconds ??
            Number(/sleep\s+(\d+)/.exec((pre?.exec?.command ?? []).join(' '))?.[1] ?? NaN);
          if (!pre) {
            problems.push(
              `${id}: no lifecycle.preStop pause; endpoints may still route to the pod after SIGTERM`,
            );
          } else if (!Number.isFinite(preStopSeconds)) {
            problems.push(`${id}: lifecycle.preStop must be a sleep of a known length`);
          }
          const shutdownS = Number(envValue(c, 'SHUTDOWN_TIMEOUT_MS')) / 1000;
          const grace = ps.terminationGracePeriodSeconds ?? 30;
          const needed = shutdownS + (Number.isFinite(preStopSeconds) ? preStopSeconds : 0);
          if (!(grace > needed)) {
            problems.push(
              `${id}: terminationGracePeriodSeconds ${grace} must exceed preStop (${preStopSeconds || 0}s) + SHUTDOWN_TIMEOUT_MS (${shutdownS}s) = ${needed}s`,
            );
          }
        }
      }
    }
    return problems;
  },
};

const ingress: Check = {
  id: 'ingress',
  title:
    "Ingress: the chosen controller's class and nginx.org annotations, body size above the upload limit, timeouts above the deadline, public paths only",
  run(ctx) {
    const problems: string[] = [];
    const controller = ingressController(ctx);
    const className = get(controller?.values, 'controller.ingressClass.name') ?? 'nginx';
    for (const d of ctx.deployables) {
      for (const ing of ofKind(d.objects, 'Ingress')) {
        const id = `${d.dir}: ${describe(ing)}`;
        const ann: Record<string, string> = ing.metadata.annotations ?? {};
        if (ing.spec?.ingressClassName !== className) {
          problems.push(
            `${id}: ingressClassName "${ing.spec?.ingressClassName ?? ''}" is not the controller's class "${className}"`,
          );
        }
        for (const k of Object.keys(ann)) {
          if (k.startsWith('nginx.ingress.kubernetes.io/')) {
            problems.push(
              `${id}: annotation ${k} belongs to the retired community ingress-nginx; F5 NGINX Ingress Controller ignores it (use nginx.org/*)`,
            );
          }
          if (k === 'kubernetes.io/ingress.class') {
            problems.push(
              `${id}: the kubernetes.io/ingress.class annotation is deprecated; use spec.ingressClassName`,
            );
          }
        }
        for (const rule of ing.spec?.rules ?? []) {
          if (!rule.host) problems.push(`${id}: a rule has no host`);
          for (const p of rule.http?.paths ?? []) {
            const svcName = p.backend?.service?.name;
            const svc = ofKind(d.objects, 'Service').find((s) => s.metadata.name === svcName);
            if (!svc) {
              problems.push(
                `${id}: path ${p.path} routes to Service ${svcName}, which this app does not deploy`,
              );
              continue;
            }
            const port = p.backend.service.port ?? {};
            if (
              !(svc.spec?.ports ?? []).some(
                (sp: Json) => sp.name === port.name || sp.port === port.number,
              )
            ) {
              problems.push(
                `${id}: path ${p.path} uses port ${port.name ?? port.number}, which Service ${svcName} does not expose`,
              );
            }
            const exposes = (internal: string) =>
              p.pathType === 'Exact'
                ? p.path === internal
                : internal === p.path ||
                  internal.startsWith(p.path.endsWith('/') ? p.path : `${p.path}/`) ||
                  p.path === '/';
            for (const internal of ['/metrics', '/health/ready']) {
              if (exposes(internal)) {
                problems.push(
                  `${id}: path ${p.path} (${p.pathType}) exposes ${internal} to the internet; route only the public API`,
                );
              }
            }
            const workload = workloadFor(d.objects, svc.spec?.selector);
            const c = workload?.spec?.template?.spec?.containers?.[0];
            if (!c) continue;
            const maxUpload = Number(envValue(c, 'MAX_UPLOAD_BYTES'));
            const deadline = Number(envValue(c, 'REQUEST_TIMEOUT_MS'));
            const body = nginxSizeBytes(ann['nginx.org/client-max-body-size']);
            if (body === undefined) {
              problems.push(
                `${id}: nginx.org/client-max-body-size is missing or unreadable; the controller default (1m) rejects uploads the service accepts`,
              );
            } else if (!(body > maxUpload)) {
              problems.push(
                `${id}: nginx.org/client-max-body-size ${ann['nginx.org/client-max-body-size']} is not above MAX_UPLOAD_BYTES ${maxUpload}; NGINX would answer 413 before the service`,
              );
            }
            for (const key of ['nginx.org/proxy-read-timeout', 'nginx.org/proxy-send-timeout']) {
              const t = nginxTimeMs(ann[key]);
              if (t === undefined) {
                problems.push(`${id}: ${key} is missing or unreadable`);
              } else if (!(t > deadline)) {
                problems.push(
                  `${id}: ${key} ${ann[key]} is not above REQUEST_TIMEOUT_MS ${deadline}ms; NGINX would cut requests the service still answers`,
                );
              }
            }
          }
        }
      }
    }
    return [...new Set(problems)];
  },
};

const availability: Check = {
  id: 'availability',
  title:
    'HorizontalPodAutoscaler (min 2) owns the replicas, PodDisruptionBudget lets drains proceed',
  run(ctx) {
    const problems: string[] = [];
    for (const d of ctx.deployables) {
      for (const dep of ofKind(d.objects, 'Deployment')) {
        const id = `${d.dir}: ${describe(dep)}`;
        const hpa = ofKind(d.objects, 'HorizontalPodAutoscaler').find(
          (h) =>
            h.spec?.scaleTargetRef?.kind === 'Deployment' &&
            h.spec?.scaleTargetRef?.name === dep.metadata.name,
        );
        if (!hpa) {
          problems.push(`${id}: no HorizontalPodAutoscaler targets it`);
        } else {
          if (!((hpa.spec?.minReplicas ?? 1) >= 2)) {
            problems.push(`${id}: HPA minReplicas ${hpa.spec?.minReplicas ?? 1} is below 2`);
          }
          if (!(hpa.spec?.maxReplicas >= (hpa.spec?.minReplicas ?? 1))) {
            problems.push(`${id}: HPA maxReplicas below minReplicas`);
          }
          if (dep.spec?.replicas !== undefined) {
            problems.push(
              `${id}: sets spec.replicas while an HPA scales it; Argo CD self-heal would reset every scale-out`,
            );
          }
        }
        const labels = dep.spec?.template?.metadata?.labels;
        const pdb = ofKind(d.objects, 'PodDisruptionBudget').find((p) =>
          selectorMatches(p.spec?.selector, labels),
        );
        if (!pdb) {
          problems.push(`${id}: no PodDisruptionBudget selects its pods`);
        } else {
          const min = hpa?.spec?.minReplicas ?? 1;
          const { maxUnavailable, minAvailable } = pdb.spec ?? {};
          if (maxUnavailable !== undefined && (maxUnavailable === 0 || maxUnavailable === '0%')) {
            problems.push(`${id}: PodDisruptionBudget maxUnavailable 0 blocks every node drain`);
          }
          if (typeof minAvailable === 'number' && minAvailable >= min) {
            problems.push(
              `${id}: PodDisruptionBudget minAvailable ${minAvailable} >= HPA minReplicas ${min} blocks node drains at minimum scale`,
            );
          }
          if (maxUnavailable === undefined && minAvailable === undefined) {
            problems.push(
              `${id}: PodDisruptionBudget sets neither maxUnavailable nor minAvailable`,
            );
          }
        }
      }
    }
    return problems;
  },
};

const networkPolicy: Check = {
  id: 'network-policy',
  title: 'NetworkPolicy: only the ingress controller and Prometheus reach the pods',
  run(ctx) {
    const problems: string[] = [];
    const ingressNs = ingressController(ctx) && namespaceOf(ingressController(ctx)!.app);
    const monitoringNs = monitoringStack(ctx) && namespaceOf(monitoringStack(ctx)!.app);
    for (const d of ctx.deployables) {
      for (const dep of ofKind(d.objects, 'Deployment')) {
        const id = `${d.dir}: ${describe(dep)}`;
        const labels = dep.spec?.template?.metadata?.labels;
        const policies = ofKind(d.objects, 'NetworkPolicy').filter(
          (n) =>
            selectorMatches(n.spec?.podSelector, labels) &&
            (n.spec?.policyTypes ?? ['Ingress']).includes('Ingress'),
        );
        if (!policies.length) {
          problems.push(`${id}: no NetworkPolicy restricts ingress to its pods`);
          continue;
        }
        const ports = containerPortNames(dep);
        const reached = new Set<string>();
        for (const np of policies) {
          for (const [i, rule] of (np.spec?.ingress ?? []).entries()) {
            const rid = `${d.dir}: ${describe(np)} ingress[${i}]`;
            if (!rule.from?.length) {
              problems.push(`${rid}: has no "from", which admits traffic from anywhere`);
              continue;
            }
            for (const peer of rule.from) {
              if (peer.ipBlock) {
                problems.push(`${rid}: ipBlock peers admit traffic from outside the cluster`);
              }
              const ns = peer.namespaceSelector?.matchLabels?.['kubernetes.io/metadata.name'];
              if (!ns) {
                problems.push(
                  `${rid}: every peer must name its namespace (namespaceSelector on kubernetes.io/metadata.name)`,
                );
              } else if (ns !== ingressNs && ns !== monitoringNs) {
                problems.push(
                  `${rid}: admits namespace "${ns}", which is neither the ingress controller's (${ingressNs}) nor Prometheus' (${monitoringNs})`,
                );
              }
              if (!peer.podSelector || !Object.keys(peer.podSelector.matchLabels ?? {}).length) {
                problems.push(
                  `${rid}: peer in namespace ${ns} must also select the pods (podSelector), not the whole namespace`,
                );
              }
              if (ns) reached.add(ns);
            }
            for (const p of rule.ports ?? []) {
              if (!ports.includes(p.port)) {
                problems.push(`${rid}: port ${p.port} is not a port of ${describe(dep)}`);
              }
            }
          }
        }
        if (ingressNs && !reached.has(ingressNs)) {
          problems.push(
            `${id}: the NetworkPolicy does not admit the ingress controller (namespace ${ingressNs}); user traffic would be dropped`,
          );
        }
        if (monitoringNs && !reached.has(monitoringNs)) {
          problems.push(
            `${id}: the NetworkPolicy does not admit Prometheus (namespace ${monitoringNs}); scrapes would fail`,
          );
        }
      }
    }
    return problems;
  },
};

const monitoringWiring: Check = {
  id: 'monitoring-wiring',
  title:
    'ServiceMonitors and rules carry the labels the stack selects, dashboards the sidecar label, Grafana/Prometheus/Alertmanager on ingress sub-paths, admin password out of git',
  run(ctx) {
    const problems: string[] = [];
    const stack = monitoringStack(ctx);
    if (!stack) return ['no Application installs the kube-prometheus-stack chart'];
    const v = stack.values;
    const smSel = stackSelector(stack, 'serviceMonitor');
    const ruleSel = stackSelector(stack, 'rule');
    for (const d of ctx.deployables) {
      for (const sm of ofKind(d.objects, 'ServiceMonitor')) {
        const id = `${d.dir}: ${describe(sm)}`;
        if (!selectorMatches(smSel, sm.metadata.labels)) {
          problems.push(
            `${id}: labels ${JSON.stringify(sm.metadata.labels ?? {})} do not match the stack's serviceMonitorSelector ${JSON.stringify(smSel)}; Prometheus would ignore it`,
          );
        }
        const svcs = ofKind(d.objects, 'Service').filter((s) =>
          selectorMatches(sm.spec?.selector, s.metadata.labels),
        );
        if (!svcs.length) problems.push(`${id}: selector matches no Service of this app`);
        for (const ep of sm.spec?.endpoints ?? []) {
          if (!svcs.some((s) => (s.spec?.ports ?? []).some((p: Json) => p.name === ep.port))) {
            problems.push(
              `${id}: endpoint port "${ep.port}" is not a named port of the selected Service`,
            );
          }
          if (ep.path && ep.path !== '/metrics') {
            problems.push(`${id}: scrapes ${ep.path}; the service exports /metrics`);
          }
        }
      }
      for (const pr of ofKind(d.objects, 'PrometheusRule')) {
        if (!selectorMatches(ruleSel, pr.metadata.labels)) {
          problems.push(
            `${d.dir}: ${describe(pr)}: labels ${JSON.stringify(pr.metadata.labels ?? {})} do not match the stack's ruleSelector ${JSON.stringify(ruleSel)}; the alerts would never load`,
          );
        }
      }
    }
    // Queries pinned to a job must name the job Prometheus gives the scraped Service (its
    // name, or the label named by jobLabel); renaming the Service silently empties them.
    const dashboards = dashboardsOf(ctx);
    for (const d of ctx.deployables) {
      const jobs = new Set<string>();
      for (const sm of ofKind(d.objects, 'ServiceMonitor')) {
        for (const svc of ofKind(d.objects, 'Service').filter((x) =>
          selectorMatches(sm.spec?.selector, x.metadata.labels),
        )) {
          jobs.add(sm.spec?.jobLabel ? svc.metadata.labels?.[sm.spec.jobLabel] : svc.metadata.name);
        }
      }
      const exprs = [
        ...alertExprs(ctx).filter((e) => e.where.startsWith(`${d.dir}:`)),
        ...dashboards.filter((db) => db.where.startsWith(`${d.dir}:`)).flatMap((db) => db.exprs),
      ];
      for (const e of exprs) {
        for (const sel of selectors(expandGrafanaVariables(e.expr)).selectors) {
          for (const m of sel.matchers) {
            if (m.label === 'job' && m.op === '=' && !jobs.has(m.value)) {
              problems.push(
                `${e.where}: selects job="${m.value}", but this app's ServiceMonitor scrapes job ${[...jobs].map((j) => `"${j}"`).join(', ') || '(none)'}; the query would stay empty`,
              );
            }
          }
        }
      }
    }
    // The ingress controller's own metrics.
    const ic = ingressController(ctx);
    if (ic) {
      const p = ic.values.prometheus ?? {};
      if (p.create !== true) {
        problems.push(
          `Application ${ic.app.app.metadata.name}: prometheus.create must be true (controller metrics on)`,
        );
      }
      if (p.service?.create !== true) {
        problems.push(
          `Application ${ic.app.app.metadata.name}: prometheus.service.create must be true (the ServiceMonitor scrapes that Service)`,
        );
      }
      if (p.serviceMonitor?.create !== true) {
        problems.push(
          `Application ${ic.app.app.metadata.name}: prometheus.serviceMonitor.create must be true`,
        );
      } else if (!selectorMatches(smSel, p.serviceMonitor.labels)) {
        problems.push(
          `Application ${ic.app.app.metadata.name}: prometheus.serviceMonitor.labels do not match the stack's serviceMonitorSelector ${JSON.stringify(smSel)}`,
        );
      }
    } else {
      problems.push('no Application installs the nginx-ingress chart');
    }
    // Dashboards reach Grafana through the sidecar.
    const side = get(v, 'grafana.sidecar.dashboards') ?? {};
    const label = side.label ?? 'grafana_dashboard';
    const labelValue = String(side.labelValue ?? '1');
    if (side.enabled === false) {
      problems.push(
        'kube-prometheus-stack: grafana.sidecar.dashboards.enabled is false; no dashboard ConfigMap would load',
      );
    }
    const dashboardMaps = ctx.deployables.flatMap((d) =>
      ofKind(d.objects, 'ConfigMap')
        .filter((c) => c.metadata.labels?.[label] !== undefined)
        .map((c) => ({ d, c })),
    );
    if (!dashboardMaps.length) {
      problems.push(`no app ships a dashboard ConfigMap labelled ${label}`);
    }
    for (const { d, c } of dashboardMaps) {
      if (c.metadata.labels[label] !== labelValue) {
        problems.push(
          `${d.dir}: ${describe(c)}: label ${label}="${c.metadata.labels[label]}" but the sidecar loads "${labelValue}"`,
        );
      }
      const search = side.searchNamespace;
      const ns = namespaceOf(d.app);
      if (
        ns !== namespaceOf(stack.app) &&
        search !== 'ALL' &&
        !(Array.isArray(search) ? search : String(search ?? '').split(',')).includes(ns ?? '')
      ) {
        problems.push(
          `${d.dir}: dashboard lives in namespace ${ns}, which grafana.sidecar.dashboards.searchNamespace does not cover`,
        );
      }
    }
    // Grafana admin password from a Secret that is not in git.
    if (!get(v, 'grafana.admin.existingSecret')) {
      problems.push(
        'kube-prometheus-stack: grafana.admin.existingSecret must name the out-of-git Secret with the admin password',
      );
    }
    if (get(v, 'grafana.adminPassword') !== undefined) {
      problems.push(
        'kube-prometheus-stack: grafana.adminPassword is set in git; use grafana.admin.existingSecret',
      );
    }
    const className = get(ic?.values, 'controller.ingressClass.name') ?? 'nginx';
    // Sub-paths: the ingress path and the app's own prefix must agree, or links break.
    const g = get(v, 'grafana.ingress') ?? {};
    const gPath = g.path ?? '/';
    // 'grafana.ini' is one key with a dot in it, hence the explicit lookups.
    const grafanaIni = get(v, 'grafana')?.['grafana.ini'] ?? {};
    const rootUrl = String(grafanaIni.server?.root_url ?? '');
    if (g.enabled !== true) {
      problems.push('kube-prometheus-stack: grafana.ingress.enabled must be true');
    } else {
      if (g.ingressClassName !== className) {
        problems.push(
          `kube-prometheus-stack: grafana.ingress.ingressClassName must be "${className}"`,
        );
      }
      if (gPath === '/' || !rootUrl.replace(/\/$/, '').endsWith(gPath.replace(/\/$/, ''))) {
        problems.push(
          `kube-prometheus-stack: Grafana's ingress path "${gPath}" needs grafana.ini server.root_url ending in that sub-path (is "${rootUrl}")`,
        );
      }
      if (grafanaIni.server?.serve_from_sub_path !== true) {
        problems.push(
          'kube-prometheus-stack: grafana.ini server.serve_from_sub_path must be true behind a sub-path',
        );
      }
    }
    for (const [name, specKey] of [
      ['prometheus', 'prometheusSpec'],
      ['alertmanager', 'alertmanagerSpec'],
    ] as const) {
      const ing = get(v, `${name}.ingress`) ?? {};
      const prefix = get(v, `${name}.${specKey}.routePrefix`);
      if (ing.enabled !== true) {
        problems.push(`kube-prometheus-stack: ${name}.ingress.enabled must be true`);
      } else {
        if (ing.ingressClassName !== className) {
          problems.push(
            `kube-prometheus-stack: ${name}.ingress.ingressClassName must be "${className}"`,
          );
        }
        const paths: string[] = ing.paths ?? [];
        if (!prefix || prefix === '/' || !paths.includes(prefix)) {
          problems.push(
            `kube-prometheus-stack: ${name}.ingress.paths ${JSON.stringify(paths)} must serve ${name}.${specKey}.routePrefix (${prefix ?? 'unset'}) on a sub-path`,
          );
        }
      }
    }
    return problems;
  },
};

const REQUIRED_ALERT_SIGNALS: Array<{ what: string; metrics: string[] }> = [
  { what: 'error ratio', metrics: ['http_request_duration_seconds_count', 'caption_errors_total'] },
  { what: 'p95 latency', metrics: ['http_request_duration_seconds_bucket'] },
  {
    what: 'queue saturation / 429 rate',
    metrics: ['caption_queue_depth', 'caption_queue_rejections_total'],
  },
  {
    what: 'pods not ready',
    metrics: ['kube_pod_status_ready', 'kube_deployment_status_replicas_available'],
  },
  { what: 'model load failure', metrics: ['caption_model_ready'] },
];

const alertRules: Check = {
  id: 'alert-rules',
  title:
    'alert rules pass `promtool check rules`, cover the required signals, and carry severity, summary and runbook',
  run(ctx) {
    const problems: string[] = [];
    for (const d of ctx.deployables) {
      const rules = rulesOf(d);
      if (!ofKind(d.objects, 'Deployment').length) continue;
      if (!rules.length) {
        problems.push(`${d.dir}: deploys a workload but no PrometheusRule`);
        continue;
      }
      for (const { rule, groups } of rules) {
        const file = `${rule.metadata.name}.rules.yaml`;
        const r = promtoolOnFiles(['check', 'rules', file], { [file]: stringify({ groups }) });
        if (!r.ok) {
          problems.push(`${d.dir}: ${describe(rule)}: promtool check rules failed: ${r.output}`);
        }
      }
      for (const a of alertsOf(d)) {
        const id = `${d.dir}: alert ${a.alert}`;
        if (!['critical', 'warning', 'info'].includes(a.labels?.severity)) {
          problems.push(`${id}: labels.severity must be critical, warning or info`);
        }
        if (!a.annotations?.summary) problems.push(`${id}: annotations.summary is missing`);
        if (!a.annotations?.description) problems.push(`${id}: annotations.description is missing`);
        if (!a.annotations?.runbook && !a.annotations?.runbook_url) {
          problems.push(`${id}: needs runbook text (annotations.runbook or runbook_url)`);
        }
        if (!a.for) problems.push(`${id}: has no "for"; one bad scrape would page`);
      }
      const queried = new Set(alertsOf(d).flatMap((a) => queriedMetrics(String(a.expr)).names));
      for (const s of REQUIRED_ALERT_SIGNALS) {
        if (!s.metrics.some((m) => queried.has(m))) {
          problems.push(
            `${d.dir}: no alert covers ${s.what} (expected one on ${s.metrics.join(' or ')})`,
          );
        }
      }
    }
    return problems;
  },
};

const alertTests: Check = {
  id: 'alert-tests',
  title: '`promtool test rules` passes on the rendered rules, with a firing test for every alert',
  run(ctx) {
    const problems: string[] = [];
    for (const d of ctx.deployables) {
      const rules = rulesOf(d);
      if (!rules.length) continue;
      const appDir = d.dir.replace(/\/overlays\/[^/]+$/, '');
      const testRel = `${appDir}/tests/alerts.test.yaml`;
      const testText = ctx.readRepoFile(testRel);
      if (!testText) {
        problems.push(`${d.dir}: no promtool unit tests at ${testRel}`);
        continue;
      }
      const tests = parse(testText) ?? {};
      const ruleFiles: string[] = tests.rule_files ?? [];
      if (ruleFiles.length !== 1 || ruleFiles[0].includes('/')) {
        problems.push(
          `${testRel}: rule_files must name exactly one file beside the test, which the validator fills with the rendered rules`,
        );
        continue;
      }
      const r = promtoolOnFiles(['test', 'rules', 'alerts.test.yaml'], {
        [path.basename(ruleFiles[0])]: stringify({ groups: rules.flatMap((x) => x.groups) }),
        'alerts.test.yaml': testText,
      });
      if (!r.ok) problems.push(`${d.dir}: promtool test rules ${testRel} failed:\n${r.output}`);
      const tested = new Set<string>();
      for (const t of tests.tests ?? []) {
        for (const a of t.alert_rule_test ?? []) if (a.exp_alerts?.length) tested.add(a.alertname);
      }
      for (const a of alertsOf(d)) {
        if (!tested.has(a.alert)) {
          problems.push(
            `${d.dir}: alert ${a.alert} has no unit test in ${testRel} that expects it to fire`,
          );
        }
      }
    }
    return [...new Set(problems)];
  },
};

const REQUIRED_PANELS: Array<{ what: string; test: (exprs: string[]) => boolean }> = [
  {
    what: 'request rate',
    test: (e) =>
      e.some((x) =>
        /rate\(\s*(http_request_duration_seconds_count|caption_requests_total)/.test(x),
      ),
  },
  {
    what: 'error ratio by code',
    test: (e) =>
      e.some(
        (x) =>
          /by \((code|status_code)\)/.test(x) &&
          /(caption_errors_total|status_code=~"[^"]*5)/.test(x),
      ),
  },
  ...[0.5, 0.95, 0.99].map((q) => ({
    what: `latency p${q * 100}`,
    test: (e: string[]) =>
      e.some((x) =>
        new RegExp(`histogram_quantile\\(${q},[^]*http_request_duration_seconds_bucket`).test(x),
      ),
  })),
  {
    what: 'time by stage',
    test: (e) =>
      e.some((x) => /caption_stage_duration_seconds/.test(x) && /by \([^)]*stage/.test(x)),
  },
  { what: 'queue depth', test: (e) => e.some((x) => /caption_queue_depth/.test(x)) },
  { what: 'batch size', test: (e) => e.some((x) => /caption_batch_size/.test(x)) },
  {
    what: 'cache hit ratio',
    test: (e) =>
      e.some((x) => /caption_cache_hits_total/.test(x) && /caption_cache_misses_total/.test(x)),
  },
  {
    what: 'CPU per pod',
    test: (e) => e.some((x) => /container_cpu_usage_seconds_total/.test(x) && /by \(pod\)/.test(x)),
  },
  {
    what: 'memory per pod',
    test: (e) =>
      e.some((x) => /container_memory_working_set_bytes/.test(x) && /by \(pod\)/.test(x)),
  },
];

const dashboard: Check = {
  id: 'dashboard',
  title:
    "dashboards parse, every panel query passes promtool's PromQL parser, and the required panels are there",
  run(ctx) {
    const problems: string[] = [];
    const all = dashboardsOf(ctx);
    if (!all.length) problems.push('no dashboard ConfigMap is deployed');
    const uids = new Map<string, string>();
    for (const db of all) {
      if (db.error) {
        problems.push(`${db.where}: ${db.error}`);
        continue;
      }
      if (!db.dashboard.uid) {
        problems.push(
          `${db.where}: dashboard has no uid (Grafana would create a new one on every load)`,
        );
      } else if (uids.has(db.dashboard.uid) && uids.get(db.dashboard.uid) !== db.where) {
        problems.push(
          `${db.where}: uid "${db.dashboard.uid}" is also used by ${uids.get(db.dashboard.uid)}`,
        );
      } else {
        uids.set(db.dashboard.uid, db.where);
      }
      if (!db.exprs.length) problems.push(`${db.where}: has no PromQL queries`);
      for (const e of db.exprs) {
        const err = promtoolParse(expandGrafanaVariables(e.expr));
        if (err) problems.push(`${e.where}: PromQL rejected by promtool: ${err}`);
      }
      const exprs = db.exprs.map((e) => e.expr);
      for (const p of REQUIRED_PANELS) {
        if (!p.test(exprs)) problems.push(`${db.where}: no panel shows ${p.what}`);
      }
    }
    return problems;
  },
};

const queriedMetricsCheck: Check = {
  id: 'queried-metrics',
  title:
    'every metric the dashboards and alerts query is exported by the service (with the labels they match) or on the stack allow-list; latency SLO thresholds sit on bucket boundaries',
  run(ctx) {
    const exprs = [
      ...dashboardsOf(ctx).flatMap((d) =>
        d.exprs.map((e) => ({ ...e, expr: expandGrafanaVariables(e.expr) })),
      ),
      ...alertExprs(ctx),
    ];
    if (!exprs.length) return ['no dashboard or alert expressions found to check'];
    return [
      ...checkQueriedMetricsExist(exprs, ctx.exposition, STACK_METRICS),
      ...checkQuantileThresholdsOnBuckets(alertExprs(ctx), ctx.exposition),
    ].map(
      (m) =>
        `${m} (metrics from ${path.relative(ctx.root, ctx.expositionSource) || ctx.expositionSource})`,
    );
  },
};

export const CHECKS: readonly Check[] = [
  kustomizeBuild,
  schema,
  applicationPolicy,
  projects,
  pinned,
  syncOrder,
  workloads,
  ingress,
  availability,
  networkPolicy,
  monitoringWiring,
  alertRules,
  alertTests,
  dashboard,
  queriedMetricsCheck,
];
