// Everything the checks look at, gathered once: rendered folders, the Argo CD
// Applications and AppProjects, what each Application deploys, Helm values from git, and
// the /metrics exposition the dashboard and alerts are checked against.
import { existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { parse } from 'yaml';
import type { Check } from '../validate-common/check-runner';
import { renderAll, type K8sObject, type RenderedFolder } from './render';
import { findKustomize, type Kustomize } from './tools';
import { loadGitopsFacts, type GitopsFacts } from './upstream';

/** Model load + warm-up may take up to 5 minutes on a slow node (contract). */
export const STARTUP_BUDGET_SECONDS = 300;

/** A check of `npm run validate:gitops`: it looks at the gathered Context. */
export type GitopsCheck = Check<Context>;

export type Json = any; // eslint-disable-line @typescript-eslint/no-explicit-any

export interface AppSource {
  repoURL: string;
  targetRevision?: string;
  path?: string;
  chart?: string;
  ref?: string;
  helm?: Json;
}

export interface AppInfo {
  app: K8sObject & { spec: Json };
  /** Folder whose render contains the Application. */
  dir: string;
  sources: AppSource[];
  wave: number;
  syncOptions: string[];
}

export interface Deployable {
  app: AppInfo;
  /** Rendered folder an Application's path source points at. */
  dir: string;
  objects: K8sObject[];
}

export interface HelmRelease {
  app: AppInfo;
  chart: string;
  repoURL: string;
  releaseName: string;
  /** Value files resolved in this repo, merged in order, then valuesObject on top. */
  values: Json;
  valueFiles: string[];
  missingValueFiles: string[];
}

export interface Context {
  root: string;
  kustomize: Kustomize;
  folders: RenderedFolder[];
  applications: AppInfo[];
  projects: K8sObject[];
  deployables: Deployable[];
  helmReleases: HelmRelease[];
  /** Our own git repository, as the root Application names it. */
  repoURL?: string;
  exposition: string;
  expositionSource: string;
  /** What the pinned upstream versions provide (./upstream/). */
  facts: GitopsFacts;
  readRepoFile(rel: string): string | undefined;
}

export function sourcesOf(app: Json): AppSource[] {
  const spec = app?.spec ?? {};
  return Array.isArray(spec.sources) ? spec.sources : spec.source ? [spec.source] : [];
}

function deepMerge(a: Json, b: Json): Json {
  if (Array.isArray(b) || typeof b !== 'object' || b === null) return b;
  const out: Json = { ...(typeof a === 'object' && a && !Array.isArray(a) ? a : {}) };
  for (const [k, v] of Object.entries(b)) out[k] = deepMerge(out[k], v);
  return out;
}

function sameRepo(a?: string, b?: string): boolean {
  const norm = (u?: string) =>
    (u ?? '')
      .replace(/\.git$/, '')
      .replace(/\/$/, '')
      .toLowerCase();
  return !!a && norm(a) === norm(b);
}

/** Where the /metrics exposition comes from: a file, or text already in hand (an e2e test). */
export type MetricsSource = { file: string } | { text: string; label: string } | undefined;

export async function buildContext(
  root: string,
  metrics?: MetricsSource,
  kustomize: Kustomize = findKustomize(),
  facts: GitopsFacts = loadGitopsFacts(),
): Promise<Context> {
  const folders = await renderAll(root, kustomize, facts.standIns);
  const readRepoFile = (rel: string) => {
    const abs = path.join(root, rel);
    return existsSync(abs) ? readFileSync(abs, 'utf8') : undefined;
  };

  // An Application rendered by several folders (gitops/ingress and gitops/apps) is one app.
  const applications: AppInfo[] = [];
  const projects: K8sObject[] = [];
  for (const f of folders) {
    for (const o of f.objects) {
      if (
        o.apiVersion?.startsWith('argoproj.io/') &&
        o.kind === 'Application' &&
        !applications.some((a) => a.app.metadata.name === o.metadata.name)
      ) {
        const wave = Number(o.metadata.annotations?.['argocd.argoproj.io/sync-wave'] ?? 0);
        applications.push({
          app: o as AppInfo['app'],
          dir: f.dir,
          sources: sourcesOf(o),
          wave,
          syncOptions: (o as Json).spec?.syncPolicy?.syncOptions ?? [],
        });
      }
      if (
        o.apiVersion?.startsWith('argoproj.io/') &&
        o.kind === 'AppProject' &&
        !projects.some((p) => p.metadata.name === o.metadata.name)
      ) {
        projects.push(o);
      }
    }
  }

  // The root Application is the one whose source is the apps folder itself.
  const root_ = applications.find((a) => a.sources.some((s) => s.path === 'gitops/apps'));
  const repoURL = root_?.sources.find((s) => s.path === 'gitops/apps')?.repoURL;

  const deployables: Deployable[] = [];
  const helmReleases: HelmRelease[] = [];
  for (const app of applications) {
    for (const s of app.sources) {
      if (s.path && sameRepo(s.repoURL, repoURL)) {
        const folder = folders.find((f) => f.dir === s.path!.replace(/\/$/, ''));
        if (folder && s.path !== 'gitops/apps') {
          deployables.push({ app, dir: folder.dir, objects: folder.objects });
        }
      }
      if (s.chart) {
        const refs = new Map(app.sources.filter((x) => x.ref).map((x) => [x.ref!, x]));
        let values: Json = {};
        const valueFiles: string[] = [];
        const missing: string[] = [];
        for (const vf of (s.helm?.valueFiles ?? []) as string[]) {
          const m = /^\$([^/]+)\/(.+)$/.exec(vf);
          const refSource = m ? refs.get(m[1]) : undefined;
          if (!m || !refSource || !sameRepo(refSource.repoURL, repoURL)) {
            missing.push(vf);
            continue;
          }
          const text = readRepoFile(m[2]);
          if (text === undefined) {
            missing.push(vf);
          } else {
            valueFiles.push(m[2]);
            values = deepMerge(values, parse(text) ?? {});
          }
        }
        if (s.helm?.valuesObject) values = deepMerge(values, s.helm.valuesObject);
        if (typeof s.helm?.values === 'string') {
          values = deepMerge(values, parse(s.helm.values) ?? {});
        }
        helmReleases.push({
          app,
          chart: s.chart,
          repoURL: s.repoURL,
          releaseName: s.helm?.releaseName ?? app.app.metadata.name,
          values,
          valueFiles,
          missingValueFiles: missing,
        });
      }
    }
  }

  const fixture = path.join(__dirname, 'fixtures', 'contract-metrics.prom');
  const expositionSource =
    metrics && 'text' in metrics ? metrics.label : (metrics?.file ?? fixture);
  const exposition =
    metrics && 'text' in metrics ? metrics.text : readFileSync(expositionSource, 'utf8');

  return {
    root,
    kustomize,
    folders,
    applications,
    projects,
    deployables,
    helmReleases,
    repoURL,
    exposition,
    expositionSource,
    facts,
    readRepoFile,
  };
}

/** Labels a selector (matchLabels + matchExpressions In/Exists) accepts. */
export function selectorMatches(
  selector: Json,
  labels: Record<string, string> | undefined,
): boolean {
  if (!selector || typeof selector !== 'object') return false;
  const l = labels ?? {};
  for (const [k, v] of Object.entries(selector.matchLabels ?? {})) if (l[k] !== v) return false;
  for (const e of selector.matchExpressions ?? []) {
    const has = e.key in l;
    if (e.operator === 'In' && !(has && e.values.includes(l[e.key]))) return false;
    if (e.operator === 'NotIn' && has && e.values.includes(l[e.key])) return false;
    if (e.operator === 'Exists' && !has) return false;
    if (e.operator === 'DoesNotExist' && has) return false;
  }
  return true;
}

export function get(obj: Json, dotted: string): Json {
  return dotted.split('.').reduce((o, k) => (o == null ? undefined : o[k]), obj);
}
