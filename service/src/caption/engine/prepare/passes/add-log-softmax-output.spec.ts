import {
  DataType,
  bytesOf,
  floatTensor,
  graphOf,
  node,
  runGraph,
} from '../../../../../test/support/onnx-graphs';
import { LOGITS_OUTPUT, LOG_PROBS_OUTPUT } from '../tensor-names';
import { addLogSoftmaxOutput } from './add-log-softmax-output';

const F = DataType.FLOAT;

const head = () =>
  graphOf({
    nodes: [node('Identity', ['x'], [LOGITS_OUTPUT])],
    inputs: [['x', F, [2, 1, 7]]],
    outputs: [[LOGITS_OUTPUT, F, [2, 1, 7]]],
  });

describe('addLogSoftmaxOutput', () => {
  it('adds log_softmax over the vocabulary beside the logits', async () => {
    const graph = head();
    expect(addLogSoftmaxOutput(graph)).toBe(true);
    const x = floatTensor([2, 1, 7]);
    const out = await runGraph(graph, { x });
    const logits = x.data as Float32Array;
    const logProbs = out[LOG_PROBS_OUTPUT].data as Float32Array;
    for (let row = 0; row < 2; row++) {
      const values = Array.from(logits.subarray(row * 7, row * 7 + 7));
      const logSum = Math.log(values.reduce((sum, v) => sum + Math.exp(v), 0));
      values.forEach((v, i) => expect(logProbs[row * 7 + i]).toBeCloseTo(v - logSum, 6));
    }
    expect(Array.from(out[LOGITS_OUTPUT].data as Float32Array)).toEqual(Array.from(logits));
  });

  it('leaves a graph without logits, or with log_probs already, unchanged', () => {
    const noLogits = graphOf({
      nodes: [node('Identity', ['x'], ['y'])],
      inputs: [['x', F, [1]]],
      outputs: [['y', F, [1]]],
    });
    const twice = head();
    addLogSoftmaxOutput(twice);
    for (const graph of [noLogits, twice]) {
      const before = bytesOf(graph);
      expect(addLogSoftmaxOutput(graph)).toBe(false);
      expect(bytesOf(graph)).toEqual(before);
    }
  });
});
