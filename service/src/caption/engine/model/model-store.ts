/**
 * Where the model files come from: a local folder (MODEL_DIR, never the network), the cache
 * (MODEL_CACHE_DIR/models/<id>/<revision>), or the Hugging Face hub at a pinned commit.
 *
 * The download is written here rather than through transformers.js's hub cache because we need
 * what that cache does not offer: a pinned commit that the hub must confirm, a sha256 check of
 * every large file against the hub's LFS hash, atomic per-file writes and progress logs.
 */
import { createHash } from 'node:crypto';
import { constants, createWriteStream, existsSync, readFileSync, statSync } from 'node:fs';
import { access, mkdir, readdir, rename, rm, rmdir, stat, writeFile } from 'node:fs/promises';
import { dirname, join, parse, resolve } from 'node:path';
import { Readable, Transform, TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { MODEL_JSON_FILES, ModelDtype, onnxFileName } from './model-spec';

export const MODEL_MANIFEST = 'model-manifest.json';

export class ModelUnavailableError extends Error {}

export interface ModelSource {
  modelId: string;
  revision?: string;
  hubUrl: string;
  cacheDir: string;
  allowRemote: boolean;
  /** Set: use this folder and nothing else. */
  localDir?: string;
}

/** The source the service's model settings (MODEL_* variables) describe. */
export function modelSourceOf(model: {
  id: string;
  revision?: string;
  hubUrl: string;
  cacheDir: string;
  allowRemote: boolean;
  dir?: string;
}): ModelSource {
  return {
    modelId: model.id,
    revision: model.revision,
    hubUrl: model.hubUrl,
    cacheDir: model.cacheDir,
    allowRemote: model.allowRemote,
    localDir: model.dir,
  };
}

export interface ModelManifest {
  modelId: string;
  revision: string;
  files: Record<string, { size: number; sha256: string }>;
}

export function requiredFiles(dtypes: ModelDtype[]): string[] {
  return [
    ...MODEL_JSON_FILES,
    ...dtypes.flatMap((d) => [
      onnxFileName('encoder_model', d),
      onnxFileName('decoder_model_merged', d),
    ]),
  ];
}

export function cachedModelDir(cacheDir: string, modelId: string, revision: string): string {
  return join(cacheDir, 'models', ...modelId.split('/'), revision);
}

export function missingFiles(dir: string, files: string[]): string[] {
  return files.filter((f) => !existsSync(join(dir, f)));
}

/** The revision recorded by model:pull in a folder, if any. */
export function recordedRevision(dir: string): string | undefined {
  try {
    return (JSON.parse(readFileSync(join(dir, MODEL_MANIFEST), 'utf8')) as ModelManifest).revision;
  } catch {
    return undefined;
  }
}

/**
 * Checks, without touching the network, that the model can be had: MODEL_DIR is a folder with
 * every file, or the cache holds the pinned revision, or a download is allowed. Throws a
 * ModelUnavailableError saying what to do; main() calls it before the server says anything, so a
 * missing model is one line and never looks like a started service.
 */
export function assertModelAvailable(source: ModelSource, dtype: ModelDtype): void {
  locate(source, dtype);
}

function locate(source: ModelSource, dtype: ModelDtype): { dir: string; missing: string[] } {
  const files = requiredFiles([dtype]);
  if (source.localDir) {
    const kind = statSync(source.localDir, { throwIfNoEntry: false });
    if (!kind) {
      throw new ModelUnavailableError(
        `MODEL_DIR=${source.localDir}: the folder does not exist; point it at a model folder in the transformers.js layout`,
      );
    }
    if (!kind.isDirectory()) {
      throw new ModelUnavailableError(`MODEL_DIR=${source.localDir} is a file, not a folder`);
    }
    const missing = missingFiles(source.localDir, files);
    if (missing.length) {
      throw new ModelUnavailableError(
        `MODEL_DIR=${source.localDir} lacks ${missing.join(', ')}; point it at a folder in the transformers.js layout`,
      );
    }
    return { dir: source.localDir, missing };
  }
  if (!source.revision) {
    throw new ModelUnavailableError(
      `MODEL_REVISION is not set: set it to a commit of ${source.modelId} to use the model cache, or set MODEL_DIR to a local model folder`,
    );
  }
  const dir = cachedModelDir(source.cacheDir, source.modelId, source.revision);
  const missing = missingFiles(dir, files);
  if (missing.length && !source.allowRemote) {
    throw new ModelUnavailableError(
      `model ${source.modelId}@${source.revision} (${dtype}) is not in ${dir}: run \`npm run model:pull\`, ` +
        `or set MODEL_DIR to a local model folder, or ALLOW_REMOTE_MODELS=true to download at boot`,
    );
  }
  return { dir, missing };
}

/** Resolves the folder to load, downloading into the cache only when allowed. */
export async function resolveModelDir(
  source: ModelSource,
  dtype: ModelDtype,
  log: (m: string) => void,
): Promise<string> {
  const { dir, missing } = locate(source, dtype);
  if (missing.length === 0) return dir;
  await downloadModel({ ...source, revision: source.revision! }, dir, requiredFiles([dtype]), log);
  return dir;
}

/**
 * Where optimized graphs prepared at boot go: beside the model when its folder is writable and
 * not part of a git checkout, else the cache. A checkout's committed fixtures must stay as
 * committed (`npm start` on the tiny test model used to write its optimized/ folder, which a
 * later test then found prepared). Checks that the cache can be written, naming MODEL_CACHE_DIR
 * when it cannot, instead of a bare EACCES on some parent folder.
 */
export async function preparedGraphsTarget(
  modelDir: string,
  besideModel: string,
  inCache: string,
  cacheDir: string,
): Promise<string> {
  if ((await isWritable(modelDir)) && !insideGitCheckout(modelDir)) return besideModel;
  try {
    await mkdir(inCache, { recursive: true });
    await access(inCache, constants.W_OK);
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
    throw new ModelUnavailableError(
      `cannot write the optimized graphs for ${modelDir}: the model folder is read-only or part of a ` +
        `checkout, and the cache MODEL_CACHE_DIR=${cacheDir} is not writable (${reason}); set ` +
        `MODEL_CACHE_DIR to a writable folder, or prepare the model once with \`npm run model:prepare -- --dir <copy>\``,
    );
  }
  return inCache;
}

/** A `.git` entry (folder, or file for worktrees) in the folder or any parent. */
export function insideGitCheckout(dir: string): boolean {
  let at = resolve(dir);
  const { root } = parse(at);
  for (;;) {
    if (existsSync(join(at, '.git'))) return true;
    if (at === root) return false;
    at = dirname(at);
  }
}

async function isWritable(dir: string): Promise<boolean> {
  try {
    await access(dir, constants.W_OK);
    return true;
  } catch {
    return false;
  }
}

export interface DownloadOptions {
  modelId: string;
  revision: string;
  hubUrl: string;
  /** Abort a file when no byte arrives for this long. */
  stallTimeoutMs?: number;
}

/** Downloads `files` of a pinned revision into `dir`, checking every file, and records them. */
export async function downloadModel(
  options: DownloadOptions,
  dir: string,
  files: string[],
  log: (m: string) => void,
): Promise<ModelManifest> {
  const manifest: ModelManifest = {
    modelId: options.modelId,
    revision: options.revision,
    files: {},
  };
  // The first folder this call creates: on failure, folders left empty are removed from there
  // down, so an offline attempt leaves no empty model folder that looks like a half download.
  const created = await mkdir(dir, { recursive: true });
  try {
    for (const file of files) {
      manifest.files[file] = await downloadFile(options, dir, file, log);
    }
  } catch (error) {
    await removeEmptyFolders(created ?? dir, created === undefined);
    throw error;
  }
  await writeFile(join(dir, MODEL_MANIFEST), JSON.stringify(manifest, null, 2) + '\n');
  log(`model ${options.modelId}@${options.revision}: ${files.length} files checked in ${dir}`);
  return manifest;
}

async function downloadFile(
  options: DownloadOptions,
  dir: string,
  file: string,
  log: (m: string) => void,
): Promise<{ size: number; sha256: string }> {
  const url = `${options.hubUrl.replace(/\/$/, '')}/${options.modelId}/resolve/${options.revision}/${file}`;
  const stallMs = options.stallTimeoutMs ?? 60_000;
  // The hub answers the resolve URL with the commit it resolved and, for large (LFS) files, their
  // sha256 and size; the bytes may come from a redirect to a CDN.
  const head = await fetchWithTimeout(
    url,
    { method: 'HEAD', redirect: 'manual' },
    stallMs,
    options.hubUrl,
  );
  if (head.status >= 400) throw new ModelUnavailableError(`${url}: HTTP ${head.status}`);
  const commit = head.headers.get('x-repo-commit');
  if (commit && commit !== options.revision) {
    throw new ModelUnavailableError(
      `${url}: hub resolved commit ${commit}, expected ${options.revision}`,
    );
  }
  const lfsSha = head.headers.get('x-linked-etag')?.replace(/"/g, '');
  const expectedSize = Number(
    head.headers.get('x-linked-size') ?? head.headers.get('content-length') ?? NaN,
  );

  const controller = new AbortController();
  let stall = setTimeout(() => controller.abort(), stallMs);
  const response = await fetch(url, { signal: controller.signal, redirect: 'follow' }).catch(
    (error: Error) => {
      clearTimeout(stall);
      throw unreachable(options.hubUrl, url, error);
    },
  );
  if (!response.ok || !response.body) {
    clearTimeout(stall);
    throw new ModelUnavailableError(`${url}: HTTP ${response.status}`);
  }
  const total = Number(response.headers.get('content-length') ?? expectedSize);
  const target = join(dir, file);
  const partial = `${target}.part`;
  await mkdir(dirname(target), { recursive: true });
  const hash = createHash('sha256');
  let received = 0;
  let nextReport = 0;
  const started = Date.now();
  const progress = new TransformCounter((chunk) => {
    clearTimeout(stall);
    stall = setTimeout(() => controller.abort(), stallMs);
    hash.update(chunk);
    received += chunk.length;
    if (Number.isFinite(total) && total > 0 && received >= nextReport) {
      log(`${file}: ${((100 * received) / total).toFixed(0)}% of ${(total / 1e6).toFixed(1)} MB`);
      nextReport += Math.max(total / 10, 1);
    }
  });
  try {
    await pipeline(Readable.fromWeb(response.body as never), progress, createWriteStream(partial));
  } catch (error) {
    await rm(partial, { force: true });
    throw new ModelUnavailableError(`${url}: download failed: ${(error as Error).message}`);
  } finally {
    clearTimeout(stall);
  }
  const sha256 = hash.digest('hex');
  const size = (await stat(partial)).size;
  const problems: string[] = [];
  if (Number.isFinite(expectedSize) && size !== expectedSize) {
    problems.push(`size ${size} != ${expectedSize}`);
  }
  if (lfsSha && /^[0-9a-f]{64}$/.test(lfsSha) && sha256 !== lfsSha) {
    problems.push(`sha256 ${sha256} != ${lfsSha}`);
  }
  if (file.endsWith('.json')) {
    try {
      JSON.parse(readFileSync(partial, 'utf8'));
    } catch {
      problems.push('not valid JSON');
    }
  }
  if (problems.length) {
    await rm(partial, { force: true });
    throw new ModelUnavailableError(`${url}: check failed: ${problems.join('; ')}`);
  }
  await rename(partial, target);
  log(
    `${file}: ${(size / 1e6).toFixed(1)} MB in ${((Date.now() - started) / 1000).toFixed(1)} s, sha256 ${sha256.slice(0, 12)}…`,
  );
  return { size, sha256 };
}

async function fetchWithTimeout(
  url: string,
  init: RequestInit,
  ms: number,
  hubUrl: string,
): Promise<Response> {
  try {
    return await fetch(url, { ...init, signal: AbortSignal.timeout(ms) });
  } catch (error) {
    throw unreachable(hubUrl, url, error as Error);
  }
}

/**
 * The hub could not be reached at all (no network, DNS, refused, timed out). fetch() says only
 * "fetch failed"; the reason is in its cause. Names what to do on a machine without the hub.
 */
function unreachable(hubUrl: string, url: string, error: Error): ModelUnavailableError {
  const cause = error.cause as { code?: string; message?: string } | undefined;
  const reason = [error.message, cause?.code ?? cause?.message].filter(Boolean).join(': ');
  return new ModelUnavailableError(
    `cannot reach the model hub ${hubUrl} (${reason}; ${url}). Without the hub: copy the model ` +
      `folder from a machine that has it, then \`npm run model:prepare -- --dir <folder>\` and ` +
      `start with MODEL_DIR=<folder>; or set MODEL_HUB_URL to a mirror you can reach`,
  );
}

/** Removes the folders below `top` that hold no file (deepest first), and `top` unless kept. */
async function removeEmptyFolders(top: string, keepTop = false): Promise<void> {
  const entries = await readdir(top, { withFileTypes: true }).catch(() => []);
  for (const entry of entries) {
    if (entry.isDirectory()) await removeEmptyFolders(join(top, entry.name));
  }
  // ENOTEMPTY when a file is left: keep it and its parents.
  if (!keepTop) await rmdir(top).catch(() => undefined);
}

/** A pass-through stream that shows each chunk to a callback. */
class TransformCounter extends Transform {
  constructor(private readonly onChunk: (chunk: Buffer) => void) {
    super();
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback): void {
    this.onChunk(chunk);
    done(null, chunk);
  }
}
