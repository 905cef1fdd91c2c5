import { closure, producersOf, subgraph } from '../graph-queries';
import { Graph, hasSubgraph } from '../onnx-proto';
import { ENCODER_STATE_INPUT } from '../tensor-names';

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
 * Throws (the caller cannot go on without a split) when there is nothing to hoist or a graph
 * output would move.
 */
export function hoistInvariant(graph: Graph, invariantInput = ENCODER_STATE_INPUT): HoistResult {
  if (!graph.input.some((i) => i.name === invariantInput)) {
    throw new Error(`graph has no input named ${invariantInput}`);
  }
  const variant = new Set(graph.input.map((i) => i.name).filter((n) => n !== invariantInput));
  const dependsOnValues = new Set([invariantInput]);
  const producer = producersOf(graph);
  const hoist = new Set<number>();
  graph.node.forEach((node, index) => {
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
  for (const o of graph.output) {
    const p = producer.get(o.name);
    if (p !== undefined && hoist.has(p)) throw new Error(`graph output ${o.name} would be hoisted`);
  }

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
    [...stepInputs, ...hoisted],
    graph.output.map((o) => o.name),
  );
  return {
    once,
    perStep,
    hoisted,
    perStepReadsInvariant: stepReads.has(invariantInput),
    hoistedNodeCount: hoist.size,
  };
}
