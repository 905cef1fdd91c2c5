/**
 * Symbolic shape inference for the step graph: every tensor's dimensions, and the values of the
 * small int64 tensors computed from shapes, as linear forms over a few named dimensions (rows,
 * images, the cache length...). foldShapes uses it to replace the ~1300 per-step shape
 * computations of the exported graph by constants and a handful of shared expressions. It covers
 * the operators of the GPT-2 decoder step; anything else makes its outputs unknown, and nothing
 * is rewritten from unknown values. No ONNX library for Node infers symbolic shapes, hence this.
 * The per-operator rules stay in one function so that the covered operators read as one table
 * (which is why this file runs past 300 lines).
 */
import { DataType, Graph, Node, Tensor, dims, int64Values } from './onnx-proto';
import {
  Dim,
  broadcast,
  combine,
  constant,
  elementwiseValue,
  equalValue,
  isConstant,
  reshaped,
} from './symbolic-dims';

export type { Dim } from './symbolic-dims';
export { constant, isConstant, key, reshaped, sameDim, symbol } from './symbolic-dims';

/** What the evaluator knows about one value. */
export interface Known {
  shape?: Dim[];
  /** For small int tensors computed from shapes: their elements (a scalar has shape []). */
  value?: Dim[];
  type?: number;
}

export type Knowledge = Map<string, Known>;

const ELEMENTWISE = new Set([
  'Add',
  'Sub',
  'Mul',
  'Div',
  'Pow',
  'Equal',
  'Less',
  'LessOrEqual',
  'Greater',
  'GreaterOrEqual',
  'And',
  'Or',
]);
const SAME_SHAPE = new Set([
  'ScatterND',
  'ScatterElements',
  'Cast',
  'Sqrt',
  'Tanh',
  'Erf',
  'Relu',
  'Neg',
  'Not',
  'Softmax',
  'LogSoftmax',
  'DequantizeLinear',
  'QuantizeLinear',
]);

/**
 * Infers shapes and shape values through the graph, in node order. `inputs` gives each graph
 * input's dimensions, `inputValues` the elements of the small int inputs whose values are
 * dimensions (e.g. cache_length).
 */
export function inferShapes(
  graph: Graph,
  inputs: Record<string, Dim[]>,
  inputValues: Record<string, Dim[]>,
): Knowledge {
  const known: Knowledge = new Map();
  for (const [name, shape] of Object.entries(inputs)) {
    known.set(name, { shape, value: inputValues[name], type: DataType.INT64 });
  }
  for (const t of graph.initializer) known.set(t.name, fromTensor(t));
  for (const node of graph.node) {
    let outputs: Known[] = [];
    try {
      outputs = infer(
        node,
        node.input.map((x) => known.get(x) ?? {}),
      );
    } catch {
      outputs = [];
    }
    node.output.forEach((o, i) => known.set(o, outputs[i] ?? {}));
  }
  return known;
}

function fromTensor(t: Tensor): Known {
  const shape = dims(t).map(constant);
  const count = dims(t).reduce((a, b) => a * b, 1);
  const small = (t.dataType === DataType.INT64 || t.dataType === DataType.INT32) && count <= 64;
  const value = small && t.dataType === DataType.INT64 ? int64Values(t).map(constant) : undefined;
  return { shape, value, type: t.dataType };
}

function attr(node: Node, name: string): number | number[] | undefined {
  const a = node.attribute.find((x) => x.name === name);
  if (!a) return undefined;
  if (a.ints && a.ints.length > 0) return a.ints.map(Number);
  if (a.i !== undefined && a.i !== null) return Number(a.i);
  if (a.t) return fromTensor(a.t).value?.map((d) => d.k);
  return undefined;
}

/** A value known to be all constants, as numbers. */
function numbers(k: Known | undefined): number[] | undefined {
  return k?.value?.every(isConstant) ? k.value.map((d) => d.k) : undefined;
}

function norm(axis: number, rank: number): number {
  return axis < 0 ? axis + rank : axis;
}

function infer(node: Node, ins: Known[]): Known[] {
  const [x] = ins;
  const op = node.opType;
  const int64 = DataType.INT64;
  if (op === 'Constant') {
    const t = node.attribute.find((a) => a.name === 'value')?.t;
    return t ? [fromTensor(t)] : [];
  }
  if (op === 'Shape') {
    if (!x.shape) return [];
    const rank = x.shape.length;
    const start = norm((attr(node, 'start') as number) ?? 0, rank);
    const end = norm((attr(node, 'end') as number) ?? rank, rank);
    const value = x.shape.slice(start, end);
    return [{ shape: [constant(value.length)], value, type: int64 }];
  }
  if (op === 'Gather') {
    const [data, indices] = ins;
    const axis = norm((attr(node, 'axis') as number) ?? 0, data.shape?.length ?? 1);
    const idx = numbers(indices);
    if (data.value && idx && axis === 0 && indices.shape) {
      const n = data.value.length;
      const value = idx.map((i) => data.value![i < 0 ? i + n : i]);
      return [{ shape: indices.shape, value, type: data.type }];
    }
    if (!data.shape || !indices.shape) return [];
    return [
      {
        shape: [...data.shape.slice(0, axis), ...indices.shape, ...data.shape.slice(axis + 1)],
        type: data.type,
      },
    ];
  }
  if (op === 'Unsqueeze' || op === 'Squeeze') {
    const axes = numbers(ins[1]) ?? (attr(node, 'axes') as number[] | undefined) ?? [];
    if (!x.shape) return [];
    let shape = [...x.shape];
    if (op === 'Unsqueeze') {
      const rank = shape.length + axes.length;
      for (const a of axes.map((a) => norm(a, rank)).sort((p, q) => p - q)) {
        shape.splice(a, 0, constant(1));
      }
    } else {
      const drop = new Set(
        axes.length > 0
          ? axes.map((a) => norm(a, shape.length))
          : shape.flatMap((d, i) => (isConstant(d) && d.k === 1 ? [i] : [])),
      );
      shape = shape.filter((_, i) => !drop.has(i));
    }
    return [{ shape, value: x.value, type: x.type }];
  }
  if (op === 'Concat') {
    const axis = attr(node, 'axis') as number;
    if (ins.every((k) => k.value) && ins.every((k) => k.shape?.length === 1)) {
      const value = ins.flatMap((k) => k.value!);
      return [{ shape: [constant(value.length)], value, type: x.type }];
    }
    if (ins.some((k) => !k.shape)) return [];
    const rank = x.shape!.length;
    const a = norm(axis, rank);
    const shape = [...x.shape!];
    shape[a] = ins.slice(1).reduce((d, k) => combine(d, k.shape![a], 1), x.shape![a]);
    return [{ shape, type: x.type }];
  }
  if (op === 'Slice') {
    const [, startsK, endsK, axesK, stepsK] = ins;
    if (!x.shape) return [];
    const rank = x.shape.length;
    const axes = numbers(axesK) ?? Array.from({ length: rank }, (_, i) => i);
    const steps = numbers(stepsK) ?? axes.map(() => 1);
    if (steps.some((s) => s !== 1)) return [];
    const starts = startsK.value;
    const ends = endsK.value;
    if (!starts || !ends) return [];
    const shape = [...x.shape];
    const values = x.value ? [...x.value] : undefined;
    for (let j = 0; j < axes.length; j++) {
      const axis = norm(axes[j], rank);
      const dim = shape[axis];
      const clamp = (b: Dim): Dim | undefined => {
        if (isConstant(b) && b.k < 0 && isConstant(dim)) return constant(Math.max(0, dim.k + b.k));
        if (isConstant(b) && b.k < 0) return combine(dim, b, 1);
        if (isConstant(b) && isConstant(dim)) return constant(Math.min(b.k, dim.k));
        if (isConstant(b) && b.k > 1e15) return dim;
        // A symbolic bound is taken as within the dimension (cache_length <= the cache).
        return b;
      };
      const [s, e] = [clamp(starts[j]), clamp(ends[j])];
      if (!s || !e) return [];
      shape[axis] = combine(e, s, -1);
      if (values && rank === 1 && isConstant(s) && isConstant(e)) {
        values.splice(0, values.length, ...values.slice(s.k, e.k));
      } else if (values) {
        return [{ shape, type: x.type }];
      }
    }
    return [{ shape, value: values, type: x.type }];
  }
  if (op === 'Cast') {
    const to = attr(node, 'to') as number;
    const keep = to === DataType.INT64 || to === DataType.INT32;
    return [{ shape: x.shape, value: keep ? x.value : undefined, type: to }];
  }
  if (ELEMENTWISE.has(op)) {
    const [a, b] = ins;
    const shape = broadcast([a.shape, b.shape]);
    const arithmetic = ['Add', 'Sub', 'Mul', 'Div'].includes(op);
    const value =
      a.value && b.value
        ? arithmetic
          ? elementwiseValue(op, a.value, b.value)
          : op === 'Equal'
            ? equalValue(a.value, b.value)
            : undefined
        : undefined;
    const compare = !['Add', 'Sub', 'Mul', 'Div', 'Pow'].includes(op);
    return [{ shape, value, type: compare ? DataType.BOOL : a.type }];
  }
  if (op === 'Where') {
    const [cond, a, b] = ins;
    const shape = broadcast(ins.map((k) => k.shape));
    const n = shape?.length === 1 && isConstant(shape[0]) ? shape[0].k : -1;
    const pick = (v: Dim[] | undefined, i: number) => v?.[v.length === 1 ? 0 : i];
    const value =
      n > 0 && cond.value && a.value && b.value
        ? Array.from(
            { length: n },
            (_, i) => (pick(cond.value, i)!.k ? pick(a.value, i) : pick(b.value, i))!,
          )
        : undefined;
    return [{ shape, value, type: a.type }];
  }
  if (op === 'Identity') return [x];
  if (SAME_SHAPE.has(op)) return [{ shape: x.shape, type: x.type }];
  if (op === 'ConstantOfShape') {
    const t = node.attribute.find((a) => a.name === 'value')?.t;
    const fill = t ? fromTensor(t) : undefined;
    const n = x.value?.length === 1 && isConstant(x.value[0]) ? x.value[0].k : -1;
    const value = fill?.value && n >= 0 ? new Array<Dim>(n).fill(fill.value[0]) : undefined;
    return [{ shape: x.value, value, type: fill?.type ?? DataType.FLOAT }];
  }
  if (op === 'Expand') {
    const target = ins[1].value;
    return [{ shape: target && broadcast([x.shape, target]), type: x.type }];
  }
  if (op === 'Range') {
    const [start, limit, delta] = ins.map((k) => k.value?.[0]);
    if (!start || !limit || !delta || !isConstant(delta) || delta.k !== 1) return [];
    return [{ shape: [combine(limit, start, -1)], type: x.type }];
  }
  if (op === 'Reshape') {
    const shape = reshaped(x.shape, ins[1].value);
    // A shape value reshaped to a vector or a scalar keeps its elements.
    const value = x.value && shape && shape.length <= 1 ? x.value : undefined;
    return [{ shape, value, type: x.type }];
  }
  if (op === 'Transpose') {
    if (!x.shape) return [];
    const perm = (attr(node, 'perm') as number[]) ?? x.shape.map((_, i) => x.shape!.length - 1 - i);
    return [{ shape: perm.map((p) => x.shape![p]), type: x.type }];
  }
  if (['MatMul', 'FusedMatMul', 'MatMulInteger', 'DynamicQuantizeMatMul'].includes(op)) {
    const [a, b] = ins;
    if (!a.shape || !b.shape || a.shape.length < 2 || b.shape.length < 2) return [];
    const batch = broadcast([a.shape.slice(0, -2), b.shape.slice(0, -2)]);
    if (!batch) return [];
    return [{ shape: [...batch, a.shape[a.shape.length - 2], b.shape[b.shape.length - 1]] }];
  }
  if (op === 'MatMulNBits') {
    if (!x.shape) return [];
    return [{ shape: [...x.shape.slice(0, -1), constant(attr(node, 'N') as number)] }];
  }
  if (op === 'Gemm') {
    const [a, b] = ins;
    if (!a.shape || !b.shape) return [];
    const m = attr(node, 'transA') === 1 ? a.shape[1] : a.shape[0];
    const n = attr(node, 'transB') === 1 ? b.shape[0] : b.shape[1];
    return [{ shape: [m, n] }];
  }
  if (op === 'DynamicQuantizeLinear') {
    return [{ shape: x.shape, type: DataType.UINT8 }, { shape: [] }, { shape: [] }];
  }
  if (op === 'ReduceMean') {
    if (!x.shape) return [];
    const axes = ((attr(node, 'axes') as number[]) ?? numbers(ins[1]) ?? []).map((a) =>
      norm(a, x.shape!.length),
    );
    const keep = (attr(node, 'keepdims') as number) ?? 1;
    const shape = x.shape.flatMap((d, i) => (axes.includes(i) ? (keep ? [constant(1)] : []) : [d]));
    return [{ shape, type: x.type }];
  }
  if (op === 'Split') {
    if (!x.shape) return [];
    const axis = norm((attr(node, 'axis') as number) ?? 0, x.shape.length);
    const sizes = numbers(ins[1]) ?? (attr(node, 'split') as number[] | undefined);
    const dim = x.shape[axis];
    const parts =
      sizes ??
      (isConstant(dim)
        ? new Array<number>(node.output.length).fill(dim.k / node.output.length)
        : undefined);
    if (!parts) return [];
    return parts.map((p) => {
      const shape = [...x.shape!];
      shape[axis] = constant(p);
      return { shape, type: x.type };
    });
  }
  return [];
}
