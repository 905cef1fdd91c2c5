// Renders every kustomization under gitops/ the way Argo CD would, offline. Remote bases
// (the pinned Argo CD install manifest) cannot be fetched here: they are cut from a scratch
// copy and reported, so everything local around them is still built and checked.
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
  /** Remote resources cut from this folder's kustomization for the offline build. */
  remoteResources: string[];
  /** Patches cut with them (their targets live in the remote manifest), parsed. */
  droppedPatches: Array<{ file: string; objects: K8sObject[] }>;
}

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

export async function renderAll(root: string, kustomize: Kustomize): Promise<RenderedFolder[]> {
  const dirs = findKustomizationDirs(root);
  const scratch = mkdtempSync(path.join(tmpdir(), 'gitops-render-'));
  try {
    cpSync(path.join(root, 'gitops'), path.join(scratch, 'gitops'), { recursive: true });
    const cut = new Map<
      string,
      { remote: string[]; patches: Array<{ file: string; objects: K8sObject[] }> }
    >();
    for (const dir of dirs) {
      const file = kustomizationFile(path.join(scratch, dir))!;
      const k = parse(readFileSync(file, 'utf8')) ?? {};
      const resources: unknown[] = Array.isArray(k.resources) ? k.resources : [];
      const remote = resources.filter((r): r is string => typeof r === 'string' && REMOTE.test(r));
      if (!remote.length) continue;
      k.resources = resources.filter((r) => !remote.includes(r as string));
      // Patches of a folder with a remote base target objects of that base; keep them to
      // check on their own instead of failing the offline build on a missing target.
      const patches: Array<{ file: string; objects: K8sObject[] }> = [];
      for (const p of [...(k.patches ?? []), ...(k.patchesStrategicMerge ?? [])]) {
        const rel = typeof p === 'string' ? p : p?.path;
        if (typeof rel === 'string') {
          const abs = path.join(root, dir, rel);
          patches.push({
            file: `${dir}/${rel}`,
            objects: existsSync(abs)
              ? parseObjects(readFileSync(abs, 'utf8'), `${dir}/${rel}`)
              : [],
          });
        }
      }
      delete k.patches;
      delete k.patchesStrategicMerge;
      writeFileSync(file, stringify(k));
      cut.set(dir, { remote, patches });
    }
    return await Promise.all(
      dirs.map(async (dir) => {
        const removed = cut.get(dir) ?? { remote: [], patches: [] };
        const result = await kustomize.build(path.join(scratch, dir));
        const folder: RenderedFolder = {
          dir,
          objects: [],
          remoteResources: removed.remote,
          droppedPatches: removed.patches,
        };
        if (!result.ok) folder.error = result.error.split(scratch + path.sep).join('');
        else folder.objects = parseObjects(result.yaml, dir);
        return folder;
      }),
    );
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}
