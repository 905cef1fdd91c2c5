import {
  DataType,
  bytesOf,
  floatTensor,
  graphOf,
  node,
  runGraph,
} from '../../../../../test/support/onnx-graphs';
import { makeTensor } from '../onnx-proto';
import { LOGITS_OUTPUT } from '../tensor-names';
import { Int8HeadKernel, int8LmHead } from './int8-lm-head';

const F = DataType.FLOAT;
const N = 300;
const K = 64;

/** The q8 export's tied head: x @ DequantizeLinear(Transpose(uint8 table [N, K])). */
function tiedHead(tableType = DataType.UINT8, transposePerm?: number[]) {
  const codes = Uint8Array.from({ length: N * K }, (_, i) => (i * 97 + 13) % 256);
  return graphOf({
    nodes: [
      node(
        'Transpose',
        ['table'],
        ['table_t'],
        transposePerm ? [{ name: 'perm', type: 7, ints: transposePerm }] : [],
      ),
      node('DequantizeLinear', ['table_t', 'scale', 'zero'], ['weight']),
      node('MatMul', ['x', 'weight'], [LOGITS_OUTPUT]),
    ],
    inputs: [['x', F, ['rows', 1, K]]],
    outputs: [[LOGITS_OUTPUT, F, ['rows', 1, N]]],
    initializers: [
      tableType === DataType.UINT8
        ? makeTensor('table', DataType.UINT8, [N, K], codes)
        : makeTensor(
            'table',
            DataType.INT8,
            [N, K],
            Int8Array.from(codes, (c) => c - 128),
          ),
      makeTensor('scale', F, [], Float32Array.of(0.0125)),
      makeTensor(
        'zero',
        tableType,
        [],
        tableType === DataType.UINT8 ? Uint8Array.of(124) : Int8Array.of(-4),
      ),
    ],
  });
}

const plain = { graphOptimizationLevel: 'disabled' } as const;

describe('int8LmHead', () => {
  const x = floatTensor([3, 1, K]);

  it.each([
    ['dynamic-quantize-matmul', true, DataType.UINT8],
    ['dynamic-quantize-matmul', false, DataType.UINT8],
    ['dynamic-quantize-matmul', true, DataType.INT8],
    ['matmul-nbits', false, DataType.UINT8],
    ['matmul-nbits', false, DataType.INT8],
  ] as [Int8HeadKernel, boolean, number][])(
    '%s (signed weights: %s, table type %s) runs the same integers, within activation rounding',
    async (kernel, signed, tableType) => {
      const expected = await runGraph(tiedHead(tableType), { x }, plain);
      const graph = tiedHead(tableType);
      expect(int8LmHead(graph, kernel, signed)).toBe(true);
      expect(graph.node.map((n) => n.opType)).toEqual([
        kernel === 'matmul-nbits' ? 'MatMulNBits' : 'DynamicQuantizeMatMul',
      ]);
      const actual = await runGraph(graph, { x });
      const a = actual[LOGITS_OUTPUT].data as Float32Array;
      const e = expected[LOGITS_OUTPUT].data as Float32Array;
      expect(actual[LOGITS_OUTPUT].dims).toEqual([3, 1, N]);
      // Only the activations are quantized (8 bits over their range): the error is a few
      // percent of the logits' scale. A wrong weight layout would be of the logits' own size.
      const scale = Math.max(...Array.from(e, Math.abs));
      const worst = Math.max(...Array.from(a, (v, i) => Math.abs(v - e[i])));
      expect(worst).toBeLessThan(0.03 * scale);
    },
  );

  it('leaves a head that is not a dequantized transposed table unchanged', () => {
    const graph = graphOf({
      nodes: [node('MatMul', ['x', 'w'], [LOGITS_OUTPUT])],
      inputs: [['x', F, [1, K]]],
      outputs: [[LOGITS_OUTPUT, F, [1, N]]],
      initializers: [makeTensor('w', F, [K, N], new Float32Array(K * N))],
    });
    const before = bytesOf(graph);
    expect(int8LmHead(graph, 'dynamic-quantize-matmul', true)).toBe(false);
    expect(bytesOf(graph)).toEqual(before);
  });

  it('leaves a head whose Transpose is not a plain 2-D swap unchanged', () => {
    const graph = tiedHead(DataType.UINT8, [0, 1]);
    const before = bytesOf(graph);
    expect(int8LmHead(graph, 'matmul-nbits', false)).toBe(false);
    expect(bytesOf(graph)).toEqual(before);
  });
});
