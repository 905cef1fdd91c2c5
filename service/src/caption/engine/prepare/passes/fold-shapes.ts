import { removeUnusedNodes } from '../graph-queries';
import { DataType, Graph, Node, createNode, makeTensor } from '../onnx-proto';
import { Dim, Knowledge, inferShapes, isConstant, reshaped, sameDim } from '../symbolic-shapes';

/** Where a named dimension is read at run time: a dimension of an input, or an input's value. */
export type SymbolSource = { input: string; axis: number } | { value: string };

export interface StepDims {
  /** Every graph input's dimensions (constants and named symbols). */
  inputs: Record<string, Dim[]>;
  /** The elements of small int64 inputs that hold dimensions (e.g. cache_length). */
  inputValues: Record<string, Dim[]>;
  sources: Record<string, SymbolSource>;
  /** Symbols that are never 0 at run time (rows, images), so a -1 beside them is safe. */
  nonZero: Set<string>;
}

const PREFIX = 'caption_service/shapes';

/**
 * The exported step computes its reshape targets, expand shapes and slice bounds at every run
 * from Shape nodes on intermediate tensors: ~1300 tiny nodes, several milliseconds a step. With
 * the dimensions known symbolically (symbolic-shapes.ts), this pass gives every consumer of
 * such a value its value directly: a constant where it is one (a Reshape target becomes one by
 * using 0 for "same as the input" and -1 for the one remaining dimension), otherwise one shared
 * expression over the inputs' dimensions. The old shape computations are then unused and go.
 * Nothing else changes, so the step's arithmetic is untouched. Returns the number of nodes
 * removed; 0 means the graph is unchanged.
 */
export function foldShapes(graph: Graph, stepDims: StepDims): number {
  const before = graph.node.length;
  const known = inferShapes(graph, stepDims.inputs, stepDims.inputValues);
  // Values computed from shapes by nodes (Constant nodes are constants already), every symbol
  // of which can be read from the inputs.
  const computed = new Set(
    graph.node.filter((n) => n.opType !== 'Constant').flatMap((n) => n.output),
  );
  const readable = (d: Dim) => Object.keys(d.s).every((name) => name in stepDims.sources);
  const isShapeValue = (v: string) => {
    const k = known.get(v);
    return computed.has(v) && k?.type === DataType.INT64 && !!k.value && k.value.every(readable);
  };
  const builder = new ExpressionBuilder(stepDims);
  let changed = false;
  graph.node = graph.node.flatMap((node) => {
    // Nodes inside the shape computations are left to die with them.
    if (node.output.every(isShapeValue)) return [node];
    let input = node.input;
    node.input.forEach((v, slot) => {
      if (!isShapeValue(v)) return;
      const value = known.get(v)!.value!;
      const scalar = known.get(v)!.shape?.length === 0;
      const folded =
        node.opType === 'Reshape' && slot === 1
          ? reshapeTarget(node, known, value, stepDims.nonZero, builder)
          : builder.build(value, scalar);
      if (folded === v) return;
      input = input.map((x, i) => (i === slot ? folded : x));
    });
    if (input === node.input) return [node];
    changed = true;
    return [createNode({ ...node, input })];
  });
  if (!changed) return 0;
  graph.node = [...builder.nodes, ...graph.node];
  graph.initializer.push(...builder.initializers);
  removeUnusedNodes(graph);
  return before - graph.node.length;
}

/** A constant target when each dimension is a constant, the input's own (0), or the rest (-1). */
function reshapeTarget(
  node: Node,
  known: Knowledge,
  target: Dim[],
  nonZero: Set<string>,
  builder: ExpressionBuilder,
): string {
  const allowZero = node.attribute.find((a) => a.name === 'allowzero')?.i;
  const input = known.get(node.input[0])?.shape;
  const out = reshaped(input, target);
  if (!input || !out || Number(allowZero ?? 0) !== 0) return builder.build(target, false);
  const elements: number[] = [];
  let rest = -1;
  for (const [i, d] of out.entries()) {
    if (isConstant(d) && d.k > 0) {
      elements.push(d.k);
    } else if (i < input.length && sameDim(d, input[i]) && !isConstant(d)) {
      elements.push(0);
    } else if (rest < 0 && !isConstant(d)) {
      rest = i;
      elements.push(-1);
    } else {
      return builder.build(target, false);
    }
  }
  const othersNonZero = out.every((d, i) => i === rest || positive(d, nonZero));
  if (rest >= 0 && !othersNonZero) return builder.build(target, false);
  return builder.constant(elements, false);
}

/** Never 0: a positive constant, or a sum with nonnegative parts and a never-0 symbol. */
function positive(d: Dim, nonZero: Set<string>): boolean {
  const coefficients = Object.entries(d.s);
  if (d.k < 0 || coefficients.some(([, c]) => c < 0)) return false;
  return d.k >= 1 || coefficients.some(([name, c]) => c > 0 && nonZero.has(name));
}

/** Builds shared int64 values: constants, and sums of symbols read from the inputs. */
class ExpressionBuilder {
  readonly nodes: Node[] = [];
  readonly initializers: ReturnType<typeof makeTensor>[] = [];
  private readonly memo = new Map<string, string>();
  private count = 0;

  constructor(private readonly stepDims: StepDims) {}

  constant(values: number[], scalar: boolean): string {
    return this.remember(`const:${scalar}:${values.join(',')}`, (name) => {
      const ints = BigInt64Array.from(values, toInt64);
      this.initializers.push(makeTensor(name, DataType.INT64, scalar ? [] : [values.length], ints));
    });
  }

  /** The value `dims` as an int64 tensor ([n], or a scalar). */
  build(dims: Dim[], scalar: boolean): string {
    if (dims.every(isConstant)) {
      return this.constant(
        dims.map((d) => d.k),
        scalar,
      );
    }
    const parts = dims.map((d) => this.dim(d));
    const vector =
      parts.length === 1
        ? parts[0]
        : this.node('Concat', parts, `concat:${parts.join(',')}`, [
            { name: 'axis', type: 2, i: 0 },
          ]);
    if (!scalar) return vector;
    return this.node('Reshape', [vector, this.constant([], false)], `scalar:${vector}`);
  }

  /** One dimension as a [1] tensor. */
  private dim(d: Dim): string {
    if (isConstant(d)) return this.constant([d.k], false);
    let sum: string | undefined;
    for (const [name, coefficient] of Object.entries(d.s).sort(([a], [b]) => a.localeCompare(b))) {
      let term = this.symbol(name);
      if (coefficient !== 1) {
        const by = this.constant([coefficient], false);
        term = this.node('Mul', [term, by], `mul:${term}:${by}`);
      }
      sum = sum === undefined ? term : this.node('Add', [sum, term], `add:${sum}:${term}`);
    }
    if (d.k !== 0) {
      const plus = this.constant([d.k], false);
      sum = this.node('Add', [sum!, plus], `add:${sum}:${plus}`);
    }
    return sum!;
  }

  private symbol(name: string): string {
    const source = this.stepDims.sources[name];
    if (!source) throw new Error(`foldShapes: no source for dimension ${name}`);
    if ('value' in source) return source.value;
    const shape = this.node('Shape', [source.input], `shape:${source.input}`);
    return this.node(
      'Slice',
      [shape, this.constant([source.axis], false), this.constant([source.axis + 1], false)],
      `slice:${shape}:${source.axis}`,
    );
  }

  private node(
    opType: string,
    input: string[],
    memoKey: string,
    attribute: Node['attribute'] = [],
  ): string {
    return this.remember(memoKey, (name) =>
      this.nodes.push(createNode({ name, opType, domain: '', input, output: [name], attribute })),
    );
  }

  private remember(memoKey: string, make: (name: string) => void): string {
    const found = this.memo.get(memoKey);
    if (found) return found;
    const name = `${PREFIX}/${this.count++}`;
    this.memo.set(memoKey, name);
    make(name);
    return name;
  }
}

const INT64_MAX = 2n ** 63n - 1n;

/**
 * int64 from a number read back from an initializer: the "to the end" bound 2^63 - 1 has no exact
 * double and comes back as 2^63, which must not wrap around to the most negative int64.
 */
function toInt64(value: number): bigint {
  const big = BigInt(value);
  if (big > INT64_MAX) return INT64_MAX;
  if (big < -INT64_MAX - 1n) return -INT64_MAX - 1n;
  return big;
}
