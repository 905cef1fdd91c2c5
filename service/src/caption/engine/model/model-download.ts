/**
 * Downloads a model's files at a pinned commit from the Hugging Face hub.
 *
 * Written here rather than through transformers.js's hub cache because we need what that cache
 * does not offer: a pinned commit that the hub must confirm, a sha256 check of every large file
 * against the hub's LFS hash, atomic per-file writes, progress logs, and a one-line reason with
 * what to do when the hub cannot be reached.
 */
import { createHash } from 'node:crypto';
import { createWriteStream, readFileSync } from 'node:fs';
import { mkdir, readdir, rename, rm, rmdir, stat, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { Readable, Transform, TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { MODEL_MANIFEST, ModelManifest, ModelUnavailableError } from './model-spec';

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
