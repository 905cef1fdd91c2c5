import { replaceInitializer, usesOf } from '../graph-queries';
import { DataType, Graph, Tensor, dims, makeTensor, tensorValues } from '../onnx-proto';

/**
 * Dynamic int8 quantization stores weights as uint8 when the graph has a Conv (the ViT patch
 * embedding), and ORT's CPU kernels multiply uint8 x uint8 on a slower path than uint8 x int8,
 * which VNNI instructions compute directly. Shifting a weight and its zero point by -128 leaves
 * (w - zp) unchanged, so MatMulInteger's integer result is identical. Only safe where the int8
 * kernel cannot saturate (VNNI); the caller decides. A weight or zero point also read by anything
 * else than such a MatMulInteger slot stays as it is. Returns the number of weights shifted;
 * 0 means the graph is unchanged.
 */
export function signMatMulIntegerWeights(graph: Graph): number {
  const inits = new Map(graph.initializer.map((t) => [t.name, t]));
  const users = usesOf(graph);
  const isUint8 = (name: string | undefined) =>
    !!name && inits.get(name)?.dataType === DataType.UINT8;
  const onlyUsedAs = (name: string, slot: number) =>
    (users.get(name) ?? []).every((u) => u.node.opType === 'MatMulInteger' && u.slot === slot);
  let candidates = new Set(
    graph.node.filter(
      (n) =>
        n.opType === 'MatMulInteger' &&
        isUint8(n.input[1]) &&
        isUint8(n.input[3]) &&
        onlyUsedAs(n.input[1], 1) &&
        onlyUsedAs(n.input[3], 3),
    ),
  );
  // A weight or zero point shared by several nodes can only change if all of them change.
  for (let changed = true; changed;) {
    changed = false;
    for (const node of candidates) {
      const partners = [...users.get(node.input[1])!, ...users.get(node.input[3])!];
      if (partners.some((u) => !candidates.has(u.node))) {
        candidates.delete(node);
        changed = true;
      }
    }
    candidates = new Set(candidates);
  }
  const toShift = new Set([...candidates].flatMap((n) => [n.input[1], n.input[3]]));
  for (const name of toShift) replaceInitializer(graph, inits, shiftToInt8(inits.get(name)!));
  return new Set([...candidates].map((n) => n.input[1])).size;
}

function shiftToInt8(tensor: Tensor): Tensor {
  const u = tensorValues(tensor) as Uint8Array;
  const s = new Int8Array(u.length);
  for (let i = 0; i < u.length; i++) s[i] = u[i] - 128;
  return makeTensor(tensor.name, DataType.INT8, dims(tensor), s);
}
