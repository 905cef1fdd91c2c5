import { DataType, Graph, createNode, tensorValueInfo } from '../onnx-proto';
import { LOGITS_OUTPUT, LOG_PROBS_OUTPUT } from '../tensor-names';

/**
 * Beam search scores tokens by log-probability; ONNX Runtime computes log_softmax over the
 * 50k-token vocabulary far faster than a JavaScript loop, in fp32 as PyTorch does. The logits
 * stay an output (greedy search reads them); the runtime fetches only what its searches read.
 * Returns false, changing nothing, when the graph has no logits output or already has log_probs.
 */
export function addLogSoftmaxOutput(step: Graph): boolean {
  if (!step.output.some((o) => o.name === LOGITS_OUTPUT)) return false;
  if (step.output.some((o) => o.name === LOG_PROBS_OUTPUT)) return false;
  step.node.push(
    createNode({
      name: 'caption_service/log_softmax',
      opType: 'LogSoftmax',
      domain: '',
      input: [LOGITS_OUTPUT],
      output: [LOG_PROBS_OUTPUT],
      attribute: [],
    }),
  );
  step.output.push(
    tensorValueInfo(LOG_PROBS_OUTPUT, DataType.FLOAT, [
      'batch_size',
      'decoder_sequence_length',
      'vocab',
    ]),
  );
  return true;
}
