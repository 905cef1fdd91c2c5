// Renders every kustomization under gitops/ the way Argo CD would, offline. A remote base (the
// pinned Argo CD install manifest) cannot be fetched here: it is replaced, in a scratch copy, by
// its recorded stand-in (tools/validate-gitops/upstream/), which holds the upstream shape of
// every object the folder's patches target, so the patches are applied exactly as kustomize
// applies them to the real manifest. A remote base with no stand-in fails the build.
import {
  cpSync,
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { parse, parseAllDocuments, stringify } from 'yaml';
import type { Kustomize } from './tools';

export interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: {
    name: string;
    namespace?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    [k: string]: unknown;
  };
  [k: string]: unknown;
}

export interface RenderedFolder {
  /** Folder relative to the repo root, with forward slashes. */
  dir: string;
  objects: K8sObject[];
  /** kustomize's error when the build failed. */
  error?: string;
  /** Remote resources this folder's kustomization names. */
  remoteResources: string[];
  /** The recorded stand-in that replaced each remote resource (repo-relative). */
  standIns: Record<string, string>;
}

/** The repository this validator runs from (stand-ins are named relative to it). */
const REPO = path.resolve(__dirname, '..', '..');

const KUSTOMIZATION_FILES = ['kustomization.yaml', 'kustomization.yml', 'Kustomization'];
const REMOTE = /^(https?:\/\/|git@|ssh:\/\/|github\.com\/)/;

export function kustomizationFile(dir: string): string | undefined {
  return KUSTOMIZATION_FILES.map((f) => path.join(dir, f)).find((f) => existsSync(f));
}

/** Every folder under `base` holding a kustomization, sorted, relative to `root`. */
export function findKustomizationDirs(root: string, base = 'gitops'): string[] {
  const out: string[] = [];
  const walk = (abs: string) => {
    if (kustomizationFile(abs)) out.push(path.relative(root, abs).split(path.sep).join('/'));
    for (const entry of readdirSync(abs)) {
      const child = path.join(abs, entry);
      if (statSync(child).isDirectory()) walk(child);
    }
  };
  walk(path.join(root, base));
  return out.sort();
}

export function parseObjects(text: string, origin: string): K8sObject[] {
  const objects: K8sObject[] = [];
  for (const doc of parseAllDocuments(text)) {
    if (doc.errors.length) throw new Error(`${origin}: YAML error: ${doc.errors[0].message}`);
    const value = doc.toJSON();
    if (value == null) continue;
    objects.push(value as K8sObject);
  }
  return objects;
}

/**
 * Renders every kustomization. `standIns` maps a remote resource URL to the file that stands in
 * for it; a remote resource without one is left out and the folder fails with a message.
 */
export async function renderAll(
  root: string,
  kustomize: Kustomize,
  standIns: Record<string, string> = {},
): Promise<RenderedFolder[]> {
  const dirs = findKustomizationDirs(root);
  const scratch = mkdtempSync(path.join(tmpdir(), 'gitops-render-'));
  try {
    cpSync(path.join(root, 'gitops'), path.join(scratch, 'gitops'), { recursive: true });
    const remoteOf = new Map<
      string,
      { remote: string[]; used: Record<string, string>; missing: string[] }
    >();
    for (const dir of dirs) {
      const file = kustomizationFile(path.join(scratch, dir))!;
      const k = parse(readFileSync(file, 'utf8')) ?? {};
      const resources: unknown[] = Array.isArray(k.resources) ? k.resources : [];
      const remote = resources.filter((r): r is string => typeof r === 'string' && REMOTE.test(r));
      if (!remote.length) continue;
      const used: Record<string, string> = {};
      const missing: string[] = [];
      k.resources = resources.flatMap((r, i) => {
        if (typeof r !== 'string' || !remote.includes(r)) return [r];
        const standIn = standIns[r];
        if (!standIn) {
          missing.push(r);
          return [];
        }
        const local = `upstream-standin-${i}.yaml`;
        cpSync(standIn, path.join(path.dirname(file), local));
        used[r] = path.relative(REPO, standIn).split(path.sep).join('/');
        return [local];
      });
      writeFileSync(file, stringify(k));
      remoteOf.set(dir, { remote, used, missing });
    }
    const folders = await Promise.all(
      dirs.map(async (dir) => {
        const r = remoteOf.get(dir) ?? { remote: [], used: {}, missing: [] };
        const result = await kustomize.build(path.join(scratch, dir));
        const folder: RenderedFolder = {
          dir,
          objects: [],
          remoteResources: r.remote,
          standIns: r.used,
        };
        if (r.missing.length) {
          folder.error = `remote resource(s) ${r.missing.join(', ')} have no recorded stand-in, so this folder cannot be checked offline (record one: tools/validate-common/extract-facts.ts)`;
        } else if (!result.ok) {
          folder.error = result.error.split(scratch + path.sep).join('');
        } else {
          folder.objects = parseObjects(result.yaml, dir);
        }
        return folder;
      }),
    );
    // A folder that does not build still has objects the other checks should see (the root
    // Application and the AppProjects beside a broken Argo CD base): read them resource by
    // resource, so one mistake fails kustomize-build without blinding every other check.
    for (const folder of [...folders].reverse()) {
      if (folder.error) folder.objects = partialObjects(scratch, folder.dir, folders);
    }
    return folders;
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

const CLUSTER_SCOPED = new Set([
  'Namespace',
  'ClusterRole',
  'ClusterRoleBinding',
  'CustomResourceDefinition',
  'ClusterIssuer',
  'IngressClass',
]);

/** The objects of a folder's own file resources and sub-folders, and its patch files. */
function partialObjects(scratch: string, dir: string, folders: RenderedFolder[]): K8sObject[] {
  const file = kustomizationFile(path.join(scratch, dir));
  if (!file) return [];
  let k: { resources?: unknown[]; namespace?: string; patches?: unknown[] };
  try {
    k = parse(readFileSync(file, 'utf8')) ?? {};
  } catch {
    return [];
  }
  const out: K8sObject[] = [];
  for (const r of k.resources ?? []) {
    if (typeof r !== 'string') continue;
    const rel = path.posix.join(dir, r);
    const abs = path.join(scratch, rel);
    if (!existsSync(abs)) continue;
    if (statSync(abs).isDirectory()) {
      // Only its own sub-folders: a base shared from outside (an overlay's ../../base) would
      // stand in for the overlay with the wrong objects.
      if (!r.startsWith('..')) out.push(...(folders.find((f) => f.dir === rel)?.objects ?? []));
    } else {
      try {
        out.push(...parseObjects(readFileSync(abs, 'utf8'), rel));
      } catch {
        // a file that does not parse is kustomize-build's to report
      }
    }
  }
  // Patch files stand for the objects they patch (their intent, when the patch itself failed).
  for (const p of k.patches ?? []) {
    const rel = typeof p === 'string' ? p : (p as { path?: unknown })?.path;
    if (typeof rel !== 'string') continue;
    const abs = path.join(scratch, dir, rel);
    if (!existsSync(abs)) continue;
    try {
      for (const o of parseObjects(readFileSync(abs, 'utf8'), `${dir}/${rel}`)) {
        const same = out.findIndex(
          (x) => x.kind === o.kind && x.metadata?.name === o.metadata?.name,
        );
        if (same >= 0) out.splice(same, 1);
        out.push(o);
      }
    } catch {
      // kustomize-build reports it
    }
  }
  return out.map((o) =>
    k.namespace && !CLUSTER_SCOPED.has(o.kind) && !o.metadata?.namespace
      ? { ...o, metadata: { ...o.metadata, namespace: k.namespace } }
      : o,
  );
}
