/**
 * What preparation hands the runtime: the files to load and what the passes did to them. The
 * prepare side (prepare/) writes it, the runtime (runtime/) reads it; it travels to the
 * inference workers as plain data.
 */
import type { Tensor } from 'onnxruntime-node';
import { ModelDtype, ModelSpec } from './model/model-spec';

export interface SourceFile {
  file: string;
  size: number;
  mtimeMs: number;
  sha256: string;
}

export interface HoistedValue {
  name: string;
  type: Tensor.Type;
  rank: number;
}

/** How a prepared step graph compared with the stock decoder (decoder-equivalence.ts). */
export interface Verification {
  batch: number;
  steps: number;
  maxAbsLogitDiff: number;
  /** The largest |logit| of the stock decoder over the run (the scale of the difference). */
  maxAbsLogit: number;
  /** Fraction of (row, step) pairs where both pick the same most likely token. */
  argmaxAgreement: number;
}

/**
 * `exact`: the prepared graphs do the stock graphs' arithmetic (q8 logits within 1.5e-6 of
 * stock, fp32 identical). `fast`: q8 also runs its tied LM head on the int8 table (not exact,
 * its fidelity recorded); fp32 is the same in both.
 */
export type Fidelity = 'exact' | 'fast';

/** A step graph that is not exact, with how it compared with the stock decoder. */
export interface StepVariant {
  file: string;
  /** What it changes, e.g. "int8 LM head (dynamic-quantize-matmul)". */
  change: string;
  verification: Verification;
}

export interface PreparedManifest {
  format: number;
  dtype: ModelDtype;
  sources: { encoder: SourceFile; decoder: SourceFile };
  hoisted: HoistedValue[];
  /** The step graph takes the encoder states' shape (ENCODER_SHAPE_INPUT), not the states. */
  stepReadsEncoderShape: boolean;
  /** The step graph broadcasts hoisted values over beams: feed them once per image. */
  hoistedPerImage: boolean;
  hoistedNodes: number;
  foldedWeights: number;
  /** q8 only: the encoder with int8 (not uint8) weights, for CPUs with VNNI; absent if nothing changed. */
  vnniEncoder?: { file: string; weights: number };
  verification: Verification;
  /** q8 only: the `fast` step graph (ENGINE_FIDELITY=fast). */
  fastStep?: StepVariant;
  /** sha256 over the source hashes: names this exact model in caches and metrics. */
  fingerprint: string;
}

export interface PreparedModel {
  modelDir: string;
  dtype: ModelDtype;
  spec: ModelSpec;
  encoderPath: string;
  /** The encoder variant to load on this CPU. */
  encoderToLoad: string;
  oncePath: string;
  /** The exact step graph. */
  stepPath: string;
  /** The fast step graph, when the model has one (q8). */
  fastStepPath?: string;
  manifest: PreparedManifest;
}
