/**
 * Graph rewrites on the stock hub ONNX files, done in TypeScript so that production serves the
 * unmodified published model and needs no Python. No ONNX graph library for Node does
 * loop-invariant code motion across two graphs, so the passes are written here; each one is
 * exact (it moves or precomputes work, it never changes arithmetic) and the prepare step checks
 * the result against the stock graph numerically before it is used.
 */
import {
  DataType,
  Graph,
  Model,
  Node,
  Tensor,
  createGraph,
  createNode,
  dims,
  Attribute,
  ORT_DOMAIN,
  floatAttribute,
  hasSubgraph,
  intAttribute,
  makeTensor,
  newModelLike,
  tensorValueInfo,
  tensorValues,
  valueInfo,
} from './onnx-proto';

export const ENCODER_STATE_INPUT = 'encoder_hidden_states';
const USE_CACHE_BRANCH = 'use_cache_branch';

/**
 * The exported decoder comes as optimum's "merged" model: one `If` on `use_cache_branch` whose
 * then-branch is the decoder with past and whose else-branch is the first step without past.
 * The with-past graph also serves the first step when fed a zero-length past, so it is all we
 * keep. A plain `decoder_with_past_model.onnx` is returned as it is.
 */
export function extractDecoderWithPast(model: Model): Graph {
  const graph = model.graph;
  const ifNodes = graph.node.filter((n) => n.opType === 'If' && n.input[0] === USE_CACHE_BRANCH);
  if (ifNodes.length === 0) {
    if (!graph.input.some((i) => i.name.startsWith('past_key_values.'))) {
      throw new Error('decoder graph has neither past_key_values inputs nor a use_cache_branch If');
    }
    return createGraph({
      ...graph,
      input: graph.input.filter((i) => i.name !== USE_CACHE_BRANCH),
    });
  }
  if (ifNodes.length > 1) throw new Error('decoder graph has more than one use_cache_branch If');
  const ifNode = ifNodes[0];
  const thenBranch = ifNode.attribute.find((a) => a.name === 'then_branch')?.g;
  if (!thenBranch) throw new Error('use_cache_branch If has no then_branch');
  const others = graph.node.filter((n) => n !== ifNode);
  if (others.some((n) => n.input.includes(USE_CACHE_BRANCH))) {
    throw new Error(
      'use_cache_branch is used outside the If; cannot take the with-past branch alone',
    );
  }
  // The branch's outputs become the outer graph's outputs under the outer names.
  const rename = new Map(thenBranch.output.map((o, i) => [o.name, ifNode.output[i]]));
  const branchNodes = thenBranch.node.map((n) =>
    createNode({
      ...n,
      input: n.input.map((x) => rename.get(x) ?? x),
      output: n.output.map((x) => rename.get(x) ?? x),
    }),
  );
  const nodes = [...others, ...branchNodes];
  const used = new Set(nodes.flatMap((n) => n.input));
  return createGraph({
    name: 'decoder_with_past',
    node: nodes,
    initializer: [...graph.initializer, ...thenBranch.initializer].filter((t) => used.has(t.name)),
    input: graph.input.filter((i) => i.name !== USE_CACHE_BRANCH),
    output: graph.output,
    valueInfo: [...graph.valueInfo, ...thenBranch.valueInfo],
  });
}

export interface HoistResult {
  /** Run once per image: encoder_hidden_states -> the hoisted values. */
  once: Graph;
  /** Run once per token: the original inputs (minus what only the hoisted part needed) + hoisted values. */
  perStep: Graph;
  /** Names of the values computed by `once` and fed to `perStep`, in a fixed order. */
  hoisted: string[];
  /** Whether the per-step graph still reads encoder_hidden_states (shape arithmetic only). */
  perStepReadsInvariant: boolean;
  hoistedNodeCount: number;
}

// Ops whose result depends on the shape of their input, not on its values.
const SHAPE_ONLY_OPS = new Set(['Shape', 'Size']);

/**
 * Loop-invariant code motion: every node whose value depends on `invariantInput` (and otherwise
 * only on initializers and constants) is moved into a graph run once per image. In the GPT-2
 * decoder that is the cross-attention key/value projection of the encoder output, most of each
 * step's arithmetic. Nodes that only look at the invariant input's *shape* stay in the per-step
 * graph, so that batch sizes seen there (images x beams) stay right. Every hoisted value that the
 * per-step graph needs becomes an output of one graph and an input of the other.
 */
export function hoistInvariant(graph: Graph, invariantInput = ENCODER_STATE_INPUT): HoistResult {
  if (!graph.input.some((i) => i.name === invariantInput)) {
    throw new Error(`graph has no input named ${invariantInput}`);
  }
  const variant = new Set(graph.input.map((i) => i.name).filter((n) => n !== invariantInput));
  const dependsOnValues = new Set([invariantInput]);
  const producer = new Map<string, number>();
  const hoist = new Set<number>();
  graph.node.forEach((node, index) => {
    node.output.forEach((o) => producer.set(o, index));
    // Nodes with subgraphs may read outer values implicitly: never move them.
    if (hasSubgraph(node) || node.input.some((x) => variant.has(x))) {
      node.output.forEach((o) => variant.add(o));
      return;
    }
    if (!SHAPE_ONLY_OPS.has(node.opType) && node.input.some((x) => dependsOnValues.has(x))) {
      node.output.forEach((o) => dependsOnValues.add(o));
      hoist.add(index);
    }
  });
  if (hoist.size === 0) throw new Error(`nothing in the graph depends only on ${invariantInput}`);

  // The once-graph: hoisted nodes plus the constant/shape helpers they read.
  const onceNodes = closure([...hoist], graph, producer, () => true);
  // The per-step graph: what the outputs need, stopping at hoisted values.
  const hoistedNeeded = new Set<string>();
  const stepNodes = closure(
    graph.output.map((o) => producer.get(o.name)).filter((p): p is number => p !== undefined),
    graph,
    producer,
    (index, value) => {
      if (hoist.has(index)) {
        hoistedNeeded.add(value);
        return false;
      }
      return true;
    },
  );
  for (const o of graph.output) {
    const p = producer.get(o.name);
    if (p !== undefined && hoist.has(p)) throw new Error(`graph output ${o.name} would be hoisted`);
  }
  const hoisted = [...hoistedNeeded].sort();
  const ordered = (set: Set<number>) => [...set].sort((a, b) => a - b).map((i) => graph.node[i]);
  const once = subgraph(
    graph,
    'decoder_once_per_image',
    ordered(onceNodes),
    [invariantInput],
    hoisted,
  );
  const stepNodeList = ordered(stepNodes);
  const stepReads = new Set(stepNodeList.flatMap((n) => n.input));
  const stepInputs = graph.input
    .map((i) => i.name)
    .filter((name) => name !== invariantInput || stepReads.has(name));
  const perStep = subgraph(
    graph,
    'decoder_per_step',
    stepNodeList,
    stepInputs,
    graph.output.map((o) => o.name),
    hoisted,
  );
  return {
    once,
    perStep,
    hoisted,
    perStepReadsInvariant: stepReads.has(invariantInput),
    hoistedNodeCount: hoist.size,
  };
}

/** Nodes reachable backwards from `start`; `follow(producerIndex, value)` may stop the walk. */
function closure(
  start: number[],
  graph: Graph,
  producer: Map<string, number>,
  follow: (producerIndex: number, value: string) => boolean,
): Set<number> {
  const seen = new Set<number>();
  const stack = [...start];
  while (stack.length) {
    const index = stack.pop()!;
    if (seen.has(index)) continue;
    seen.add(index);
    for (const value of graph.node[index].input) {
      const p = producer.get(value);
      if (p === undefined || seen.has(p)) continue;
      if (follow(p, value)) stack.push(p);
    }
  }
  return seen;
}

function subgraph(
  graph: Graph,
  name: string,
  nodes: Node[],
  inputNames: string[],
  outputNames: string[],
  extraInputs: string[] = [],
): Graph {
  const read = new Set(nodes.flatMap((n) => n.input));
  outputNames.forEach((o) => read.add(o));
  const declared = new Map(
    [...graph.input, ...graph.output, ...graph.valueInfo].map((v) => [v.name, v]),
  );
  const info = (value: string) => declared.get(value) ?? valueInfo(value);
  return createGraph({
    name,
    node: nodes,
    initializer: graph.initializer.filter((t) => read.has(t.name)),
    input: [...inputNames.map(info), ...extraInputs.map(info)],
    output: outputNames.map(info),
  });
}

interface Use {
  node: Node;
  slot: number;
}

/** Every value's readers: the node and the input slot it reads the value in. */
function usesOf(graph: Graph): Map<string, Use[]> {
  const uses = new Map<string, Use[]>();
  graph.node.forEach((node) =>
    node.input.forEach((value, slot) => {
      const list = uses.get(value);
      if (list) list.push({ node, slot });
      else uses.set(value, [{ node, slot }]);
    }),
  );
  return uses;
}

/**
 * Precompute weight transforms that ORT would otherwise redo on every run. The quantized GPT-2
 * export ties the LM head to the int8 token embedding through Transpose -> DequantizeLinear on
 * an initializer; ORT deliberately does not constant-fold DequantizeLinear, so each decode step
 * dequantizes and transposes 38.6 M weights and then multiplies by a non-constant matrix that
 * it cannot prepack. Folding gives the exact same fp32 weights as a constant.
 * Only folds a DequantizeLinear whose consumers compute in fp32 (MatMul/Gemm), so QDQ patterns
 * that ORT fuses into integer kernels are left alone.
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

/**
 * Dynamic int8 quantization stores weights as uint8 when the graph has a Conv (the ViT patch
 * embedding), and ORT's CPU kernels multiply uint8 x uint8 on a slower path than uint8 x int8,
 * which VNNI instructions compute directly. Shifting a weight and its zero point by -128 leaves
 * (w - zp) unchanged, so MatMulInteger's integer result is identical. Only safe where the int8
 * kernel cannot saturate (VNNI); the caller decides.
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

function replaceInitializer(graph: Graph, inits: Map<string, Tensor>, tensor: Tensor): void {
  const index = graph.initializer.findIndex((t) => t.name === tensor.name);
  graph.initializer[index] = tensor;
  inits.set(tensor.name, tensor);
}

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
 * Returns false, changing nothing, unless every use of every hoisted value is such a matmul.
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
  const prefix = 'caption_service/beam_broadcast';
  graph.initializer.push(
    constant(`${prefix}/zero`, 0n),
    constant(`${prefix}/one`, 1n),
    constant(`${prefix}/minus_one`, -1n),
    constant(`${prefix}/last`, -1n),
    constant(`${prefix}/end`, 9_223_372_036_854_775_807n),
  );
  const node = (
    name: string,
    opType: string,
    input: string[],
    output: string[],
    attribute: Attribute[] = [],
    domain = '',
  ) => createNode({ name, opType, domain, input, output, attribute });
  const absorbed = new Set<Node>();
  const rewritten: Node[] = [];
  for (const original of graph.node) {
    if (absorbed.has(original)) continue;
    const use = uses.find((u) => u.node === original);
    if (!use) {
      rewritten.push(original);
      continue;
    }
    const [rows, shared] = original.input;
    const next = (consumers.get(original.output[0]) ?? []).map((u) => u.node);
    const scale =
      next.length === 1 && next[0].opType === 'Mul'
        ? scalars.get(next[0].input.find((x) => x !== original.output[0]) ?? '')
        : undefined;
    if (scale !== undefined) absorbed.add(next[0]);
    const out = scale !== undefined ? next[0].output[0] : original.output[0];
    const v = (what: string) => `${prefix}/${original.name || out}/${what}`;
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
    rewritten.push(
      node(v('rows_shape'), 'Shape', [rows], [v('rows_shape')]),
      node(v('shared_shape'), 'Shape', [shared], [v('shared_shape')]),
      // [images] + [-1] + rows_shape[1:]  ->  rows viewed as [images, beams, ...]
      node(
        v('images'),
        'Slice',
        [v('shared_shape'), `${prefix}/zero`, `${prefix}/one`],
        [v('images')],
      ),
      node(
        v('row_tail'),
        'Slice',
        [v('rows_shape'), `${prefix}/one`, `${prefix}/end`],
        [v('row_tail')],
      ),
      node(
        v('grouped_shape'),
        'Concat',
        [v('images'), `${prefix}/minus_one`, v('row_tail')],
        [v('grouped_shape')],
        [intAttribute('axis', 0)],
      ),
      node(v('grouped'), 'Reshape', [rows, v('grouped_shape')], [v('grouped')]),
      node(v('shared_1'), 'Unsqueeze', [shared, `${prefix}/one`], [v('shared_1')]),
      product,
      // rows_shape[:-1] + shared_shape[-1:]  ->  back to [rows, ...]
      node(
        v('row_head'),
        'Slice',
        [v('rows_shape'), `${prefix}/zero`, `${prefix}/last`],
        [v('row_head')],
      ),
      node(v('col'), 'Slice', [v('shared_shape'), `${prefix}/last`, `${prefix}/end`], [v('col')]),
      node(
        v('out_shape'),
        'Concat',
        [v('row_head'), v('col')],
        [v('out_shape')],
        [intAttribute('axis', 0)],
      ),
      node(original.name || out, 'Reshape', [v('product'), v('out_shape')], [out]),
    );
  }
  graph.node = rewritten;
  removeUnusedNodes(graph);
  return true;
}

/** Drops nodes whose results nothing reads (ONNX nodes have no side effects), then unread initializers. */
export function removeUnusedNodes(graph: Graph): void {
  for (let changed = true; changed;) {
    const read = new Set([
      ...graph.node.flatMap((n) => n.input),
      ...graph.output.map((o) => o.name),
    ]);
    const kept = graph.node.filter((n) => n.output.some((o) => read.has(o)));
    changed = kept.length !== graph.node.length;
    graph.node = kept;
  }
  const read = new Set([...graph.node.flatMap((n) => n.input), ...graph.output.map((o) => o.name)]);
  graph.initializer = graph.initializer.filter((t) => read.has(t.name));
}

/** Values that are a single float: scalar initializers and Constant nodes' outputs. */
function scalarConstants(graph: Graph): Map<string, number> {
  const out = new Map<string, number>();
  const read = (t: Tensor | null | undefined) =>
    t && t.dataType === DataType.FLOAT && dims(t).reduce((a, b) => a * b, 1) === 1
      ? tensorValues(t)[0]
      : undefined;
  for (const t of graph.initializer) {
    const value = read(t);
    if (value !== undefined) out.set(t.name, value);
  }
  for (const n of graph.node) {
    if (n.opType !== 'Constant') continue;
    const attribute = n.attribute[0];
    const value =
      attribute?.name === 'value'
        ? read(attribute.t)
        : attribute?.name === 'value_float'
          ? attribute.f
          : undefined;
    if (value !== undefined) out.set(n.output[0], value);
  }
  return out;
}

export const BEAM_INDEX_INPUT = 'beam_index';

/**
 * Beam search reorders the key/value cache after every step (each surviving beam continues one
 * of the previous beams, some twice). Doing that with a Gather at the start of the step graph
 * keeps the copy in ONNX Runtime's native code: the previous step's outputs are fed back
 * unchanged with the row order as a small int64 input, instead of being copied row by row in
 * JavaScript (tens of MB a step, plus the garbage). Rows can also be dropped this way.
 */
export function reorderPastInGraph(graph: Graph, pastPrefix = 'past_key_values.'): number {
  const pasts = graph.input.filter((i) => i.name.startsWith(pastPrefix)).map((i) => i.name);
  if (pasts.length === 0) return 0;
  const reordered = new Map(pasts.map((name) => [name, `caption_service/reordered/${name}`]));
  graph.node = [
    ...pasts.map((name) =>
      createNode({
        name: `caption_service/reorder/${name}`,
        opType: 'Gather',
        domain: '',
        input: [name, BEAM_INDEX_INPUT],
        output: [reordered.get(name)!],
        attribute: [intAttribute('axis', 0)],
      }),
    ),
    ...graph.node.map((n) =>
      n.input.some((x) => reordered.has(x))
        ? createNode({ ...n, input: n.input.map((x) => reordered.get(x) ?? x) })
        : n,
    ),
  ];
  graph.input = [...graph.input, tensorValueInfo(BEAM_INDEX_INPUT, DataType.INT64, ['rows'])];
  return pasts.length;
}

export const ENCODER_SHAPE_INPUT = 'encoder_hidden_states_shape';

/**
 * After the split the per-step graph reads the encoder states only through Shape. Feeding the
 * whole [rows, 197, 768] tensor each step just to be measured costs a copy per row; this
 * replaces those Shape nodes with a 3-element int64 input holding the same shape.
 * Returns false, changing nothing, when some reader is not a plain Shape.
 */
export function encoderStatesAsShape(graph: Graph, invariantInput = ENCODER_STATE_INPUT): boolean {
  const readers = graph.node.filter((n) => n.input.includes(invariantInput));
  if (readers.length === 0 || readers.some((n) => n.opType !== 'Shape' || n.attribute.length > 0)) {
    return false;
  }
  graph.node = graph.node.map((n) =>
    readers.includes(n)
      ? createNode({
          name: n.name,
          opType: 'Identity',
          domain: '',
          input: [ENCODER_SHAPE_INPUT],
          output: n.output,
          attribute: [],
        })
      : n,
  );
  graph.input = [
    ...graph.input.filter((i) => i.name !== invariantInput),
    tensorValueInfo(ENCODER_SHAPE_INPUT, DataType.INT64, [3]),
  ];
  return true;
}

export function asModel(template: Model, graph: Graph): Model {
  return newModelLike(template, graph, 'caption-service-graph-optimizer');
}
