/**
 * The prepared graphs on disk, beside the model or in the cache folder:
 *   <dir>/decoder_once.onnx      encoder states -> cross-attention keys/values (once per image)
 *   <dir>/decoder_step.onnx      one token step reading those keys/values
 *   <dir>/decoder_step_fast.onnx q8: the step with its LM head on int8 weights (not exact)
 *   <dir>/encoder_vnni.onnx      q8 on VNNI CPUs: the encoder with int8 weights
 *   <dir>/manifest.json          sources, hoisted values, verification result (written last)
 * A set is valid for a model when its manifest names the same source files: by size and mtime at
 * every boot (cheap), by sha256 when those changed. Nothing here loads ONNX Runtime, so the HTTP
 * thread can look for a valid set without paying for it.
 */
import { createHash } from 'node:crypto';
import { constants, createReadStream, existsSync } from 'node:fs';
import { access, readFile, rename, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ModelDtype, onnxFileName, readModelSpec } from '../model/model-spec';
import { PreparedManifest, PreparedModel, SourceFile } from '../prepared-model';
import { cpuHasVnni } from './cpu-features';

/** Bumped whenever the passes change what they write, so older sets are prepared again. */
export const PREPARED_FORMAT = 9;

export const ONCE_FILE = 'decoder_once.onnx';
export const STEP_FILE = 'decoder_step.onnx';
export const VNNI_ENCODER_FILE = 'encoder_vnni.onnx';
export const FAST_STEP_FILE = 'decoder_step_fast.onnx';
const MANIFEST_FILE = 'manifest.json';

export type Sources = { encoder: SourceFile; decoder: SourceFile };
export type SourceNames = { encoder: string; decoder: string };

/** The stock files a dtype is prepared from: the merged decoder, or the with-past one alone. */
export function sourceFiles(modelDir: string, dtype: ModelDtype): SourceNames {
  const encoder = onnxFileName('encoder_model', dtype);
  const merged = onnxFileName('decoder_model_merged', dtype);
  const withPast = onnxFileName('decoder_with_past_model', dtype);
  const decoder =
    existsSync(join(modelDir, merged)) || !existsSync(join(modelDir, withPast)) ? merged : withPast;
  return { encoder, decoder };
}

/** A valid set beside the model, by the cheap size/mtime check; null when there is none. */
export async function findQuickly(
  modelDir: string,
  dtype: ModelDtype,
): Promise<PreparedModel | null> {
  const dir = join(modelDir, 'optimized', dtype);
  const manifest = await readValidManifest(dir, modelDir, sourceFiles(modelDir, dtype), null);
  return manifest ? preparedModel(modelDir, dtype, dir, manifest) : null;
}

/** A valid set in `dir` for sources with these hashes; null when there is none. */
export async function findByHash(
  dir: string,
  modelDir: string,
  dtype: ModelDtype,
  hashed: Sources,
): Promise<PreparedModel | null> {
  const names = sourceFiles(modelDir, dtype);
  const manifest = await readValidManifest(dir, modelDir, names, hashed);
  return manifest ? preparedModel(modelDir, dtype, dir, manifest) : null;
}

export function preparedModel(
  modelDir: string,
  dtype: ModelDtype,
  dir: string,
  manifest: PreparedManifest,
): PreparedModel {
  const encoderPath = join(modelDir, manifest.sources.encoder.file);
  const vnni =
    manifest.vnniEncoder && cpuHasVnni() ? join(dir, manifest.vnniEncoder.file) : undefined;
  return {
    modelDir,
    dtype,
    spec: readModelSpec(modelDir),
    encoderPath,
    encoderToLoad: vnni ?? encoderPath,
    oncePath: join(dir, ONCE_FILE),
    stepPath: join(dir, STEP_FILE),
    ...(manifest.fastStep ? { fastStepPath: join(dir, manifest.fastStep.file) } : {}),
    manifest,
  };
}

/** Writes a set; the manifest goes last, its presence marks a complete set. */
export async function writePrepared(
  dir: string,
  files: Record<string, Uint8Array>,
  manifest: PreparedManifest,
): Promise<void> {
  for (const [file, bytes] of Object.entries(files)) {
    await writeAtomically(join(dir, file), bytes);
  }
  await writeAtomically(join(dir, MANIFEST_FILE), JSON.stringify(manifest, null, 2) + '\n');
}

/** `hashed` null: the quick check (same size and mtime as recorded); else by sha256. */
async function readValidManifest(
  dir: string,
  modelDir: string,
  names: SourceNames,
  hashed: Sources | null,
): Promise<PreparedManifest | null> {
  let manifest: PreparedManifest;
  try {
    manifest = JSON.parse(await readFile(join(dir, MANIFEST_FILE), 'utf8')) as PreparedManifest;
  } catch {
    return null;
  }
  if (manifest.format !== PREPARED_FORMAT) return null;
  const files = [ONCE_FILE, STEP_FILE, ...(manifest.fastStep ? [manifest.fastStep.file] : [])];
  if (!files.every((file) => existsSync(join(dir, file)))) return null;
  for (const key of ['encoder', 'decoder'] as const) {
    const recorded = manifest.sources[key];
    if (recorded.file !== names[key]) return null;
    if (hashed) {
      if (hashed[key].sha256 !== recorded.sha256) return null;
    } else {
      const info = await stat(join(modelDir, recorded.file)).catch(() => null);
      if (!info || info.size !== recorded.size || info.mtimeMs !== recorded.mtimeMs) return null;
    }
  }
  return manifest;
}

export async function describeSources(modelDir: string, names: SourceNames): Promise<Sources> {
  const describe = async (file: string): Promise<SourceFile> => {
    const path = join(modelDir, file);
    const info = await stat(path).catch(() => {
      throw new Error(`missing model file ${path}`);
    });
    return { file, size: info.size, mtimeMs: info.mtimeMs, sha256: await sha256File(path) };
  };
  return { encoder: await describe(names.encoder), decoder: await describe(names.decoder) };
}

export async function sha256File(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

export function fingerprintOf(sources: Sources): string {
  return createHash('sha256')
    .update(`${PREPARED_FORMAT}:${sources.encoder.sha256}:${sources.decoder.sha256}`)
    .digest('hex');
}

export async function isWritable(dir: string): Promise<boolean> {
  try {
    await access(dir, constants.W_OK);
    return true;
  } catch {
    return false;
  }
}

async function writeAtomically(path: string, data: Uint8Array | string): Promise<void> {
  const temp = `${path}.${process.pid}.tmp`;
  await writeFile(temp, data);
  await rename(temp, path);
}
