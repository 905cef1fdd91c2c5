import {
  DataType,
  bytesOf,
  floatTensor,
  graphOf,
  int64Tensor,
  node,
  intAttribute,
  runGraph,
} from '../../../../../test/support/onnx-graphs';
import { BEAM_INDEX_INPUT } from '../tensor-names';
import { reorderPastInGraph } from './reorder-past-in-graph';

const F = DataType.FLOAT;

/** A cache step: the new key row is appended to the past along the sequence axis. */
function cacheStep() {
  return graphOf({
    nodes: [
      node(
        'Concat',
        ['past_key_values.0.key', 'new_key'],
        ['present.0.key'],
        [intAttribute('axis', 2)],
      ),
      node('Identity', ['past_key_values.0.value'], ['present.0.value']),
    ],
    inputs: [
      ['past_key_values.0.key', F, ['rows', 1, 'past', 2]],
      ['past_key_values.0.value', F, ['rows', 1, 'past', 2]],
      ['new_key', F, ['rows', 1, 1, 2]],
    ],
    outputs: [
      ['present.0.key', F, ['rows', 1, 'total', 2]],
      ['present.0.value', F, ['rows', 1, 'past', 2]],
    ],
  });
}

describe('reorderPastInGraph', () => {
  it('gathers every cache input by the beam index before the step reads it', async () => {
    const graph = cacheStep();
    expect(reorderPastInGraph(graph)).toBe(2);
    expect(graph.input.map((i) => i.name)).toContain(BEAM_INDEX_INPUT);
    const key = floatTensor([3, 1, 2, 2]);
    const value = floatTensor([3, 1, 2, 2], 50);
    const newKey = floatTensor([2, 1, 1, 2], 100);
    // Two rows continue: the first from past row 2, the second from past row 2 again (a beam
    // that spawned two survivors); row 0 and 1 are dropped.
    const out = await runGraph(graph, {
      'past_key_values.0.key': key,
      'past_key_values.0.value': value,
      new_key: newKey,
      [BEAM_INDEX_INPUT]: int64Tensor([2, 2]),
    });
    const rowOf = (t: typeof key, r: number) => {
      const size = t.dims.slice(1).reduce((a, b) => a * b, 1);
      return Array.from((t.data as Float32Array).subarray(r * size, (r + 1) * size));
    };
    expect(out['present.0.value'].dims).toEqual([2, 1, 2, 2]);
    expect(rowOf(out['present.0.value'], 0)).toEqual(rowOf(value, 2));
    expect(rowOf(out['present.0.value'], 1)).toEqual(rowOf(value, 2));
    expect(rowOf(out['present.0.key'], 1)).toEqual([
      ...rowOf(key, 2).slice(0, 4),
      ...rowOf(newKey, 1),
    ]);
  });

  it('leaves a graph without cache inputs unchanged', () => {
    const graph = graphOf({
      nodes: [node('Identity', ['x'], ['y'])],
      inputs: [['x', F, [1]]],
      outputs: [['y', F, [1]]],
    });
    const before = bytesOf(graph);
    expect(reorderPastInGraph(graph)).toBe(0);
    expect(bytesOf(graph)).toEqual(before);
  });

  it('leaves a graph that already reorders its cache unchanged', () => {
    const graph = cacheStep();
    reorderPastInGraph(graph);
    const before = bytesOf(graph);
    expect(reorderPastInGraph(graph)).toBe(0);
    expect(bytesOf(graph)).toEqual(before);
  });
});
