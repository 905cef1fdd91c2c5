import * as ort from 'onnxruntime-node';
import { Verification } from '../prepared-model';
import { argmax } from '../decoding/logits-processors';
import { ModelSpec } from '../model/model-spec';
import { decodeModel } from './onnx-proto';
import { DecoderVariant, optimizeDecoder } from './pass-pipeline';
import {
  BEAM_INDEX_INPUT,
  CACHE_LENGTH_INPUT,
  ENCODER_SHAPE_INPUT,
  ENCODER_STATE_INPUT,
  INPUT_IDS,
  LOGITS_OUTPUT,
  PAST_PREFIX,
  POSITION_IDS_INPUT,
  PRESENT_PREFIX,
  USE_CACHE_BRANCH,
  cacheNames,
} from './tensor-names';

export type Equivalence = Verification;

/**
 * The equivalence proof on a stock decoder file: optimize it and compare the optimized pair with
 * it over `steps` steps (the tests and the benchmark run it with more steps than preparation).
 */
export async function proveAgainstStock(
  stockBytes: Uint8Array,
  spec: ModelSpec,
  run: { batch: number; steps: number },
  variant: DecoderVariant = {},
): Promise<Equivalence> {
  const optimized = await optimizeDecoder(decodeModel(stockBytes, 'stock decoder'), spec, variant);
  return compareDecoders(stockBytes, optimized.onceBytes, optimized.stepBytes, spec, run);
}

/**
 * Runs the stock decoder and the optimized pair (once-per-image graph + per-step graph) side by
 * side on the same random encoder states, for `steps` greedy steps, and returns the largest
 * logit difference. Also checks that every hoisted value is batch-major, which the engine relies
 * on when it repeats them per beam.
 */
export async function compareDecoders(
  stockBytes: Uint8Array,
  onceBytes: Uint8Array,
  stepBytes: Uint8Array,
  spec: ModelSpec,
  { batch, steps }: { batch: number; steps: number },
): Promise<Equivalence> {
  const options: ort.InferenceSession.SessionOptions = {
    graphOptimizationLevel: 'all',
    interOpNumThreads: 1,
  };
  const [stock, once, step] = await Promise.all([
    ort.InferenceSession.create(stockBytes, options),
    ort.InferenceSession.create(onceBytes, options),
    ort.InferenceSession.create(stepBytes, options),
  ]);
  try {
    const states = randomTensor([batch, spec.encoderSequenceLength, spec.encoderHiddenSize], 7);
    const onceOut = await once.run({ [ENCODER_STATE_INPUT]: states });
    for (const name of once.outputNames) {
      if (onceOut[name].dims[0] !== batch) {
        throw new Error(
          `hoisted value ${name} is not batch-major (dims ${onceOut[name].dims.join('x')})`,
        );
      }
    }
    const headDim = spec.decoderHiddenSize / spec.decoderHeads;
    const emptyPast = () =>
      new ort.Tensor('float32', new Float32Array(0), [batch, spec.decoderHeads, 0, headDim]);
    let stockPast: Record<string, ort.Tensor> = {};
    let ourPast: Record<string, ort.Tensor> = {};
    for (const name of cacheNames(spec.decoderLayers).past) {
      stockPast[name] = emptyPast();
      ourPast[name] = emptyPast();
    }
    let tokens = new Array<number>(batch).fill(spec.decoderStartTokenId);
    let maxDiff = 0;
    let maxLogit = 0;
    let agreeing = 0;
    for (let s = 0; s < steps; s++) {
      const inputIds = new ort.Tensor('int64', BigInt64Array.from(tokens.map(BigInt)), [batch, 1]);
      const stockFeeds: Record<string, ort.Tensor> = {
        [INPUT_IDS]: inputIds,
        [ENCODER_STATE_INPUT]: states,
        ...stockPast,
      };
      if (stock.inputNames.includes(USE_CACHE_BRANCH)) {
        stockFeeds[USE_CACHE_BRANCH] = new ort.Tensor('bool', [s > 0], [1]);
      }
      const ourFeeds: Record<string, ort.Tensor> = { [INPUT_IDS]: inputIds, ...ourPast };
      for (const name of once.outputNames) ourFeeds[name] = onceOut[name];
      if (step.inputNames.includes(BEAM_INDEX_INPUT)) {
        ourFeeds[BEAM_INDEX_INPUT] = new ort.Tensor(
          'int64',
          BigInt64Array.from({ length: batch }, (_, i) => BigInt(i)),
          [batch],
        );
      }
      if (step.inputNames.includes(POSITION_IDS_INPUT)) {
        ourFeeds[POSITION_IDS_INPUT] = new ort.Tensor(
          'int64',
          new BigInt64Array(batch).fill(BigInt(s)),
          [batch, 1],
        );
        ourFeeds[CACHE_LENGTH_INPUT] = new ort.Tensor('int64', BigInt64Array.of(BigInt(s)), [1]);
      }
      if (step.inputNames.includes(ENCODER_SHAPE_INPUT)) {
        ourFeeds[ENCODER_SHAPE_INPUT] = new ort.Tensor(
          'int64',
          BigInt64Array.from(states.dims.map(BigInt)),
          [3],
        );
      }
      const a = await stock.run(stockFeeds);
      const b = await step.run(ourFeeds);
      const la = a[LOGITS_OUTPUT].data as Float32Array;
      const lb = b[LOGITS_OUTPUT].data as Float32Array;
      for (let i = 0; i < la.length; i++) {
        maxDiff = Math.max(maxDiff, Math.abs(la[i] - lb[i]));
        maxLogit = Math.max(maxLogit, Math.abs(la[i]));
      }
      const vocab = spec.vocabSize;
      for (let r = 0; r < batch; r++) {
        const row = (l: Float32Array) => l.subarray(r * vocab, (r + 1) * vocab);
        if (argmax(row(la)) === argmax(row(lb))) agreeing++;
      }
      stockPast = presentsAsPast(a);
      ourPast = presentsAsPast(b);
      // Both continue with the stock graph's choices, so they stay on the same path.
      tokens = tokens.map((_, r) => argmax(la.subarray(r * vocab, (r + 1) * vocab)));
    }
    return {
      batch,
      steps,
      maxAbsLogitDiff: maxDiff,
      maxAbsLogit: maxLogit,
      argmaxAgreement: agreeing / (batch * steps),
    };
  } finally {
    await Promise.all([stock.release(), once.release(), step.release()]);
  }
}

function presentsAsPast(
  outputs: ort.InferenceSession.OnnxValueMapType,
): Record<string, ort.Tensor> {
  const past: Record<string, ort.Tensor> = {};
  for (const [name, value] of Object.entries(outputs)) {
    if (name.startsWith(PRESENT_PREFIX)) {
      past[PAST_PREFIX + name.slice(PRESENT_PREFIX.length)] = value as ort.Tensor;
    }
  }
  return past;
}

function randomTensor(shape: number[], seed: number): ort.Tensor {
  const size = shape.reduce((a, b) => a * b, 1);
  const data = new Float32Array(size);
  let state = seed >>> 0;
  for (let i = 0; i < size; i++) {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    data[i] = (state / 2 ** 32) * 2 - 1;
  }
  return new ort.Tensor('float32', data, shape);
}
