// Facts recorded from upstream sources (a chart's values, a provider's attributes, a plugin's
// configuration keys), read by the validators offline. Each fact file says where it came from
// (repository, tag, path, commit) and the command that extracted it, so a reviewer can re-run
// it against a fresh snapshot and a bump re-records it instead of hand-editing.
import { readFileSync } from 'node:fs';
import * as path from 'node:path';

export interface FactSource {
  /** owner/name on GitHub. */
  repository: string;
  /** The released tag the facts were read at. */
  tag: string;
  /** Commit the tag pointed at when extracted. */
  commit: string;
  /** Files inside the repository the facts come from. */
  paths: string[];
}

export interface FactFile {
  /** What these facts are about, e.g. "kube-prometheus-stack chart values". */
  about: string;
  sources: FactSource[];
  /** The command that wrote this file (tools/validate-common/extract-facts.ts). */
  extractedWith: string;
}

export function readFacts<T extends FactFile>(file: string): T {
  const facts = JSON.parse(readFileSync(file, 'utf8')) as T;
  if (!facts.sources?.length || !facts.extractedWith) {
    throw new Error(`${file}: a fact file must name its sources and the command that extracted it`);
  }
  return facts;
}

/** Where the recorded facts live (one folder per validator). */
export const FACTS_DIR = {
  gitops: path.join(__dirname, '..', 'validate-gitops', 'upstream'),
  infra: path.join(__dirname, '..', 'validate-infra', 'upstream'),
};

/**
 * Key paths of a YAML/JSON tree, dotted ("controller.service.type"). Arrays are leaves (their
 * items are free-form lists); maps that are empty or null in the upstream defaults are "open":
 * any key below them is the chart's to accept (annotations, selectors, free-form config).
 */
export function keyPaths(tree: unknown, prefix = ''): { paths: string[]; open: string[] } {
  const paths: string[] = [];
  const open: string[] = [];
  const walk = (node: unknown, at: string) => {
    if (node === null || node === undefined) {
      if (at) open.push(at);
      return;
    }
    if (typeof node !== 'object' || Array.isArray(node)) return;
    const entries = Object.entries(node as Record<string, unknown>);
    if (!entries.length && at) open.push(at);
    for (const [k, v] of entries) {
      const p = at ? `${at}.${k}` : k;
      paths.push(p);
      walk(v, p);
    }
  };
  walk(tree, prefix);
  if (prefix) paths.push(prefix);
  return { paths, open };
}

/** The dotted key paths a values object sets (maps descended, arrays and scalars are leaves). */
export function setPaths(values: unknown, prefix = ''): string[] {
  const out: string[] = [];
  const walk = (node: unknown, at: string) => {
    if (node && typeof node === 'object' && !Array.isArray(node)) {
      const entries = Object.entries(node as Record<string, unknown>);
      if (!entries.length && at) out.push(at);
      for (const [k, v] of entries) walk(v, at ? `${at}.${k}` : k);
    } else if (at) {
      out.push(at);
    }
  };
  walk(values, prefix);
  return out;
}

/**
 * Whether a chart reads a key path: the path is one of its values keys, or lies under a map the
 * chart takes as free-form. Returns the reason when it does not.
 */
export function chartReads(
  facts: { valuesPaths: string[]; openPaths: string[] },
  keyPath: string,
): boolean {
  if (facts.valuesPaths.includes(keyPath)) return true;
  return facts.openPaths.some((o) => keyPath === o || keyPath.startsWith(`${o}.`));
}

/** Semantic version order for "x.y.z" (a leading "v" ignored); non-numeric parts compare as 0. */
export function compareVersions(a: string, b: string): number {
  const parts = (v: string) =>
    v
      .replace(/^v/, '')
      .split(/[.-]/)
      .map((x) => Number(x) || 0);
  const pa = parts(a);
  const pb = parts(b);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d) return d;
  }
  return 0;
}

/** The newest released version with the same major.minor as `version`. */
export function newestPatch(released: readonly string[], version: string): string | undefined {
  const minor = version.replace(/^v/, '').split('.').slice(0, 2).join('.');
  return released
    .filter((v) => v.replace(/^v/, '').split('.').slice(0, 2).join('.') === minor)
    .sort(compareVersions)
    .pop();
}
