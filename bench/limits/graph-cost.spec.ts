import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { onnx } from 'onnx-proto';
import { graphCost, weightMacs } from './graph-cost';

const T = onnx.TensorProto.DataType;

function tensor(name: string, dims: number[], dataType: number, bytesPerElement: number) {
  const count = dims.reduce((a, b) => a * b, 1);
  return { name, dims, dataType, rawData: new Uint8Array(count * bytesPerElement) };
}

/** One of each case the cost reader distinguishes, with sizes that make every sum distinct. */
function writeModel(): string {
  const graph = {
    name: 'g',
    node: [
      { opType: 'MatMulInteger', input: ['xq', 'w_int8'], output: ['y1'], name: 'int8 product' },
      { opType: 'DequantizeLinear', input: ['w_q', 'scale'], output: ['w_deq'], name: 'dq' },
      { opType: 'Transpose', input: ['w_deq'], output: ['w_t'], name: 't' },
      { opType: 'MatMul', input: ['h', 'w_t'], output: ['y2'], name: 'fp32 product via dq' },
      { opType: 'Gather', input: ['table', 'ids'], output: ['e'], name: 'embedding' },
      { opType: 'MatMul', input: ['q', 'k'], output: ['scores'], name: 'attention' },
      { opType: 'Add', input: ['y2', 'bias'], output: ['y3'], name: 'bias' },
      { opType: 'ConvInteger', input: ['pq', 'conv_w'], output: ['c'], name: 'patches' },
    ],
    initializer: [
      tensor('w_int8', [64, 128], T.INT8, 1),
      tensor('w_q', [256, 128], T.INT8, 1),
      tensor('scale', [], T.FLOAT, 4),
      tensor('table', [1000, 64], T.FLOAT, 4),
      tensor('bias', [256], T.FLOAT, 4),
      tensor('conv_w', [32, 3, 8, 8], T.UINT8, 1),
    ],
  };
  const dir = mkdtempSync(join(tmpdir(), 'graph-cost-'));
  const file = join(dir, 'model.onnx');
  writeFileSync(
    file,
    onnx.ModelProto.encode({ irVersion: 8, opsetImport: [{ version: 17 }], graph }).finish(),
  );
  return file;
}

describe('graphCost', () => {
  const cost = graphCost(writeModel());

  it('finds each weight product and the arithmetic its operator does', () => {
    expect(cost.weights.map((w) => [w.node, w.arithmetic, w.macsPerRow, w.perPatch])).toEqual([
      ['int8 product', 'int8', 64 * 128, false],
      ['fp32 product via dq', 'fp32', 256 * 128, false],
      ['patches', 'int8', 32 * 3 * 8 * 8, true],
    ]);
    expect(cost.activationMatmuls).toBe(1);
  });

  it('counts bytes read in full, and embedding tables apart', () => {
    expect(cost.weightBytes).toBe(64 * 128 + 256 * 128 + 4 + 256 * 4 + 32 * 3 * 8 * 8);
    expect(cost.embeddingTableBytes).toBe(1000 * 64 * 4);
  });

  it('scales products by rows and convolutions by patches', () => {
    expect(weightMacs(cost, 3, 5)).toEqual({
      int8: 3 * 64 * 128 + 5 * 32 * 3 * 8 * 8,
      fp32: 3 * 256 * 128,
    });
  });
});
