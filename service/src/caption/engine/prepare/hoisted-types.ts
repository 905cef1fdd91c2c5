import * as ort from 'onnxruntime-node';
import { HoistedValue } from '../prepared-model';
import { DataType, Graph, Model, encodeModel, tensorValueInfo } from './onnx-proto';

const ELEM_TYPES: Partial<Record<ort.Tensor.Type, number>> = {
  float32: DataType.FLOAT,
  float16: DataType.FLOAT16,
  int64: DataType.INT64,
  int32: DataType.INT32,
  int8: DataType.INT8,
  uint8: DataType.UINT8,
  bool: DataType.BOOL,
};

/**
 * The split leaves the hoisted values untyped (they were inner values of the stock graph), and
 * graph inputs must declare their types: ONNX Runtime infers them on the once-per-image graph.
 */
export async function hoistedTypes(onceModel: Model, names: string[]): Promise<HoistedValue[]> {
  const session = await ort.InferenceSession.create(encodeModel(onceModel), {
    graphOptimizationLevel: 'basic',
  });
  try {
    return names.map((name) => {
      const meta = session.outputMetadata.find((m) => m.name === name);
      if (!meta || !meta.isTensor) throw new Error(`hoisted value ${name} is not a tensor output`);
      return { name, type: meta.type, rank: meta.shape.length };
    });
  } finally {
    await session.release();
  }
}

/** Declares the hoisted values' types on both graphs (batch-major, other dimensions free). */
export function declareHoisted(once: Graph, step: Graph, hoisted: HoistedValue[]): void {
  const typed = new Map(
    hoisted.map((h, i) => {
      const elemType = ELEM_TYPES[h.type];
      if (elemType === undefined) {
        throw new Error(`hoisted value ${h.name} has unsupported type ${h.type}`);
      }
      const shape = Array.from({ length: h.rank }, (_, d) =>
        d === 0 ? 'batch_size' : `hoisted_${i}_dim_${d}`,
      );
      return [h.name, tensorValueInfo(h.name, elemType, shape)];
    }),
  );
  once.output = once.output.map((o) => typed.get(o.name) ?? o);
  step.input = step.input.map((i) => typed.get(i.name) ?? i);
}
