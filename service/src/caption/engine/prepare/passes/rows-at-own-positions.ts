import { removeUnusedNodes, scalarConstants, usesOf } from '../graph-queries';
import {
  Attribute,
  DataType,
  Graph,
  Node,
  createNode,
  intAttribute,
  makeTensor,
  tensorValueInfo,
} from '../onnx-proto';
import {
  BEAM_INDEX_INPUT,
  CACHE_LENGTH_INPUT,
  POSITION_IDS_INPUT,
  PRESENT_PREFIX,
} from '../tensor-names';

const PREFIX = 'caption_service/own_positions';

/**
 * Lets rows at different positions share a step, so that a new image's rows can join a running
 * batch. The exported step derives every row's position from the cache length, so all rows
 * must be at the same one. This pass adds two inputs:
 * - position_ids [rows, 1]: each row's own position, used for the position embedding, as the
 *   index where the row's new key/value is written into the cache, and for a mask hiding the
 *   cache entries beyond it from self-attention;
 * - cache_length [1]: the fed cache is cut to this length (the longest row's) before the new
 *   column is appended, so the cache stays as long as the longest live row.
 * A row's entries stay at the indices the stock graph gives them (0..position), and what lies
 * beyond is masked with the stock mask's own value, so each row's arithmetic is the stock
 * graph's: the sums see the same values in the same places, plus exact zeros. With every row at
 * position = cache length, the cut, the write and the mask change nothing at all.
 *
 * Returns false, changing nothing, unless the graph has the shapes this relies on: cache inputs
 * gathered by beam_index (reorderPastInGraph first), each present output a Concat of that
 * cache and one new column, one position-embedding Gather whose indices come from shapes only,
 * and self-attention masks that are a shape-derived Where of two constants added before Softmax.
 */
export function rowsAtOwnPositions(graph: Graph): boolean {
  const plan = findPlan(graph);
  if (!plan) return false;
  const nodes: Node[] = [];
  const c = (what: string) => `${PREFIX}/${what}`;
  graph.initializer.push(
    makeTensor(c('zero'), DataType.INT64, [1], BigInt64Array.of(0n)),
    makeTensor(c('one'), DataType.INT64, [], BigInt64Array.of(1n)),
    makeTensor(c('zero_scalar'), DataType.INT64, [], BigInt64Array.of(0n)),
    makeTensor(c('axis_2'), DataType.INT64, [1], BigInt64Array.of(2n)),
    makeTensor(c('two'), DataType.INT64, [1], BigInt64Array.of(2n)),
    makeTensor(c('one_vector'), DataType.INT64, [1], BigInt64Array.of(1n)),
    makeTensor(c('column'), DataType.INT64, [3], BigInt64Array.of(-1n, 1n, 1n)),
    makeTensor(c('middle'), DataType.INT64, [3], BigInt64Array.of(1n, -1n, 1n)),
  );

  // The cut: every cache input, right after its beam reorder.
  const cut = new Map<string, string>();
  for (const reordered of plan.reordered) {
    const out = `${reordered}/cut`;
    cut.set(reordered, out);
    nodes.push(
      node('Slice', [reordered, c('zero'), CACHE_LENGTH_INPUT, c('axis_2')], [out], 'cut/' + out),
    );
  }

  // The write: each present = the stock concat, with the new column also put at the row's
  // position by ScatterND with one [rows, heads] index set shared by every layer: a copy plus
  // rows x heads slice writes. (ScatterElements indexes every element; a Where over a one-hot
  // of the positions touches every element through a broadcast: both profiled at 7-10% of a
  // 4-row step.)
  const fresh0 = plan.presents[0].fresh;
  nodes.push(
    node('Shape', [fresh0], [c('fresh_shape')], 'write/fresh_shape'),
    node('Slice', [c('fresh_shape'), c('zero'), c('two')], [c('rows_heads')], 'write/rows_heads'),
    node('Concat', [c('rows_heads'), c('one_vector')], [c('grid')], 'write/grid', [axis(0)]),
    node('Gather', [c('fresh_shape'), c('zero_scalar')], [c('rows')], 'write/rows'),
    node('Gather', [c('fresh_shape'), c('one')], [c('heads')], 'write/heads'),
    node('Range', [c('zero_scalar'), c('rows'), c('one')], [c('row_range')], 'write/row_range'),
    node('Range', [c('zero_scalar'), c('heads'), c('one')], [c('head_range')], 'write/head_range'),
    node('Reshape', [c('row_range'), c('column')], [c('row_column')], 'write/row_column'),
    node('Reshape', [c('head_range'), c('middle')], [c('head_middle')], 'write/head_middle'),
    node('Reshape', [POSITION_IDS_INPUT, c('column')], [c('position_column')], 'write/pos'),
    node('Expand', [c('row_column'), c('grid')], [c('index_rows')], 'write/index_rows'),
    node('Expand', [c('head_middle'), c('grid')], [c('index_heads')], 'write/index_heads'),
    node('Expand', [c('position_column'), c('grid')], [c('index_positions')], 'write/index_pos'),
    node(
      'Concat',
      [c('index_rows'), c('index_heads'), c('index_positions')],
      [c('write_index')],
      'write/index',
      [axis(2)],
    ),
  );
  const renamedConcat = new Map<Node, Node>();
  for (const { concat, present, fresh } of plan.presents) {
    const appended = `${present}/appended`;
    const column = `${present}/column`;
    renamedConcat.set(concat, createNode({ ...concat, output: [appended] }));
    nodes.push(
      node('Squeeze', [fresh, c('axis_2')], [column], `${present}/column`),
      node('ScatterND', [appended, c('write_index'), column], [present], `${present}/write`),
    );
  }

  // The mask: position t of a row is visible when t <= the row's position.
  nodes.push(
    node('Squeeze', [CACHE_LENGTH_INPUT], [c('cache_length_scalar')], 'mask/squeeze'),
    node('Add', [c('cache_length_scalar'), c('one')], [c('total')], 'mask/total'),
    node('Range', [c('zero_scalar'), c('total'), c('one')], [c('steps')], 'mask/range'),
    node('Unsqueeze', [c('steps'), c('zero')], [c('steps_row')], 'mask/steps_row'),
    node('LessOrEqual', [c('steps_row'), POSITION_IDS_INPUT], [c('visible')], 'mask/visible'),
    node(
      'Where',
      [c('visible'), plan.maskValues.visible, plan.maskValues.hidden],
      [c('mask_rows')],
      'mask/values',
    ),
    node('Reshape', [c('mask_rows'), c('row_shape_mask')], [c('mask')], 'mask/reshape'),
  );
  graph.initializer.push(
    makeTensor(c('row_shape_mask'), DataType.INT64, [4], BigInt64Array.of(0n, 1n, 1n, -1n)),
  );

  const rewired = graph.node.map((n) => {
    const base = renamedConcat.get(n) ?? n;
    let input = base.input.map((x) => cut.get(x) ?? x);
    if (n === plan.positionGather) input = [input[0], POSITION_IDS_INPUT];
    if (plan.maskAdds.has(n)) input = input.map((x) => (x === plan.mask ? c('mask') : x));
    return input.every((x, i) => x === base.input[i]) ? base : createNode({ ...base, input });
  });
  // Cuts right after the reorders they read; the rest where their inputs are ready (at the end
  // of the graph they would follow their consumers, and ONNX wants topological order).
  graph.node = topological([...nodes, ...rewired], graph);
  graph.input = [
    ...graph.input,
    tensorValueInfo(POSITION_IDS_INPUT, DataType.INT64, ['rows', 1]),
    tensorValueInfo(CACHE_LENGTH_INPUT, DataType.INT64, [1]),
  ];
  removeUnusedNodes(graph);
  return true;
}

interface Plan {
  reordered: string[];
  presents: { concat: Node; present: string; fresh: string }[];
  positionGather: Node;
  mask: string;
  maskAdds: Set<Node>;
  maskValues: { visible: string; hidden: string };
}

function findPlan(graph: Graph): Plan | undefined {
  const inputs = new Set(graph.input.map((i) => i.name));
  if (!inputs.has(BEAM_INDEX_INPUT) || inputs.has(POSITION_IDS_INPUT)) return undefined;
  const producer = new Map(graph.node.flatMap((n) => n.output.map((o) => [o, n] as const)));
  const inits = new Set(graph.initializer.map((t) => t.name));
  const reordered = graph.node
    .filter((n) => n.opType === 'Gather' && n.input[1] === BEAM_INDEX_INPUT)
    .map((n) => n.output[0]);
  if (reordered.length === 0) return undefined;
  const reorderedSet = new Set(reordered);

  const presents: Plan['presents'] = [];
  for (const output of graph.output.filter((o) => o.name.startsWith(PRESENT_PREFIX))) {
    const concat = producer.get(output.name);
    const axis = concat?.attribute.find((a) => a.name === 'axis')?.i;
    if (!concat || concat.opType !== 'Concat' || concat.input.length !== 2) return undefined;
    if (Number(axis) !== -2 && Number(axis) !== 2) return undefined;
    const [cache, fresh] = concat.input;
    const viaConcat = producer.get(cache);
    const cacheSource =
      viaConcat?.opType === 'Concat' && viaConcat.input.length === 1 ? viaConcat.input[0] : cache;
    if (!reorderedSet.has(cacheSource)) return undefined;
    presents.push({ concat, present: output.name, fresh });
  }
  if (presents.length !== reordered.length) return undefined;

  const shapeOnly = shapeDerived(graph, inits);
  const positionGathers = graph.node.filter(
    (n) => n.opType === 'Gather' && inits.has(n.input[0]) && shapeOnly.has(n.input[1]),
  );
  if (positionGathers.length !== 1) return undefined;

  // Self-attention masks: Add(scores that read the cache, shape-derived mask) -> Softmax.
  const uses = usesOf(graph);
  const readsCache = dependents(graph, new Set(presents.map((p) => p.present)));
  const maskAdds = new Set<Node>();
  let mask: string | undefined;
  for (const softmax of graph.node.filter((n) => n.opType === 'Softmax')) {
    const add = producer.get(softmax.input[0]);
    if (!add || add.opType !== 'Add') continue;
    const [a, b] = add.input;
    const [scores, m] = shapeOnly.has(b) ? [a, b] : [b, a];
    if (!shapeOnly.has(m) || !readsCache.has(scores)) continue;
    if (mask !== undefined && mask !== m) return undefined;
    mask = m;
    maskAdds.add(add);
  }
  if (!mask || (uses.get(mask) ?? []).some((u) => !maskAdds.has(u.node))) return undefined;
  const where = producer.get(mask);
  const scalars = scalarConstants(graph);
  if (!where || where.opType !== 'Where' || !where.input.slice(1).every((x) => scalars.has(x))) {
    return undefined;
  }
  return {
    reordered,
    presents,
    positionGather: positionGathers[0],
    mask,
    maskAdds,
    maskValues: { visible: where.input[1], hidden: where.input[2] },
  };
}

/** Values computed from shapes and constants only (never from a tensor's contents). */
function shapeDerived(graph: Graph, inits: Set<string>): Set<string> {
  const derived = new Set([...inits, '']);
  for (const n of graph.node) {
    const fromShapes =
      n.opType === 'Shape' || n.opType === 'Constant' || n.input.every((x) => derived.has(x));
    if (fromShapes) n.output.forEach((o) => derived.add(o));
  }
  return derived;
}

/** Every value computed (transitively) from one of `sources`. */
function dependents(graph: Graph, sources: Set<string>): Set<string> {
  const out = new Set(sources);
  for (const n of graph.node) {
    if (n.input.some((x) => out.has(x))) n.output.forEach((o) => out.add(o));
  }
  return out;
}

/** Orders nodes so that each comes after the producers of its inputs (stable otherwise). */
function topological(nodes: Node[], graph: Graph): Node[] {
  const available = new Set([
    ...graph.input.map((i) => i.name),
    ...graph.initializer.map((t) => t.name),
    POSITION_IDS_INPUT,
    CACHE_LENGTH_INPUT,
    '',
  ]);
  const ordered: Node[] = [];
  let pending = nodes;
  while (pending.length > 0) {
    const next: Node[] = [];
    for (const n of pending) {
      if (n.input.every((x) => available.has(x))) {
        ordered.push(n);
        n.output.forEach((o) => available.add(o));
      } else {
        next.push(n);
      }
    }
    if (next.length === pending.length) throw new Error('rowsAtOwnPositions: graph has a cycle');
    pending = next;
  }
  return ordered;
}

function axis(value: number): Attribute {
  return intAttribute('axis', value);
}

function node(
  opType: string,
  input: string[],
  output: string[],
  name: string,
  attribute: Attribute[] = [],
): Node {
  return createNode({ name: `${PREFIX}/${name}`, opType, domain: '', input, output, attribute });
}
