import { DecodingOptions } from '../decoding/decoding-options';
import { ModelDtype, ModelSpec } from '../model/model-spec';

/** Messages between the engine host (HTTP thread) and an inference worker thread. */

export interface WorkerInit {
  modelDir: string;
  dtype: ModelDtype;
  threads: number;
  fallbackCacheDir: string;
}

export interface WorkerJob {
  id: string;
  /** model-size 8-bit RGB, HWC; transferred, not copied */
  rgb: Uint8Array;
  options: DecodingOptions;
}

export type HostMessage =
  { type: 'batch'; jobs: WorkerJob[] } | { type: 'cancel'; id: string } | { type: 'dispose' };

export interface WorkerReady {
  type: 'ready';
  spec: ModelSpec;
  fingerprint: string;
}

export interface JobDone {
  type: 'result';
  id: string;
  text: string;
  tokenIds: number[];
  encoderMs: number;
  decodingMs: number;
  batchImages: number;
}

export type WorkerMessage =
  | WorkerReady
  | { type: 'log'; message: string }
  | JobDone
  | { type: 'cancelled'; id: string }
  | { type: 'failed'; ids: string[]; message: string }
  | { type: 'batch-done'; images: number }
  | { type: 'disposed' };
