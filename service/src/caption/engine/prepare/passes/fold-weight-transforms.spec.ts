import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { TINY_MODEL } from '../../../../../test/support/fixtures';
import {
  DataType,
  bytesOf,
  floatTensor,
  graphOf,
  node,
  runGraph,
} from '../../../../../test/support/onnx-graphs';
import { onnxFileName } from '../../model/model-spec';
import { decodeModel, makeTensor } from '../onnx-proto';
import { ENCODER_STATE_INPUT, LOGITS_OUTPUT } from '../tensor-names';
import { extractDecoderWithPast } from './extract-decoder-with-past';
import { foldWeightTransforms } from './fold-weight-transforms';
import { hoistInvariant } from './hoist-invariant';

const F = DataType.FLOAT;
const int8 = (name: string, shape: number[]) =>
  makeTensor(
    name,
    DataType.INT8,
    shape,
    Int8Array.from({ length: shape[0] * shape[1] }, (_, i) => ((i * 37) % 255) - 127),
  );

/** The tied LM head as the q8 export writes it: x x DequantizeLinear(Transpose(int8 table)). */
function tiedHead(consumer = 'MatMul', scale = [0.0125]) {
  return graphOf({
    nodes: [
      node('Transpose', ['table'], ['table_t']),
      node('DequantizeLinear', ['table_t', 'scale', 'zero'], ['weight']),
      node(consumer, ['x', 'weight'], ['y']),
    ],
    inputs: [['x', F, [2, 4]]],
    outputs: [['y', F, [2, 6]]],
    initializers: [
      int8('table', [6, 4]),
      makeTensor('scale', F, scale.length > 1 ? [scale.length] : [], Float32Array.from(scale)),
      makeTensor(
        'zero',
        DataType.INT8,
        scale.length > 1 ? [scale.length] : [],
        new Int8Array(scale.length),
      ),
    ],
  });
}

describe('foldWeightTransforms', () => {
  it('precomputes a Transpose -> DequantizeLinear weight, to the bit of what ORT computes', async () => {
    const x = floatTensor([2, 4]);
    // Unoptimized, the stock graph computes the fp32 matmul the fold must reproduce (ORT's
    // optimizer may fuse this toy head into an integer kernel, which rounds differently).
    const plain = { graphOptimizationLevel: 'disabled' } as const;
    const expected = await runGraph(tiedHead(), { x }, plain);
    const graph = tiedHead();
    expect(foldWeightTransforms(graph)).toBe(2);
    expect(graph.node.map((n) => n.opType)).toEqual(['MatMul']);
    expect(graph.initializer.map((t) => t.name)).toEqual(['weight']);
    const actual = await runGraph(graph, { x }, plain);
    expect(Array.from(actual.y.data as Float32Array)).toEqual(
      Array.from(expected.y.data as Float32Array),
    );
  });

  it('folds the tied LM head of the tiny q8 decoder', () => {
    const file = join(TINY_MODEL, onnxFileName('decoder_model_merged', 'q8'));
    const split = hoistInvariant(
      extractDecoderWithPast(decodeModel(readFileSync(file), file)),
      ENCODER_STATE_INPUT,
    );
    expect(foldWeightTransforms(split.perStep)).toBeGreaterThanOrEqual(1);
    const lmHead = split.perStep.node.find((n) => n.output.includes(LOGITS_OUTPUT));
    expect(lmHead?.opType).toBe('MatMul');
    expect(split.perStep.initializer.map((t) => t.name)).toContain(lmHead!.input[1]);
  });

  it('folds the Transpose only when the dequantized weight feeds something else than a matmul', () => {
    // An integer kernel ORT may fuse (here an Add stands for any non-matmul reader) keeps its QDQ.
    const graph = tiedHead('Add');
    expect(foldWeightTransforms(graph)).toBe(1);
    expect(graph.node.map((n) => n.opType)).toEqual(['DequantizeLinear', 'Add']);
  });

  it('leaves per-axis quantization to ONNX Runtime', () => {
    const graph = tiedHead('MatMul', [0.01, 0.02, 0.03, 0.04]);
    expect(foldWeightTransforms(graph)).toBe(1);
    expect(graph.node.map((n) => n.opType)).toEqual(['DequantizeLinear', 'MatMul']);
  });

  it('leaves a graph without constant weight transforms unchanged', () => {
    const graph = graphOf({
      nodes: [node('Transpose', ['x'], ['xt']), node('MatMul', ['xt', 'x'], ['y'])],
      inputs: [['x', F, [4, 4]]],
      outputs: [['y', F, [4, 4]]],
    });
    const before = bytesOf(graph);
    expect(foldWeightTransforms(graph)).toBe(0);
    expect(bytesOf(graph)).toEqual(before);
  });
});
