/**
 * Where the model files come from: a local folder (MODEL_DIR, never the network), the cache
 * (MODEL_CACHE_DIR/models/<id>/<revision>), or the Hugging Face hub at a pinned commit (the
 * download itself is model-download.ts).
 */
import { constants, existsSync, readFileSync, statSync } from 'node:fs';
import { access, mkdir } from 'node:fs/promises';
import { dirname, join, parse, resolve } from 'node:path';
import { downloadModel } from './model-download';
import {
  MODEL_JSON_FILES,
  MODEL_MANIFEST,
  ModelDtype,
  ModelManifest,
  ModelUnavailableError,
  onnxFileName,
} from './model-spec';

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
