import * as ort from 'onnxruntime-node';
import {
  DataType,
  bytesOf,
  floatTensor,
  floats,
  graphOf,
  node,
  runGraph,
} from '../../../../../test/support/onnx-graphs';
import { broadcastHoistedOverBeams } from './broadcast-hoisted-over-beams';

const F = DataType.FLOAT;

/** Attention over hoisted keys/values as GPT-2 computes it: (q x k) * scale, then x v. */
function attention() {
  return graphOf({
    nodes: [
      node('MatMul', ['q', 'k'], ['scores']),
      node('Mul', ['scores', 'scale'], ['scaled']),
      node('MatMul', ['scaled', 'v'], ['context']),
    ],
    inputs: [
      ['q', F, ['rows', 2, 1, 4]],
      ['k', F, ['batch', 2, 4, 5]],
      ['v', F, ['batch', 2, 5, 4]],
    ],
    outputs: [['context', F, ['rows', 2, 1, 4]]],
    initializers: [floats('scale', [], [0.125])],
  });
}

/** Row r of the result is image `rows[r]` of the source. */
function perRow(source: ort.Tensor, rows: number[]): ort.Tensor {
  const size = source.dims.slice(1).reduce((a, b) => a * b, 1);
  const data = source.data as Float32Array;
  const out = new Float32Array(rows.length * size);
  rows.forEach((r, i) => out.set(data.subarray(r * size, (r + 1) * size), i * size));
  return new ort.Tensor('float32', out, [rows.length, ...source.dims.slice(1)]);
}

describe('broadcastHoistedOverBeams', () => {
  const images = 2;
  const beams = 3;
  const q = floatTensor([images * beams, 2, 1, 4]);
  const k = floatTensor([images, 2, 4, 5], 100);
  const v = floatTensor([images, 2, 5, 4], 200);
  const beamRows = [0, 0, 0, 1, 1, 1];

  it('takes each image once and gives what per-beam copies give, to the bit', async () => {
    const stock = attention();
    const expected = await runGraph(stock, { q, k: perRow(k, beamRows), v: perRow(v, beamRows) });
    const rewritten = attention();
    expect(broadcastHoistedOverBeams(rewritten, ['k', 'v'])).toBe(true);
    // The scale was folded into a FusedMatMul, as ONNX Runtime fuses the stock graph.
    const fused = rewritten.node.filter((n) => n.opType === 'FusedMatMul');
    expect(fused).toHaveLength(1);
    expect(fused[0].attribute.find((a) => a.name === 'alpha')?.f).toBe(0.125);
    expect(rewritten.node.some((n) => n.opType === 'Mul')).toBe(false);
    const actual = await runGraph(rewritten, { q, k, v });
    expect(actual.context.dims).toEqual(expected.context.dims);
    expect(Array.from(actual.context.data as Float32Array)).toEqual(
      Array.from(expected.context.data as Float32Array),
    );
  });

  it('still takes one copy per row (images with different beam counts in one batch)', async () => {
    const rewritten = attention();
    broadcastHoistedOverBeams(rewritten, ['k', 'v']);
    const rows = [0, 1, 1, 0, 1, 0];
    const expected = await runGraph(attention(), { q, k: perRow(k, rows), v: perRow(v, rows) });
    const actual = await runGraph(rewritten, { q, k: perRow(k, rows), v: perRow(v, rows) });
    expect(Array.from(actual.context.data as Float32Array)).toEqual(
      Array.from(expected.context.data as Float32Array),
    );
  });

  it.each([
    [
      'a hoisted value read by something else than a MatMul',
      graphOf({
        nodes: [node('MatMul', ['q', 'k'], ['scores']), node('Add', ['scores', 'k'], ['out'])],
        inputs: [
          ['q', F, [2, 4, 4]],
          ['k', F, [2, 4, 4]],
        ],
        outputs: [['out', F, [2, 4, 4]]],
      }),
    ],
    [
      'a hoisted value as the left operand',
      graphOf({
        nodes: [node('MatMul', ['k', 'q'], ['out'])],
        inputs: [
          ['q', F, [2, 4, 4]],
          ['k', F, [2, 4, 4]],
        ],
        outputs: [['out', F, [2, 4, 4]]],
      }),
    ],
    [
      'a hoisted value that is a graph output',
      graphOf({
        nodes: [node('MatMul', ['q', 'k'], ['out'])],
        inputs: [
          ['q', F, [2, 4, 4]],
          ['k', F, [2, 4, 4]],
        ],
        outputs: [
          ['out', F, [2, 4, 4]],
          ['k', F, [2, 4, 4]],
        ],
      }),
    ],
    [
      'a hoisted value nothing reads',
      graphOf({
        nodes: [node('MatMul', ['q', 'q'], ['out'])],
        inputs: [
          ['q', F, [2, 4, 4]],
          ['k', F, [2, 4, 4]],
        ],
        outputs: [['out', F, [2, 4, 4]]],
      }),
    ],
  ])('refuses %s and leaves the graph unchanged', (_case, graph) => {
    const before = bytesOf(graph);
    expect(broadcastHoistedOverBeams(graph, ['k'])).toBe(false);
    expect(bytesOf(graph)).toEqual(before);
  });
});
