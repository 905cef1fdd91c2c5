/** Read-only questions about an ONNX graph, and the small edits every pass shares. */
import {
  DataType,
  Graph,
  Model,
  Node,
  Tensor,
  dims,
  newModelLike,
  tensorValues,
} from './onnx-proto';
import { valueInfo, createGraph } from './onnx-proto';

export interface Use {
  node: Node;
  /** The input slot the node reads the value in. */
  slot: number;
}

/** Every value's readers: the node and the input slot it reads the value in. */
export function usesOf(graph: Graph): Map<string, Use[]> {
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

/** The index of the node producing each value. */
export function producersOf(graph: Graph): Map<string, number> {
  const producer = new Map<string, number>();
  graph.node.forEach((node, index) => node.output.forEach((o) => producer.set(o, index)));
  return producer;
}

/** Nodes reachable backwards from `start`; `follow(producerIndex, value)` may stop the walk. */
export function closure(
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

/**
 * A graph of `nodes` taken from `graph`, with the initializers they read and the given inputs
 * and outputs (declared as `graph` declares them, else untyped).
 */
export function subgraph(
  graph: Graph,
  name: string,
  nodes: Node[],
  inputNames: string[],
  outputNames: string[],
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
    input: inputNames.map(info),
    output: outputNames.map(info),
  });
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
export function scalarConstants(graph: Graph): Map<string, number> {
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

/** Replaces an initializer by name, keeping its place, and the name map in step. */
export function replaceInitializer(graph: Graph, inits: Map<string, Tensor>, tensor: Tensor): void {
  const index = graph.initializer.findIndex((t) => t.name === tensor.name);
  graph.initializer[index] = tensor;
  inits.set(tensor.name, tensor);
}

/** A model holding `graph`, with the template's IR version and opsets. */
export function asModel(template: Model, graph: Graph): Model {
  return newModelLike(template, graph, 'caption-service-graph-optimizer');
}
