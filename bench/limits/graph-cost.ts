/**
 * What one run of a graph must move and compute, read from the ONNX file itself: the bytes of
 * the weights it streams and the multiply-accumulates of its weight matrix products, split into
 * int8 and fp32 arithmetic by the operator that consumes each weight.
 */
import { readFileSync } from 'node:fs';
import { onnx } from 'onnx-proto';

export interface WeightUse {
  node: string;
  op: string;
  arithmetic: 'int8' | 'fp32';
  /** Multiply-accumulates per input row (a token, or a patch for a convolution). */
  macsPerRow: number;
  /** Convolutions run per patch, matrix products per token. */
  perPatch: boolean;
}

export interface GraphCost {
  file: string;
  /** Bytes of every initializer a run reads in full (embedding tables read by Gather excluded). */
  weightBytes: number;
  weights: WeightUse[];
  /** Matrix products of two activations (attention scores and values): counted from the model's dimensions. */
  activationMatmuls: number;
  embeddingTableBytes: number;
}

const INT8_OPS = new Set([
  'MatMulInteger',
  'ConvInteger',
  'MatMulIntegerToFloat',
  'DynamicQuantizeMatMul',
  'QLinearMatMul',
  'QLinearConv',
  'QGemm',
]);
const MATMUL_OPS = new Set([...INT8_OPS, 'MatMul', 'Gemm', 'FusedMatMul', 'Conv', 'MatMulNBits']);
/** Operators a weight may pass through on its way to the product (folded or not). */
const PASS_THROUGH = new Set([
  'DequantizeLinear',
  'Transpose',
  'Cast',
  'Reshape',
  'Identity',
  'Unsqueeze',
]);
const BYTES_PER_ELEMENT: Record<number, number> = {
  [onnx.TensorProto.DataType.FLOAT]: 4,
  [onnx.TensorProto.DataType.FLOAT16]: 2,
  [onnx.TensorProto.DataType.INT8]: 1,
  [onnx.TensorProto.DataType.UINT8]: 1,
  [onnx.TensorProto.DataType.INT32]: 4,
  [onnx.TensorProto.DataType.INT64]: 8,
};

function tensorBytes(t: onnx.ITensorProto): number {
  if (t.rawData && t.rawData.length > 0) return t.rawData.length;
  const count = (t.dims ?? []).reduce<number>((a, d) => a * Number(d), 1);
  return count * (BYTES_PER_ELEMENT[t.dataType ?? 0] ?? 4);
}

function elements(t: onnx.ITensorProto): number {
  return (t.dims ?? []).reduce<number>((a, d) => a * Number(d), 1);
}

/** Weight-sized: at least a 64 x 64 matrix (scales, zero points and biases are not). */
const isWeight = (t: onnx.ITensorProto) => (t.dims?.length ?? 0) >= 2 && elements(t) >= 4096;

export function graphCost(file: string): GraphCost {
  const graph = onnx.ModelProto.decode(readFileSync(file)).graph;
  if (!graph) throw new Error(`${file} has no graph`);
  const initializers = new Map((graph.initializer ?? []).map((t) => [t.name ?? '', t]));
  const producer = new Map<string, onnx.INodeProto>();
  for (const node of graph.node ?? []) for (const o of node.output ?? []) producer.set(o, node);

  const source = (name: string, depth = 0): onnx.ITensorProto | undefined => {
    const init = initializers.get(name);
    if (init) return init;
    const p = producer.get(name);
    if (!p || depth > 4 || !PASS_THROUGH.has(p.opType ?? '')) return undefined;
    return source(p.input?.[0] ?? '', depth + 1);
  };

  const consumers = new Map<string, string[]>();
  const weights: WeightUse[] = [];
  let activationMatmuls = 0;
  for (const node of graph.node ?? []) {
    const op = node.opType ?? '';
    for (const input of node.input ?? []) {
      if (initializers.has(input)) consumers.set(input, [...(consumers.get(input) ?? []), op]);
    }
    if (!MATMUL_OPS.has(op)) continue;
    const weight = (node.input ?? []).map((i) => source(i)).find((t) => t && isWeight(t));
    if (!weight) {
      if (op === 'MatMul' || op === 'FusedMatMul') activationMatmuls++;
      continue;
    }
    const attr = (name: string) => node.attribute?.find((a) => a.name === name);
    const nbits = op === 'MatMulNBits';
    weights.push({
      node: node.name ?? '',
      op,
      // MatMulNBits computes in int8 only at accuracy level 4; otherwise it dequantizes to fp32.
      arithmetic:
        INT8_OPS.has(op) || (nbits && Number(attr('accuracy_level')?.i ?? 0) === 4)
          ? 'int8'
          : 'fp32',
      macsPerRow: nbits ? Number(attr('K')?.i ?? 0) * Number(attr('N')?.i ?? 0) : elements(weight),
      perPatch: op.includes('Conv'),
    });
  }
  let weightBytes = 0;
  let embeddingTableBytes = 0;
  for (const [name, t] of initializers) {
    const uses = consumers.get(name) ?? [];
    // A table only Gather reads (token or position embeddings): a run reads a few rows of it.
    if (uses.length > 0 && uses.every((op) => op === 'Gather') && isWeight(t)) {
      embeddingTableBytes += tensorBytes(t);
    } else {
      weightBytes += tensorBytes(t);
    }
  }
  return { file, weightBytes, weights, activationMatmuls, embeddingTableBytes };
}

/** Sums macsPerRow by arithmetic, for `rows` tokens and `patches` convolution positions. */
export function weightMacs(
  cost: GraphCost,
  rows: number,
  patches: number,
): { int8: number; fp32: number } {
  const out = { int8: 0, fp32: 0 };
  for (const w of cost.weights) out[w.arithmetic] += w.macsPerRow * (w.perPatch ? patches : rows);
  return out;
}
