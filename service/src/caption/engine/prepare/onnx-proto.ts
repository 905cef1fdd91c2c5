import { onnx } from 'onnx-proto';

export { onnx };

/*
 * Decoded messages as protobufjs builds them: every field present (defaults on the prototype,
 * repeated fields as arrays). onnx-proto types nested messages as all-optional interfaces, so
 * these narrower views are what the graph code works with.
 */
export interface Tensor {
  name: string;
  dims: (number | Long)[];
  dataType: number;
  rawData: Uint8Array;
  floatData: number[];
  int32Data: number[];
  dataLocation: number;
}

export interface ValueInfo {
  name: string;
  type?: onnx.ITypeProto | null;
}

export interface Attribute {
  name: string;
  type: number;
  i?: number | Long;
  f?: number;
  t?: Tensor | null;
  g?: Graph | null;
  graphs?: Graph[];
  ints?: (number | Long)[];
}

export function intAttribute(name: string, value: number): Attribute {
  return { name, type: onnx.AttributeProto.AttributeType.INT, i: value };
}

export function floatAttribute(name: string, value: number): Attribute {
  return { name, type: onnx.AttributeProto.AttributeType.FLOAT, f: value };
}

/** ONNX Runtime's own operators (e.g. FusedMatMul). */
export const ORT_DOMAIN = 'com.microsoft';

export interface Node {
  name: string;
  opType: string;
  domain: string;
  input: string[];
  output: string[];
  attribute: Attribute[];
}

export interface Graph {
  name: string;
  node: Node[];
  initializer: Tensor[];
  input: ValueInfo[];
  output: ValueInfo[];
  valueInfo: ValueInfo[];
}

export interface Model {
  irVersion: number | Long;
  opsetImport: onnx.IOperatorSetIdProto[];
  graph: Graph;
}

type Long = { low: number; high: number; unsigned: boolean };

export function createGraph(fields: Partial<Graph> & { name: string }): Graph {
  return onnx.GraphProto.create(fields as onnx.IGraphProto) as unknown as Graph;
}

export function createNode(fields: Node): Node {
  return onnx.NodeProto.create(fields as onnx.INodeProto) as unknown as Node;
}

const { DataType } = onnx.TensorProto;
export { DataType };

export function decodeModel(bytes: Uint8Array, label: string): Model {
  const model = onnx.ModelProto.decode(bytes) as unknown as Model;
  if (!model.graph) throw new Error(`${label}: not an ONNX model (no graph)`);
  const external = model.graph.initializer.find(
    (t) => t.dataLocation === onnx.TensorProto.DataLocation.EXTERNAL,
  );
  if (external) {
    // Models over 2 GB keep weights in side files; the published model is far below that.
    throw new Error(
      `${label}: initializer ${external.name} uses external data, which is not supported`,
    );
  }
  return model;
}

export function encodeModel(model: Model): Uint8Array {
  return onnx.ModelProto.encode(model as unknown as onnx.IModelProto).finish();
}

export function newModelLike(template: Model, graph: Graph, producer: string): Model {
  const usesOrtOps = graph.node.some((n) => n.domain === ORT_DOMAIN);
  const declared = template.opsetImport.some((o) => o.domain === ORT_DOMAIN);
  return onnx.ModelProto.create({
    irVersion: template.irVersion,
    opsetImport:
      usesOrtOps && !declared
        ? [...template.opsetImport, { domain: ORT_DOMAIN, version: 1 }]
        : template.opsetImport,
    producerName: producer,
    producerVersion: '1',
    graph: graph as unknown as onnx.IGraphProto,
  }) as unknown as Model;
}

export function dims(tensor: Tensor): number[] {
  return tensor.dims.map((d) => Number(d));
}

type TypedArray = Float32Array | Uint8Array | Int8Array | Int32Array;

/** The values of an initializer as a typed array (a copy, so it is safe to keep). */
export function tensorValues(tensor: Tensor): TypedArray {
  const count = dims(tensor).reduce((a, b) => a * b, 1);
  const raw = tensor.rawData;
  switch (tensor.dataType) {
    case DataType.FLOAT:
      if (raw && raw.length) return new Float32Array(copyBytes(raw).buffer, 0, count);
      return Float32Array.from(tensor.floatData);
    case DataType.UINT8:
      if (raw && raw.length) return copyBytes(raw);
      return Uint8Array.from(tensor.int32Data);
    case DataType.INT8:
      if (raw && raw.length) return new Int8Array(copyBytes(raw).buffer, 0, count);
      return Int8Array.from(tensor.int32Data);
    case DataType.INT32:
      if (raw && raw.length) return new Int32Array(copyBytes(raw).buffer, 0, count);
      return Int32Array.from(tensor.int32Data);
    default:
      throw new Error(
        `initializer ${tensor.name}: data type ${tensor.dataType} not supported here`,
      );
  }
}

/** The values of an int64 initializer (shapes, indices, axes) as numbers. */
export function int64Values(tensor: Tensor): number[] {
  if (tensor.dataType !== DataType.INT64) {
    throw new Error(`initializer ${tensor.name}: expected int64, got data type ${tensor.dataType}`);
  }
  const count = dims(tensor).reduce((a, b) => a * b, 1);
  const raw = tensor.rawData;
  if (raw && raw.length) {
    return Array.from(new BigInt64Array(copyBytes(raw).buffer, 0, count), Number);
  }
  return (tensor as Tensor & { int64Data?: (number | Long)[] }).int64Data?.map(Number) ?? [];
}

function copyBytes(raw: Uint8Array): Uint8Array {
  const out = new Uint8Array(raw.length);
  out.set(raw);
  return out;
}

export function makeTensor(
  name: string,
  dataType: number,
  shape: number[],
  values: TypedArray | BigInt64Array,
): Tensor {
  return onnx.TensorProto.create({
    name,
    dataType,
    dims: shape,
    rawData: new Uint8Array(values.buffer, values.byteOffset, values.byteLength),
  }) as unknown as Tensor;
}

export function tensorValueInfo(
  name: string,
  elemType: number,
  shape: (number | string)[],
): ValueInfo {
  return onnx.ValueInfoProto.create({
    name,
    type: {
      tensorType: {
        elemType,
        shape: {
          dim: shape.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })),
        },
      },
    },
  }) as unknown as ValueInfo;
}

export function valueInfo(name: string): ValueInfo {
  return onnx.ValueInfoProto.create({ name }) as unknown as ValueInfo;
}

export function hasSubgraph(node: Node): boolean {
  return node.attribute.some((a) => a.g || (a.graphs && a.graphs.length > 0));
}
