import * as ort from 'onnxruntime-node';
import { StepScores } from '../decoding/sequence-search';
import { ModelSpec } from '../model/model-spec';
import { Fidelity, PreparedModel } from '../prepared-model';
import { StepInput } from './decode-loop';
import {
  BEAM_INDEX_INPUT,
  CACHE_LENGTH_INPUT,
  ENCODER_SHAPE_INPUT,
  ENCODER_STATE_INPUT,
  INPUT_IDS,
  LOGITS_OUTPUT,
  LOG_PROBS_OUTPUT,
  POSITION_IDS_INPUT,
  cacheNames,
} from '../prepare/tensor-names';

export type TensorMap = Record<string, ort.Tensor>;

export interface RuntimeOptions {
  /** ONNX Runtime intra-op threads. */
  threads: number;
  /** Which step graph to run (default exact). */
  fidelity?: Fidelity;
  /** Let idle intra-op threads spin (ONNX Runtime's default, true). */
  spinning?: boolean;
}

export interface StepOutput extends StepScores {
  presents: ort.Tensor[];
}

/**
 * The three ONNX Runtime sessions of a prepared model: the ViT encoder, the once-per-image
 * cross-attention graph and the per-token decoder step. Everything here runs on the calling
 * thread, so it lives in the engine worker.
 */
export class OnnxCaptionModel {
  readonly pastNames: string[];
  readonly presentNames: string[];
  readonly headDim: number;

  private constructor(
    readonly prepared: PreparedModel,
    private readonly encoder: ort.InferenceSession,
    private readonly once: ort.InferenceSession,
    private readonly step: ort.InferenceSession,
  ) {
    const spec = prepared.spec;
    const names = cacheNames(spec.decoderLayers);
    this.pastNames = names.past;
    this.presentNames = names.present;
    this.headDim = spec.decoderHiddenSize / spec.decoderHeads;
  }

  static async load(prepared: PreparedModel, runtime: RuntimeOptions): Promise<OnnxCaptionModel> {
    const { threads, fidelity = 'exact', spinning = true } = runtime;
    const options: ort.InferenceSession.SessionOptions = {
      intraOpNumThreads: threads,
      interOpNumThreads: 1,
      executionMode: 'sequential',
      graphOptimizationLevel: 'all',
      // The arena keeps its high-water mark for good and grows in doubling chunks; tensor sizes
      // here swing with batch size and step, so plain allocations keep resident memory far lower
      // (measured: -270 MB peak for a batch of 8 images x 4 beams) at no measurable speed cost.
      enableCpuMemArena: false,
      // Idle intra-op threads spin before they sleep: faster hand-offs on a core of their own,
      // CPU taken from everything else when cores are shared (see ENGINE_SPINNING).
      extra: { session: { intra_op: { allow_spinning: spinning ? '1' : '0' } } },
    };
    const encoder = await ort.InferenceSession.create(prepared.encoderToLoad, options);
    const once = await ort.InferenceSession.create(prepared.oncePath, options);
    const step = await ort.InferenceSession.create(stepGraph(prepared, fidelity), options);
    return new OnnxCaptionModel(prepared, encoder, once, step);
  }

  get spec(): ModelSpec {
    return this.prepared.spec;
  }

  get stepReadsEncoderShape(): boolean {
    return this.prepared.manifest.stepReadsEncoderShape;
  }

  get hoistedPerImage(): boolean {
    return this.prepared.manifest.hoistedPerImage;
  }

  get hoistedNames(): string[] {
    return this.prepared.manifest.hoisted.map((h) => h.name);
  }

  /** pixels: [images, 3, H, W] normalized. Returns encoder states [images, seq, hidden]. */
  async encode(pixels: Float32Array, images: number): Promise<ort.Tensor> {
    const { width, height } = this.spec.imageSize;
    const input = new ort.Tensor('float32', pixels, [images, 3, height, width]);
    const out = await this.encoder.run({ [this.encoder.inputNames[0]]: input });
    return out[this.encoder.outputNames[0]];
  }

  /** The cross-attention keys/values of each image, batch-major. */
  async crossAttention(states: ort.Tensor): Promise<TensorMap> {
    const out = await this.once.run({ [ENCODER_STATE_INPUT]: states });
    const hoisted: TensorMap = {};
    for (const name of this.hoistedNames) hoisted[name] = out[name];
    return hoisted;
  }

  /** Runs one decoder step, fetching only the scores asked for (plus the new cache). */
  async decodeStep(step: StepInput): Promise<StepOutput> {
    const { inputIds, positions, past, pastRows, cacheLength, hoisted, want } = step;
    const rows = inputIds.length;
    const int64 = (values: number[], dims: number[]) =>
      new ort.Tensor(
        'int64',
        BigInt64Array.from(values, (v) => BigInt(v)),
        dims,
      );
    const feeds: TensorMap = {
      [INPUT_IDS]: int64(inputIds, [rows, 1]),
      ...hoisted,
      // Row r of this step continues row pastRows[r] of the cache (the graph gathers them).
      [BEAM_INDEX_INPUT]: int64(pastRows, [rows]),
      [POSITION_IDS_INPUT]: int64(positions, [rows, 1]),
      [CACHE_LENGTH_INPUT]: int64([cacheLength], [1]),
    };
    this.pastNames.forEach((name, i) => (feeds[name] = past[i]));
    if (this.stepReadsEncoderShape) {
      const { encoderSequenceLength, encoderHiddenSize } = this.spec;
      feeds[ENCODER_SHAPE_INPUT] = int64([rows, encoderSequenceLength, encoderHiddenSize], [3]);
    }
    const fetches = [...this.presentNames];
    if (want.has('logits')) fetches.push(LOGITS_OUTPUT);
    if (want.has('logProbs')) fetches.push(LOG_PROBS_OUTPUT);
    const out = await this.step.run(feeds, fetches);
    // One token per row, so [rows, 1, vocab] is already the [rows, vocab] the searches read.
    const scores = (t: ort.Tensor | undefined) => t?.data as Float32Array | undefined;
    return {
      logits: scores(out[LOGITS_OUTPUT]),
      logProbs: scores(out[LOG_PROBS_OUTPUT]),
      presents: this.presentNames.map((name) => out[name]),
    };
  }

  emptyPast(rows: number): ort.Tensor[] {
    return this.pastNames.map(
      () =>
        new ort.Tensor('float32', new Float32Array(0), [
          rows,
          this.spec.decoderHeads,
          0,
          this.headDim,
        ]),
    );
  }

  async release(): Promise<void> {
    await Promise.all([this.encoder.release(), this.once.release(), this.step.release()]);
  }
}

/** The step graph for a fidelity: fp32 has only the exact one; q8 must have its fast one. */
export function stepGraph(prepared: PreparedModel, fidelity: Fidelity): string {
  if (fidelity === 'exact' || prepared.dtype === 'fp32') return prepared.stepPath;
  if (!prepared.fastStepPath) {
    throw new Error(
      'ENGINE_FIDELITY=fast needs the int8 LM head step graph, which preparation did not make for this model',
    );
  }
  return prepared.fastStepPath;
}
