import {
  DataType,
  bytesOf,
  floatTensor,
  graphOf,
  int64Tensor,
  intAttribute,
  node,
  runGraph,
} from '../../../../../test/support/onnx-graphs';
import { ENCODER_SHAPE_INPUT, ENCODER_STATE_INPUT } from '../tensor-names';
import { encoderStatesAsShape } from './encoder-states-as-shape';

const F = DataType.FLOAT;
const I64 = DataType.INT64;

/** A step that reads the states only to size a mask, as the split GPT-2 step does. */
function measuringStep(reader = node('Shape', [ENCODER_STATE_INPUT], ['states_shape'])) {
  return graphOf({
    nodes: [reader, node('ConstantOfShape', ['states_shape'], ['mask'])],
    inputs: [[ENCODER_STATE_INPUT, F, ['rows', 197, 8]]],
    outputs: [['mask', F, ['rows', 197, 8]]],
  });
}

describe('encoderStatesAsShape', () => {
  it('replaces the states by their shape, and the step computes the same', async () => {
    const states = floatTensor([2, 197, 8]);
    const expected = await runGraph(measuringStep(), { [ENCODER_STATE_INPUT]: states });
    const graph = measuringStep();
    expect(encoderStatesAsShape(graph)).toBe(true);
    expect(graph.input.map((i) => i.name)).toEqual([ENCODER_SHAPE_INPUT]);
    const actual = await runGraph(graph, { [ENCODER_SHAPE_INPUT]: int64Tensor([2, 197, 8]) });
    expect(actual.mask.dims).toEqual(expected.mask.dims);
  });

  it.each([
    ['reads the values', node('Identity', [ENCODER_STATE_INPUT], ['states_copy'])],
    [
      'takes part of the shape (start attribute)',
      node('Shape', [ENCODER_STATE_INPUT], ['states_shape'], [intAttribute('start', 1)]),
    ],
  ])('leaves a step unchanged when a reader %s', (_case, reader) => {
    const graph = graphOf({
      nodes: [reader],
      inputs: [[ENCODER_STATE_INPUT, F, ['rows', 197, 8]]],
      outputs: [[reader.output[0], reader.opType === 'Shape' ? I64 : F, []]],
    });
    const before = bytesOf(graph);
    expect(encoderStatesAsShape(graph)).toBe(false);
    expect(bytesOf(graph)).toEqual(before);
  });

  it('leaves a step that does not read the states unchanged', () => {
    const graph = graphOf({
      nodes: [node('Identity', ['x'], ['y'])],
      inputs: [['x', F, [1]]],
      outputs: [['y', F, [1]]],
    });
    const before = bytesOf(graph);
    expect(encoderStatesAsShape(graph)).toBe(false);
    expect(bytesOf(graph)).toEqual(before);
  });
});
