import { DataType, Graph, createNode, tensorValueInfo } from '../onnx-proto';
import { ENCODER_SHAPE_INPUT, ENCODER_STATE_INPUT } from '../tensor-names';

/**
 * After the split the per-step graph reads the encoder states only through Shape. Feeding the
 * whole [rows, 197, 768] tensor each step just to be measured costs a copy per row; this
 * replaces those Shape nodes with a 3-element int64 input holding the same shape.
 * Returns false, changing nothing, when nothing reads the states or some reader is not a plain
 * Shape (one with start/end attributes, or any other op, needs the values or a part of the shape).
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
