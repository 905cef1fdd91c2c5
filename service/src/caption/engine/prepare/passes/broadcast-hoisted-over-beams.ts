import { removeUnusedNodes, scalarConstants, usesOf } from '../graph-queries';
import {
  Attribute,
  DataType,
  Graph,
  Node,
  ORT_DOMAIN,
  createNode,
  floatAttribute,
  intAttribute,
  makeTensor,
} from '../onnx-proto';

const PREFIX = 'caption_service/beam_broadcast';

/**
 * Beams of one image attend to the same encoder states, so their cross-attention keys/values
 * are equal. Rather than copying them per beam (and reading every copy at every step), each
 * matmul against a hoisted value broadcasts over the beams: the per-row operand [rows, ...] is
 * viewed as [images, beams, ...] and the hoisted operand [images, ...] as [images, 1, ...]; the
 * product is viewed back as [rows, ...]. Feeding the hoisted values per row (images = rows,
 * beams = 1) still works, for batches whose images have different beam counts.
 *
 * A matmul followed by a scalar scale is what ONNX Runtime fuses into FusedMatMul in the stock
 * graph, and the fused kernel rounds differently from matmul-then-multiply; the reshape would
 * block that fusion, so the rewrite emits the FusedMatMul itself and the arithmetic stays the
 * stock graph's (the quantized decoder amplifies even 1e-6 differences through its dynamic
 * activation quantization).
 * Returns false, changing nothing, unless every use of every hoisted value is the second input
 * of a MatMul and no hoisted value is a graph output.
 */
export function broadcastHoistedOverBeams(graph: Graph, hoisted: string[]): boolean {
  const names = new Set(hoisted);
  const consumers = usesOf(graph);
  const uses = hoisted.flatMap((name) => consumers.get(name) ?? []);
  if (uses.length === 0 || uses.some((u) => u.node.opType !== 'MatMul' || u.slot !== 1)) {
    return false;
  }
  if (graph.output.some((o) => names.has(o.name))) return false;

  const scalars = scalarConstants(graph);
  const constant = (name: string, value: bigint) =>
    makeTensor(name, DataType.INT64, [1], BigInt64Array.of(value));
  graph.initializer.push(
    constant(`${PREFIX}/zero`, 0n),
    constant(`${PREFIX}/one`, 1n),
    constant(`${PREFIX}/minus_one`, -1n),
    constant(`${PREFIX}/last`, -1n),
    constant(`${PREFIX}/end`, 9_223_372_036_854_775_807n),
  );
  const absorbed = new Set<Node>();
  const rewritten: Node[] = [];
  for (const original of graph.node) {
    if (absorbed.has(original)) continue;
    const use = uses.find((u) => u.node === original);
    if (!use) {
      rewritten.push(original);
      continue;
    }
    const next = (consumers.get(original.output[0]) ?? []).map((u) => u.node);
    const scale =
      next.length === 1 && next[0].opType === 'Mul'
        ? scalars.get(next[0].input.find((x) => x !== original.output[0]) ?? '')
        : undefined;
    if (scale !== undefined) absorbed.add(next[0]);
    const out = scale !== undefined ? next[0].output[0] : original.output[0];
    rewritten.push(...broadcastMatMul(original, out, scale));
  }
  graph.node = rewritten;
  removeUnusedNodes(graph);
  return true;
}

/** The nodes replacing one `rows x shared` MatMul (and its scalar scale, if any) writing `out`. */
function broadcastMatMul(original: Node, out: string, scale: number | undefined): Node[] {
  const [rows, shared] = original.input;
  const v = (what: string) => `${PREFIX}/${original.name || out}/${what}`;
  const c = (what: string) => `${PREFIX}/${what}`;
  const product =
    scale !== undefined
      ? node(
          v('product'),
          'FusedMatMul',
          [v('grouped'), v('shared_1')],
          [v('product')],
          [floatAttribute('alpha', scale)],
          ORT_DOMAIN,
        )
      : node(v('product'), 'MatMul', [v('grouped'), v('shared_1')], [v('product')]);
  return [
    node(v('rows_shape'), 'Shape', [rows], [v('rows_shape')]),
    node(v('shared_shape'), 'Shape', [shared], [v('shared_shape')]),
    // [images] + [-1] + rows_shape[1:]  ->  rows viewed as [images, beams, ...]
    node(v('images'), 'Slice', [v('shared_shape'), c('zero'), c('one')], [v('images')]),
    node(v('row_tail'), 'Slice', [v('rows_shape'), c('one'), c('end')], [v('row_tail')]),
    node(
      v('grouped_shape'),
      'Concat',
      [v('images'), c('minus_one'), v('row_tail')],
      [v('grouped_shape')],
      [intAttribute('axis', 0)],
    ),
    node(v('grouped'), 'Reshape', [rows, v('grouped_shape')], [v('grouped')]),
    node(v('shared_1'), 'Unsqueeze', [shared, c('one')], [v('shared_1')]),
    product,
    // rows_shape[:-1] + shared_shape[-1:]  ->  back to [rows, ...]
    node(v('row_head'), 'Slice', [v('rows_shape'), c('zero'), c('last')], [v('row_head')]),
    node(v('col'), 'Slice', [v('shared_shape'), c('last'), c('end')], [v('col')]),
    node(
      v('out_shape'),
      'Concat',
      [v('row_head'), v('col')],
      [v('out_shape')],
      [intAttribute('axis', 0)],
    ),
    node(original.name || out, 'Reshape', [v('product'), v('out_shape')], [out]),
  ];
}

function node(
  name: string,
  opType: string,
  input: string[],
  output: string[],
  attribute: Attribute[] = [],
  domain = '',
): Node {
  return createNode({ name, opType, domain, input, output, attribute });
}
