import { DecodingOptions } from './decoding/decoding-options';
import { ModelDtype } from './model/model-spec';
import { Fidelity } from './prepared-model';

export type { DecodingOptions, ModelDtype, Fidelity };

/** What the rest of the service knows about the loaded model. */
export interface EngineInfo {
  /** The model folder in use. */
  modelDir: string;
  /** The pinned hub commit of those files, or "local" for a folder nobody pinned. */
  revision: string;
  dtype: ModelDtype;
  /** Which step graph runs: the exact one, or (q8) the one with the int8 LM head. */
  fidelity: Fidelity;
  /** sha256 naming the exact weights (source files) in use. */
  fingerprint: string;
  /** The intake resizes every image to this. */
  inputSize: { width: number; height: number };
  workers: number;
  threadsPerWorker: number;
}

export interface EngineJob {
  id: string;
  /** inputSize 8-bit RGB, row-major, 3 bytes a pixel. Ownership passes to the engine. */
  rgb: Uint8Array;
  options: DecodingOptions;
}

/** One caption of an image, as the search returned it. */
export interface CaptionSequence {
  text: string;
  /** Generated token ids (start token excluded, end-of-text included when generated). */
  tokenIds: number[];
  /**
   * In [0, 1]: exp of the mean log-probability the model gave each generated token (its raw
   * next-token distribution, before penalties); see SearchedSequence in decoding/sequence-search.
   */
  confidence: number;
}

export interface EngineResult extends CaptionSequence {
  /**
   * The options' numReturnSequences captions (1 unless asked), best first as the search ranks
   * them (beam score with length penalty; HF `generate` order); sequences[0] is the caption
   * above (text, tokenIds, confidence).
   */
  sequences: CaptionSequence[];
  encoderMs: number;
  decodingMs: number;
  /** Images that shared this one's encoder run (they joined the running rows together). */
  batchImages: number;
}

/** How the engine reports a job; each job gets exactly one call. */
export interface EngineSink {
  onResult(id: string, result: EngineResult): void;
  onCancelled(id: string): void;
  onError(id: string, error: Error): void;
}

/** Inference workers that can take work now, and replacements being started. */
export interface EngineCapacity {
  ready: number;
  starting: number;
}

/**
 * A job's worker stopped (crashed, or ended) before answering it. The job is not retried: a
 * native crash may come from the input itself, and running it again would take the replacement
 * (and every job batched with it) down too; the client may send the request again.
 */
export class WorkerLostError extends Error {
  constructor(reason: string) {
    super(`the inference worker running this caption stopped (${reason})`);
    this.name = 'WorkerLostError';
  }
}

/**
 * The boundary between the service and the inference runtime. Only implementations of this
 * interface load ONNX Runtime or transformers.js; tests swap in a fake.
 */
export interface CaptionEngine {
  load(): Promise<EngineInfo>;
  readonly capacity: EngineCapacity;
  /**
   * Called after every capacity change (a worker lost, its jobs already answered with
   * WorkerLostError; a replacement starting, ready, or failed to start) and whenever room frees
   * (a job answered), so the caller can feed more work.
   */
  onCapacityChange(listener: (capacity: EngineCapacity) => void): void;
  /**
   * Whether a job with these options can start now: a worker is idle, or its running images
   * plus this one stay within the rows-per-step and images bounds.
   */
  hasRoomFor(options: DecodingOptions): boolean;
  /**
   * Starts a job at once on a worker with room (throws when none has): its rows join that
   * worker's running batch at the next step. The sink hears of it exactly once.
   */
  submit(job: EngineJob, sink: EngineSink): void;
  /** Jobs submitted and not answered yet. */
  readonly inFlight: number;
  /** Drops a job: it leaves its batch at the next decoder step and gets onCancelled. */
  cancel(id: string): void;
  dispose(): Promise<void>;
}

export const CAPTION_ENGINE = Symbol('CAPTION_ENGINE');
