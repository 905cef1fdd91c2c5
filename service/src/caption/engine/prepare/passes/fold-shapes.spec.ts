import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { TINY_MODEL } from '../../../../../test/support/fixtures';
import {
  DataType,
  bytesOf,
  floatTensor,
  graphOf,
  node,
  runGraph,
} from '../../../../../test/support/onnx-graphs';
import { onnxFileName, readModelSpec } from '../../model/model-spec';
import { decodeModel, int64Values, makeTensor } from '../onnx-proto';
import { optimizeDecoder } from '../pass-pipeline';
import { constant, inferShapes, key, reshaped, symbol } from '../symbolic-shapes';
import { StepDims, foldShapes } from './fold-shapes';

const F = DataType.FLOAT;
const I64 = DataType.INT64;
const ints = (name: string, values: number[], shape = [values.length]) =>
  makeTensor(name, I64, shape, BigInt64Array.from(values.map(BigInt)));

const dimsOf = (inputs: StepDims['inputs']): StepDims => ({
  inputs,
  inputValues: {},
  sources: { rows: { input: 'x', axis: 0 } },
  nonZero: new Set(['rows']),
});

/** y = Reshape(MatMul(x, w), [dim0(h), 2, -1]) with the target computed from h's shape. */
function reshapeFromShape() {
  return graphOf({
    nodes: [
      node('MatMul', ['x', 'w'], ['h']),
      node('Shape', ['h'], ['h_shape']),
      node('Gather', ['h_shape', 'zero'], ['rows']),
      node('Unsqueeze', ['rows', 'axes0'], ['rows_1']),
      node('Concat', ['rows_1', 'two', 'minus_one'], ['target'], [{ name: 'axis', type: 2, i: 0 }]),
      node('Reshape', ['h', 'target'], ['y']),
      // A consumer that needs the shape at run time (an Expand to h's shape).
      node('Expand', ['bias', 'h_shape'], ['b']),
      node('Add', ['y', 'y'], ['z']),
    ],
    inputs: [['x', F, ['rows', 4]]],
    outputs: [
      ['z', F, ['rows', 2, 3]],
      ['b', F, ['rows', 6]],
    ],
    initializers: [
      makeTensor(
        'w',
        F,
        [4, 6],
        Float32Array.from({ length: 24 }, (_, i) => i / 7),
      ),
      makeTensor(
        'bias',
        F,
        [6],
        Float32Array.from({ length: 6 }, (_, i) => i),
      ),
      ints('zero', [0], []),
      ints('axes0', [0]),
      ints('two', [2]),
      ints('minus_one', [-1]),
    ],
  });
}

describe('symbolic shapes', () => {
  it('resolves reshape targets with 0 and -1 over named dimensions', () => {
    const rows = symbol('rows');
    const out = reshaped([rows, constant(1), constant(768)], [constant(-1), constant(768)]);
    expect(out?.map(key)).toEqual([key(rows), key(constant(768))]);
    // rows / images has no linear form: an opaque dimension, the same for the same quotient.
    const a = reshaped([rows, constant(8)], [symbol('images'), constant(-1), constant(8)]);
    const b = reshaped([rows, constant(8)], [symbol('images'), constant(-1), constant(8)]);
    expect(a?.[1]).toEqual(b?.[1]);
    expect(Object.keys(a![1].s)).toHaveLength(1);
  });

  it('follows values through Shape, Gather, Unsqueeze and Concat into a reshape', () => {
    const known = inferShapes(reshapeFromShape(), { x: [symbol('rows'), constant(4)] }, {});
    expect(known.get('h')?.shape?.map(key)).toEqual([key(symbol('rows')), '6']);
    expect(known.get('target')?.value?.map(key)).toEqual([key(symbol('rows')), '2', '-1']);
    expect(known.get('y')?.shape?.map(key)).toEqual([key(symbol('rows')), '2', '3']);
  });
});

describe('foldShapes', () => {
  it('makes reshape targets constants and shares what must stay dynamic; results unchanged', async () => {
    const graph = reshapeFromShape();
    const x = floatTensor([5, 4]);
    const expected = await runGraph(reshapeFromShape(), { x });
    expect(foldShapes(graph, dimsOf({ x: [symbol('rows'), constant(4)] }))).toBeGreaterThan(0);
    const reshape = graph.node.find((n) => n.opType === 'Reshape')!;
    const target = graph.initializer.find((t) => t.name === reshape.input[1])!;
    expect(int64Values(target)).toEqual([0, 2, 3]);
    // The Expand still needs h's shape: rebuilt from the input's dimensions, not from h.
    expect(graph.node.filter((n) => n.opType === 'Shape').map((n) => n.input[0])).toEqual(['x']);
    const actual = await runGraph(graph, { x });
    for (const name of ['z', 'b']) {
      expect(actual[name].dims).toEqual(expected[name].dims);
      expect(Array.from(actual[name].data as Float32Array)).toEqual(
        Array.from(expected[name].data as Float32Array),
      );
    }
  });

  it('leaves a graph without shape computations unchanged', () => {
    const graph = graphOf({
      nodes: [node('Relu', ['x'], ['y'])],
      inputs: [['x', F, ['rows', 4]]],
      outputs: [['y', F, ['rows', 4]]],
    });
    const before = bytesOf(graph);
    expect(foldShapes(graph, dimsOf({ x: [symbol('rows'), constant(4)] }))).toBe(0);
    expect(bytesOf(graph)).toEqual(before);
  });

  it('takes the shape computations out of the tiny step graph', async () => {
    const bytes = readFileSync(join(TINY_MODEL, onnxFileName('decoder_model_merged', 'q8')));
    const optimized = await optimizeDecoder(decodeModel(bytes, 'q8'), readModelSpec(TINY_MODEL));
    const step = decodeModel(optimized.stepBytes, 'step').graph;
    const shapes = step.node.filter((n) => n.opType === 'Shape');
    expect(optimized.shapeNodesFolded).toBeGreaterThan(400);
    // What is left reads graph inputs only (once each), never an intermediate tensor.
    const inputs = new Set(step.input.map((i) => i.name));
    expect(shapes.every((n) => inputs.has(n.input[0]))).toBe(true);
    expect(shapes.length).toBeLessThanOrEqual(4);
    // (The proof against the stock decoder runs in pass-pipeline.spec.)
    await ort.InferenceSession.create(optimized.stepBytes).then((s) => s.release());
  });
});
