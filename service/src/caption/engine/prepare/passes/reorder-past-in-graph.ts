import { DataType, Graph, createNode, intAttribute, tensorValueInfo } from '../onnx-proto';
import { BEAM_INDEX_INPUT, PAST_PREFIX } from '../tensor-names';

/**
 * Beam search reorders the key/value cache after every step (each surviving beam continues one
 * of the previous beams, some twice). Doing that with a Gather at the start of the step graph
 * keeps the copy in ONNX Runtime's native code: the previous step's outputs are fed back
 * unchanged with the row order as a small int64 input, instead of being copied row by row in
 * JavaScript (tens of MB a step, plus the garbage). Rows can also be dropped this way.
 * Returns how many cache inputs it reorders; 0 (no past inputs, or a beam index input already
 * there) means the graph is unchanged.
 */
export function reorderPastInGraph(graph: Graph, pastPrefix = PAST_PREFIX): number {
  const pasts = graph.input.filter((i) => i.name.startsWith(pastPrefix)).map((i) => i.name);
  if (pasts.length === 0 || graph.input.some((i) => i.name === BEAM_INDEX_INPUT)) return 0;
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
