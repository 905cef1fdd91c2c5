import { removeUnusedNodes } from '../graph-queries';
import {
  DataType,
  Graph,
  Node,
  ORT_DOMAIN,
  Tensor,
  createNode,
  dims,
  intAttribute,
  makeTensor,
  tensorValues,
} from '../onnx-proto';
import { LOGITS_OUTPUT } from '../tensor-names';

/**
 * The ONNX Runtime kernel an int8 LM head runs on (both measured, see README):
 * - `dynamic-quantize-matmul`: DynamicQuantizeMatMul, the activations quantized to uint8 per
 *   tensor (the whole batch, as every other q8 layer does) and an integer matmul;
 * - `matmul-nbits`: MatMulNBits with 8-bit blocks along K and accuracy level 4 (int8 compute).
 * With both, as with every dynamically quantized q8 layer, a row's logits depend slightly on the
 * other rows of the step (the activation range is taken over more than the row).
 */
export type Int8HeadKernel = 'dynamic-quantize-matmul' | 'matmul-nbits';

const NBITS_BLOCK = 128;

/**
 * The q8 export ties the LM head to the int8 token embedding, but reaches it through
 * Transpose -> DequantizeLinear, so ONNX Runtime computes the head in fp32 over 154 MB of
 * dequantized weights (foldWeightTransforms keeps that exact arithmetic). This pass runs the
 * head on the int8 table itself: the weights are exactly the stock ones (same integers, same
 * scale and zero point), only the activations are quantized as well. Not exact: the caller
 * proves it against the stock decoder and records the fidelity. `signedWeights` shifts uint8
 * weights to int8 (with the zero point), the faster VNNI path (see signMatMulIntegerWeights).
 * Returns false, changing nothing, unless the logits come from MatMul(x, DequantizeLinear(
 * Transpose(int8 or uint8 [N, K] table), scalar scale, scalar zero point)).
 */
export function int8LmHead(graph: Graph, kernel: Int8HeadKernel, signedWeights: boolean): boolean {
  const producer = new Map(graph.node.flatMap((n) => n.output.map((o) => [o, n] as const)));
  const inits = new Map(graph.initializer.map((t) => [t.name, t]));
  const head = producer.get(LOGITS_OUTPUT);
  if (!head || head.opType !== 'MatMul') return false;
  const dequantize = producer.get(head.input[1]);
  if (!dequantize || dequantize.opType !== 'DequantizeLinear') return false;
  const transpose = producer.get(dequantize.input[0]);
  if (!transpose || transpose.opType !== 'Transpose' || !isPlainTranspose(transpose)) return false;
  const table = inits.get(transpose.input[0]);
  const scale = inits.get(dequantize.input[1]);
  const zeroPoint = dequantize.input[2] ? inits.get(dequantize.input[2]) : undefined;
  if (!table || !scale || (dequantize.input[2] && !zeroPoint)) return false;
  if (table.dataType !== DataType.UINT8 && table.dataType !== DataType.INT8) return false;
  if (dims(table).length !== 2 || count(scale) !== 1 || (zeroPoint && count(zeroPoint) !== 1)) {
    return false;
  }
  if (scale.dataType !== DataType.FLOAT) return false;

  const weights = new Weights(table, tensorValues(scale)[0], zeroPoint);
  const prefix = 'caption_service/int8_lm_head';
  const replacement =
    kernel === 'matmul-nbits'
      ? weights.matMulNBits(prefix, head.input[0])
      : weights.dynamicQuantizeMatMul(prefix, head.input[0], signedWeights);
  graph.initializer.push(...replacement.initializers);
  graph.node = graph.node.map((n) => (n === head ? replacement.node : n));
  removeUnusedNodes(graph);
  return true;
}

function isPlainTranspose(node: Node): boolean {
  const perm = node.attribute.find((a) => a.name === 'perm')?.ints?.map(Number);
  return !perm || (perm.length === 2 && perm[0] === 1 && perm[1] === 0);
}

function count(tensor: Tensor): number {
  return dims(tensor).reduce((a, b) => a * b, 1);
}

/** The [N, K] table as integers with their (scalar) scale and zero point. */
class Weights {
  readonly n: number;
  readonly k: number;
  /** As stored: int8 or uint8 codes. */
  private readonly codes: Int8Array | Uint8Array;
  private readonly zero: number;

  constructor(
    table: Tensor,
    private readonly scale: number,
    zeroPoint: Tensor | undefined,
  ) {
    [this.n, this.k] = dims(table);
    this.codes = tensorValues(table) as Int8Array | Uint8Array;
    this.zero = zeroPoint ? tensorValues(zeroPoint)[0] : 0;
  }

  private get unsigned(): boolean {
    return this.codes instanceof Uint8Array;
  }

  /** B as [K, N] (DynamicQuantizeMatMul's layout), optionally shifted to int8. */
  dynamicQuantizeMatMul(prefix: string, input: string, signed: boolean) {
    const { n, k } = this;
    const toSigned = signed && this.unsigned;
    const toUnsigned = !signed && !this.unsigned;
    const shift = toSigned ? -128 : toUnsigned ? 128 : 0;
    const outSigned = toSigned || (!this.unsigned && !toUnsigned);
    const b = outSigned ? new Int8Array(k * n) : new Uint8Array(k * n);
    for (let row = 0; row < n; row++) {
      for (let col = 0; col < k; col++) b[col * n + row] = this.codes[row * k + col] + shift;
    }
    const type = outSigned ? DataType.INT8 : DataType.UINT8;
    const zero = outSigned ? Int8Array.of(this.zero + shift) : Uint8Array.of(this.zero + shift);
    return {
      initializers: [
        makeTensor(`${prefix}/weight`, type, [k, n], b),
        makeTensor(`${prefix}/scale`, DataType.FLOAT, [], Float32Array.of(this.scale)),
        makeTensor(`${prefix}/zero_point`, type, [], zero),
      ],
      node: createNode({
        name: prefix,
        opType: 'DynamicQuantizeMatMul',
        domain: ORT_DOMAIN,
        input: [input, `${prefix}/weight`, `${prefix}/scale`, `${prefix}/zero_point`],
        output: [LOGITS_OUTPUT],
        attribute: [],
      }),
    };
  }

  /** B as [N, blocks, block] uint8 codes, one scale and zero point per block (all equal here). */
  matMulNBits(prefix: string, input: string) {
    const { n, k } = this;
    const blocks = Math.ceil(k / NBITS_BLOCK);
    const shift = this.unsigned ? 0 : 128;
    const zero = this.zero + shift;
    // A partial last block is padded with the zero point, which dequantizes to 0.
    const b = new Uint8Array(n * blocks * NBITS_BLOCK).fill(zero);
    for (let row = 0; row < n; row++) {
      for (let col = 0; col < k; col++) {
        b[row * blocks * NBITS_BLOCK + col] = this.codes[row * k + col] + shift;
      }
    }
    return {
      initializers: [
        makeTensor(`${prefix}/weight`, DataType.UINT8, [n, blocks, NBITS_BLOCK], b),
        makeTensor(
          `${prefix}/scales`,
          DataType.FLOAT,
          [n * blocks],
          new Float32Array(n * blocks).fill(this.scale),
        ),
        makeTensor(
          `${prefix}/zero_points`,
          DataType.UINT8,
          [n * blocks],
          new Uint8Array(n * blocks).fill(zero),
        ),
      ],
      node: createNode({
        name: prefix,
        opType: 'MatMulNBits',
        domain: ORT_DOMAIN,
        input: [input, `${prefix}/weight`, `${prefix}/scales`, `${prefix}/zero_points`],
        output: [LOGITS_OUTPUT],
        attribute: [
          intAttribute('K', k),
          intAttribute('N', n),
          intAttribute('bits', 8),
          intAttribute('block_size', NBITS_BLOCK),
          // 4: int8 compute; lower levels dequantize the whole matrix at every run (measured
          // 1.7 s per call on the full-size head).
          intAttribute('accuracy_level', 4),
        ],
      }),
    };
  }
}
