/**
 * Small hand-built ONNX graphs for the graph-pass specs: each pass is shown to rewrite the graph
 * it recognises (checked by running both with ONNX Runtime) and to leave alone, byte for byte,
 * a graph it does not.
 */
import * as ort from 'onnxruntime-node';
import {
  Attribute,
  DataType,
  Graph,
  Model,
  Node,
  Tensor,
  createGraph,
  createNode,
  encodeModel,
  intAttribute,
  makeTensor,
  newModelLike,
  onnx,
  tensorValueInfo,
} from '../../src/caption/engine/prepare/onnx-proto';

export { DataType, intAttribute };

export function node(
  opType: string,
  input: string[],
  output: string[],
  attribute: Attribute[] = [],
  domain = '',
): Node {
  return createNode({ name: `${opType}:${output[0]}`, opType, domain, input, output, attribute });
}

export type ValueSpec = [name: string, elemType: number, shape: (number | string)[]];

export function graphOf(parts: {
  nodes: Node[];
  inputs: ValueSpec[];
  outputs: ValueSpec[];
  initializers?: Tensor[];
}): Graph {
  return createGraph({
    name: 'test',
    node: parts.nodes,
    initializer: parts.initializers ?? [],
    input: parts.inputs.map((v) => tensorValueInfo(...v)),
    output: parts.outputs.map((v) => tensorValueInfo(...v)),
  });
}

export function floats(name: string, shape: number[], values?: number[]): Tensor {
  const count = shape.reduce((a, b) => a * b, 1);
  const data = Float32Array.from(values ?? Array.from({ length: count }, (_, i) => pseudo(i)));
  return makeTensor(name, DataType.FLOAT, shape, data);
}

/** Deterministic values in [-1, 1) that are not all simple fractions. */
export function pseudo(i: number): number {
  return Math.sin(i * 12.9898 + 1.2345);
}

export function floatTensor(shape: number[], offset = 0): ort.Tensor {
  const count = shape.reduce((a, b) => a * b, 1);
  return new ort.Tensor(
    'float32',
    Float32Array.from({ length: count }, (_, i) => pseudo(i + offset)),
    shape,
  );
}

export function int64Tensor(values: number[], shape = [values.length]): ort.Tensor {
  return new ort.Tensor('int64', BigInt64Array.from(values.map(BigInt)), shape);
}

const TEMPLATE = onnx.ModelProto.create({
  irVersion: 8,
  opsetImport: [{ domain: '', version: 17 }],
}) as unknown as Model;

export function modelOf(graph: Graph): Model {
  return newModelLike(TEMPLATE, graph, 'spec');
}

/** Runs a graph once with ONNX Runtime (default optimizations unless told) and returns every output. */
export async function runGraph(
  graph: Graph,
  feeds: Record<string, ort.Tensor>,
  options: ort.InferenceSession.SessionOptions = {},
): Promise<Record<string, ort.Tensor>> {
  const session = await ort.InferenceSession.create(encodeModel(modelOf(graph)), options);
  try {
    return (await session.run(feeds)) as Record<string, ort.Tensor>;
  } finally {
    await session.release();
  }
}

/** The graph's serialized bytes: equal before and after a pass means the pass changed nothing. */
export function bytesOf(graph: Graph): Uint8Array {
  return onnx.GraphProto.encode(graph as unknown as onnx.IGraphProto).finish();
}
