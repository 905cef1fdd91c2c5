/**
 * The one bench module that imports the service's engine and config code (read-only use). The
 * engine's files are being reorganised; when they move, only the import lines here change.
 */
import type * as ort from 'onnxruntime-node';
import { loadConfig } from '../service/src/config/app-config';
import { ownCgroups } from '../service/src/common/cgroup';
import { memoryBudget } from '../service/src/common/memory-budget';
import { ENVIRONMENT_VARIABLES, parseEnvironment } from '../service/src/config/environment';
import { cpuBudget } from '../service/src/common/cpu-budget';
import {
  CAPTION_ENGINE,
  CaptionEngine,
  EngineResult,
} from '../service/src/caption/engine/caption-engine';
import { DecodingOptions } from '../service/src/caption/engine/decoding/decoding-options';
import { ResolvedModel, engineProviders } from '../service/src/caption/engine/engine.provider';
import {
  ModelDtype,
  ModelSpec,
  onnxFileName,
  readModelSpec,
} from '../service/src/caption/engine/model/model-spec';
import { normalizePixels } from '../service/src/caption/engine/model/pixels';
import { PreparedModel } from '../service/src/caption/engine/prepared-model';
import {
  findOrPrepare,
  proveAgainstStock,
  sourceFiles,
} from '../service/src/caption/engine/prepare/model-preparer';
import {
  OnnxCaptionModel,
  stepGraph,
} from '../service/src/caption/engine/runtime/onnx-caption-model';

export {
  CaptionEngine,
  DecodingOptions,
  ENVIRONMENT_VARIABLES,
  EngineResult,
  ModelDtype,
  ModelSpec,
  OnnxCaptionModel,
  PreparedModel,
  cpuBudget,
  findOrPrepare,
  loadConfig,
  memoryBudget,
  normalizePixels,
  onnxFileName,
  ownCgroups,
  parseEnvironment,
  proveAgainstStock,
  readModelSpec,
  sourceFiles,
};

export type Log = (message: string) => void;

/** The service's settings for a mode: its own parser, so defaults and new variables follow it. */
export function configFor(environment: Record<string, string>, modelDir: string) {
  return loadConfig({ ...environment, MODEL_DIR: modelDir });
}

/**
 * The engine exactly as the service wires it for this environment (the same provider factory),
 * loaded on `modelDir`. Prepared graphs go beside the model (the bench's own symlink view).
 */
export async function engineFor(
  environment: Record<string, string>,
  modelDir: string,
  log: Log,
): Promise<{ engine: CaptionEngine; dtype: string }> {
  const config = configFor({ ...environment, LOG_LEVEL: 'warn' }, modelDir);
  const provider = engineProviders.find(
    (p) => typeof p === 'object' && 'provide' in p && p.provide === CAPTION_ENGINE,
  ) as { useFactory: (config: unknown, source: ResolvedModel) => CaptionEngine } | undefined;
  if (!provider) throw new Error('the engine provider moved: repoint bench/engine-api.ts');
  const engine = provider.useFactory(config, new ResolvedModel(config));
  const info = await engine.load();
  log(`engine loaded: ${info.dtype}, ${info.workers} worker(s) x ${info.threadsPerWorker} threads`);
  return { engine, dtype: info.dtype };
}

/**
 * The prepared graphs the engine runs for this environment, for per-stage timing and per-step
 * logits: the dtype's set, with `stepPath` naming the step graph of the environment's
 * ENGINE_FIDELITY (the int8-head variant for q8 `fast`), so loading it with loadCaptionModel runs
 * exactly what the inference worker runs. The fidelity part cross-checks that these graphs give
 * the tokens the engine gives, so a forgotten variant shows up as a mismatch.
 */
export async function preparedFor(
  environment: Record<string, string>,
  modelDir: string,
  log: Log,
): Promise<PreparedModel> {
  const config = configFor(environment, modelDir);
  const prepared = await findOrPrepare(modelDir, config.model.dtype, config.model.cacheDir, log);
  return { ...prepared, stepPath: stepGraph(prepared, config.engine.fidelity) };
}

/** The engine's own sessions for a prepared model (the worker's code, run in this thread). */
export function loadCaptionModel(prepared: PreparedModel, threads: number) {
  // stepPath already names the graph of the mode (preparedFor); spinning off, as the service.
  return OnnxCaptionModel.load(prepared, { threads, fidelity: 'exact', spinning: false });
}

/** One caption through the engine's job interface (continuous batching), as the scheduler feeds it. */
export function captionOnce(
  engine: CaptionEngine,
  rgb: Uint8Array,
  options: DecodingOptions,
): Promise<EngineResult> {
  return new Promise<EngineResult>((resolve, reject) =>
    engine.submit(
      { id: `bench-${Math.random().toString(36).slice(2)}`, rgb, options },
      {
        onResult: (_id, result) => resolve(result),
        onCancelled: () => reject(new Error('cancelled')),
        onError: (_id, error) => reject(error),
      },
    ),
  );
}

/** Decoding options as Hugging Face `generate` defaults them, with our beams and lengths. */
export function decodingOptions(
  numBeams: number,
  maxNewTokens: number,
  minNewTokens = 0,
): DecodingOptions {
  return {
    numBeams,
    maxNewTokens,
    minNewTokens,
    lengthPenalty: 1,
    earlyStopping: false,
    noRepeatNgramSize: 0,
    repetitionPenalty: 1,
    numReturnSequences: 1,
  };
}

export type Tensor = ort.Tensor;
