import { Use, usesOf } from '../graph-queries';
import { DataType, Graph, Node, Tensor, dims, makeTensor, tensorValues } from '../onnx-proto';

/**
 * Precompute weight transforms that ORT would otherwise redo on every run. The quantized GPT-2
 * export ties the LM head to the int8 token embedding through Transpose -> DequantizeLinear on
 * an initializer; ORT deliberately does not constant-fold DequantizeLinear, so each decode step
 * dequantizes and transposes 38.6 M weights and then multiplies by a non-constant matrix that
 * it cannot prepack. Folding gives the exact same fp32 weights as a constant.
 * Only folds a 2-D [1, 0] Transpose, and a per-tensor DequantizeLinear of int8/uint8 whose
 * consumers all compute in fp32 (MatMul/Gemm), so QDQ patterns that ORT fuses into integer
 * kernels are left alone. Returns how many nodes it folded; 0 means the graph is unchanged.
 */
export function foldWeightTransforms(graph: Graph): number {
  const inits = new Map(graph.initializer.map((t) => [t.name, t]));
  const consumers = usesOf(graph);
  const graphOutputs = new Set(graph.output.map((o) => o.name));
  const kept: Node[] = [];
  let folded = 0;
  for (const node of graph.node) {
    const result = node.input.every((x) => x === '' || inits.has(x))
      ? evaluate(node, inits, consumers)
      : null;
    if (result && !graphOutputs.has(node.output[0])) {
      inits.set(node.output[0], result);
      folded++;
    } else {
      kept.push(node);
    }
  }
  if (folded === 0) return 0;
  const read = new Set(kept.flatMap((n) => n.input));
  graph.node = kept;
  graph.initializer = [...inits.values()].filter((t) => read.has(t.name));
  return folded;
}

function evaluate(
  node: Node,
  inits: Map<string, Tensor>,
  consumers: Map<string, Use[]>,
): Tensor | null {
  const out = node.output[0];
  if (node.opType === 'Transpose') {
    const source = inits.get(node.input[0])!;
    const shape = dims(source);
    const perm = node.attribute.find((a) => a.name === 'perm')?.ints?.map(Number) ?? [1, 0];
    if (shape.length !== 2 || perm[0] !== 1 || perm[1] !== 0) return null;
    const values = tensorValues(source);
    const [rows, cols] = shape;
    const result = new (values.constructor as new (n: number) => typeof values)(values.length);
    for (let r = 0; r < rows; r++) {
      for (let c = 0; c < cols; c++) result[c * rows + r] = values[r * cols + c];
    }
    return makeTensor(out, source.dataType, [cols, rows], result);
  }
  if (node.opType === 'DequantizeLinear') {
    const users = consumers.get(out) ?? [];
    if (
      users.length === 0 ||
      !users.every(({ node: u }) => u.opType === 'MatMul' || u.opType === 'Gemm')
    ) {
      return null;
    }
    const source = inits.get(node.input[0])!;
    if (source.dataType !== DataType.INT8 && source.dataType !== DataType.UINT8) return null;
    const scale = tensorValues(inits.get(node.input[1])!);
    const zeroPoint = node.input[2] ? tensorValues(inits.get(node.input[2])!) : [0];
    if (scale.length !== 1 || zeroPoint.length !== 1) return null; // per-axis: leave to ORT
    const q = tensorValues(source);
    const result = new Float32Array(q.length);
    // (q - zp) is an exact small integer and scale an fp32 value, so the double product is exact
    // and fround gives the correctly rounded fp32 result, as ORT's kernel computes it.
    for (let i = 0; i < q.length; i++) result[i] = Math.fround((q[i] - zeroPoint[0]) * scale[0]);
    return makeTensor(out, DataType.FLOAT, dims(source), result);
  }
  return null;
}
