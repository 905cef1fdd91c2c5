/**
 * The order the graph passes run in, from the stock hub files to the graphs the runtime loads.
 * Each pass is exact (it moves or precomputes work, it never changes arithmetic); the caller
 * proves the result against the stock graph (decoder-equivalence.ts) before it is used.
 */
import { readFile } from 'node:fs/promises';
import { HoistedValue } from '../prepared-model';
import { asModel } from './graph-queries';
import { hoistedTypes, declareHoisted } from './hoisted-types';
import { Model, decodeModel, encodeModel } from './onnx-proto';
import { addLogSoftmaxOutput } from './passes/add-log-softmax-output';
import { broadcastHoistedOverBeams } from './passes/broadcast-hoisted-over-beams';
import { encoderStatesAsShape } from './passes/encoder-states-as-shape';
import { extractDecoderWithPast } from './passes/extract-decoder-with-past';
import { foldWeightTransforms } from './passes/fold-weight-transforms';
import { hoistInvariant } from './passes/hoist-invariant';
import { Int8HeadKernel, int8LmHead } from './passes/int8-lm-head';
import { reorderPastInGraph } from './passes/reorder-past-in-graph';
import { rowsAtOwnPositions } from './passes/rows-at-own-positions';
import { StepDims, foldShapes } from './passes/fold-shapes';
import { constant, inferShapes, symbol } from './symbolic-shapes';
import { ModelSpec } from '../model/model-spec';
import { Graph } from './onnx-proto';
import { signMatMulIntegerWeights } from './passes/sign-matmul-integer-weights';
import {
  BEAM_INDEX_INPUT,
  CACHE_LENGTH_INPUT,
  ENCODER_SHAPE_INPUT,
  ENCODER_STATE_INPUT,
  INPUT_IDS,
  PAST_PREFIX,
  POSITION_IDS_INPUT,
} from './tensor-names';

/** The choices of graph variants; the defaults give the exact (stock-arithmetic) graphs. */
export interface DecoderVariant {
  /** Run the tied LM head on the int8 table (q8 models only; not exact). */
  int8Head?: { kernel: Int8HeadKernel; signedWeights: boolean };
}

export interface OptimizedDecoder {
  onceBytes: Uint8Array;
  stepBytes: Uint8Array;
  hoisted: HoistedValue[];
  hoistedNodes: number;
  folded: number;
  stepReadsEncoderShape: boolean;
  hoistedPerImage: boolean;
  /** Whether the LM head runs on int8 weights (variant.int8Head applied). */
  int8Head: boolean;
  /** Nodes foldShapes removed from the step graph. */
  shapeNodesFolded: number;
}

/** The stock decoder as a runnable pair: once-per-image graph and per-step graph. */
export async function optimizeDecoder(
  stock: Model,
  spec: ModelSpec,
  variant: DecoderVariant = {},
): Promise<OptimizedDecoder> {
  const split = hoistInvariant(extractDecoderWithPast(stock), ENCODER_STATE_INPUT);
  const int8Head = variant.int8Head
    ? int8LmHead(split.perStep, variant.int8Head.kernel, variant.int8Head.signedWeights)
    : false;
  if (variant.int8Head && !int8Head) throw new Error('the decoder has no int8 tied LM head');
  const folded = foldWeightTransforms(split.perStep);
  const hoistedPerImage = broadcastHoistedOverBeams(split.perStep, split.hoisted);
  if (split.perStepReadsInvariant && !encoderStatesAsShape(split.perStep)) {
    throw new Error('the per-step graph reads the encoder states for more than their shape');
  }
  if (reorderPastInGraph(split.perStep) === 0) {
    throw new Error('the per-step graph has no past_key_values inputs');
  }
  if (!rowsAtOwnPositions(split.perStep)) {
    throw new Error(
      'the per-step graph does not have the cache, position and mask layout expected',
    );
  }
  if (!addLogSoftmaxOutput(split.perStep)) throw new Error('the decoder has no logits output');
  const shapeNodesFolded = foldShapes(split.perStep, stepDims(split.once, split.perStep, spec));
  const hoisted = await hoistedTypes(asModel(stock, split.once), split.hoisted);
  declareHoisted(split.once, split.perStep, hoisted);
  return {
    onceBytes: encodeModel(asModel(stock, split.once)),
    stepBytes: encodeModel(asModel(stock, split.perStep)),
    hoisted,
    hoistedNodes: split.hoistedNodeCount,
    folded,
    stepReadsEncoderShape: split.perStepReadsInvariant,
    hoistedPerImage,
    int8Head,
    shapeNodesFolded,
  };
}

/**
 * The step's inputs in named dimensions, as the runtime feeds them: rows (one token each, so
 * input_ids is [rows, 1]), the previous step's rows and cache length, the images of the
 * cross-attention values (their shapes inferred through the once-per-image graph), and the
 * cache_length value.
 */
export function stepDims(once: Graph, step: Graph, spec: ModelSpec): StepDims {
  const headDim = spec.decoderHiddenSize / spec.decoderHeads;
  const encoder = [
    symbol('images'),
    constant(spec.encoderSequenceLength),
    constant(spec.encoderHiddenSize),
  ];
  const hoistedShapes = inferShapes(once, { [ENCODER_STATE_INPUT]: encoder }, {});
  const inputs: StepDims['inputs'] = {};
  const pasts = step.input.map((i) => i.name).filter((n) => n.startsWith(PAST_PREFIX));
  for (const { name } of step.input) {
    if (name === INPUT_IDS || name === POSITION_IDS_INPUT) {
      inputs[name] = [symbol('rows'), constant(1)];
    } else if (name === BEAM_INDEX_INPUT) {
      inputs[name] = [symbol('rows')];
    } else if (name === CACHE_LENGTH_INPUT || name === ENCODER_SHAPE_INPUT) {
      inputs[name] = [constant(name === CACHE_LENGTH_INPUT ? 1 : 3)];
    } else if (name.startsWith(PAST_PREFIX)) {
      inputs[name] = [
        symbol('prev_rows'),
        constant(spec.decoderHeads),
        symbol('past'),
        constant(headDim),
      ];
    } else {
      const shape = hoistedShapes.get(name)?.shape;
      if (shape) inputs[name] = shape;
    }
  }
  const firstHoisted = step.input.find((i) => hoistedShapes.get(i.name)?.shape)?.name;
  return {
    inputs,
    inputValues: {
      [CACHE_LENGTH_INPUT]: [symbol('cache_length')],
      [ENCODER_SHAPE_INPUT]: [
        symbol('rows'),
        constant(spec.encoderSequenceLength),
        constant(spec.encoderHiddenSize),
      ],
    },
    sources: {
      rows: { input: INPUT_IDS, axis: 0 },
      prev_rows: { input: pasts[0], axis: 0 },
      past: { input: pasts[0], axis: 2 },
      ...(firstHoisted ? { images: { input: firstHoisted, axis: 0 } } : {}),
      cache_length: { value: CACHE_LENGTH_INPUT },
    },
    nonZero: new Set(['rows', 'prev_rows', 'images']),
  };
}

/**
 * The quantized encoder with its uint8 MatMulInteger weights shifted to int8 (an exact change,
 * see signMatMulIntegerWeights): VNNI CPUs run it about twice as fast. Undefined when the
 * encoder has no such weights.
 */
export async function signedEncoder(
  path: string,
): Promise<{ bytes: Uint8Array; weights: number } | undefined> {
  const model = decodeModel(await readFile(path), path);
  const weights = signMatMulIntegerWeights(model.graph);
  return weights > 0 ? { bytes: encodeModel(model), weights } : undefined;
}
