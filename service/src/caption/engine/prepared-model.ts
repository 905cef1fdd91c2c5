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
  verification: { batch: number; steps: number; maxAbsLogitDiff: number };
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
  stepPath: string;
  manifest: PreparedManifest;
}
