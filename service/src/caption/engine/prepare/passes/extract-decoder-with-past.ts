import { Graph, Model, createGraph, createNode } from '../onnx-proto';
import { PAST_PREFIX, USE_CACHE_BRANCH } from '../tensor-names';

/**
 * The exported decoder comes as optimum's "merged" model: one `If` on `use_cache_branch` whose
 * then-branch is the decoder with past and whose else-branch is the first step without past.
 * The with-past graph also serves the first step when fed a zero-length past, so it is all we
 * keep. A plain `decoder_with_past_model.onnx` is returned as it is (minus the switch input).
 * Throws on a graph that is neither.
 */
export function extractDecoderWithPast(model: Model): Graph {
  const graph = model.graph;
  const ifNodes = graph.node.filter((n) => n.opType === 'If' && n.input[0] === USE_CACHE_BRANCH);
  if (ifNodes.length === 0) {
    if (!graph.input.some((i) => i.name.startsWith(PAST_PREFIX))) {
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
