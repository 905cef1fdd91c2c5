/**
 * The one bench module that imports the service's engine and config code (read-only use). The
 * engine's files are being reorganised; when they move, only the import lines here change.
 */
import type * as ort from 'onnxruntime-node';
import { loadConfig } from '../service/src/config/app-config';
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
import {
  PreparedModel,
  findOrPrepare,
  proveAgainstStock,
  sourceFiles,
} from '../service/src/caption/engine/onnx/model-preparer';
import { OnnxCaptionModel } from '../service/src/caption/engine/onnx/onnx-caption-model';

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
  normalizePixels,
  onnxFileName,
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
 * logits. Today a mode's graphs are determined by MODEL_DTYPE; an engine variant selected by
 * another variable must be resolved here too (the fidelity part cross-checks that these graphs
 * give the tokens the engine gives, so a forgotten variant shows up as a mismatch).
 */
export async function preparedFor(
  environment: Record<string, string>,
  modelDir: string,
  log: Log,
): Promise<PreparedModel> {
  const config = configFor(environment, modelDir);
  return findOrPrepare(modelDir, config.model.dtype, config.model.cacheDir, log);
}

/** The engine's own sessions for a prepared model (the worker's code, run in this thread). */
export function loadCaptionModel(prepared: PreparedModel, threads: number) {
  return OnnxCaptionModel.load(prepared, threads);
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
  };
}

export type Tensor = ort.Tensor;
