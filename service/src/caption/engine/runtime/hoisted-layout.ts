import * as ort from 'onnxruntime-node';
import { TensorMap } from './onnx-caption-model';

/** Image `index` of a once-per-image graph output (every hoisted value, batch-major). */
export interface RowSource {
  hoisted: TensorMap;
  index: number;
}

/**
 * Lays out the cross-attention keys/values for a step: one copy per image when every image has
 * the same number of rows (the step graph broadcasts them over the beams), else one per row.
 * The copy is made only when the layout changes (an image joins or leaves); a layout that is
 * exactly one once-graph output is fed as it is.
 */
export class HoistedLayout {
  private last?: { sources: RowSource[]; tensors: TensorMap };

  constructor(private readonly broadcastsOverBeams: boolean) {}

  arrange(imageSources: RowSource[], rowSources: RowSource[]): TensorMap {
    const uniform = rowSources.length % imageSources.length === 0 && sameRowCounts(rowSources);
    const sources = this.broadcastsOverBeams && uniform ? imageSources : rowSources;
    if (this.last && sameSources(this.last.sources, sources)) return this.last.tensors;
    const tensors = stack(sources);
    this.last = { sources, tensors };
    return tensors;
  }
}

/** Rows come grouped by image; uniform when every group has the same length. */
function sameRowCounts(rowSources: RowSource[]): boolean {
  const counts: number[] = [];
  let previous: RowSource | undefined;
  for (const source of rowSources) {
    if (previous && previous.hoisted === source.hoisted && previous.index === source.index) {
      counts[counts.length - 1]++;
    } else {
      counts.push(1);
    }
    previous = source;
  }
  return counts.every((c) => c === counts[0]);
}

function sameSources(a: RowSource[], b: RowSource[]): boolean {
  return (
    a.length === b.length && a.every((s, i) => s.hoisted === b[i].hoisted && s.index === b[i].index)
  );
}

function stack(sources: RowSource[]): TensorMap {
  const first = sources[0].hoisted;
  const whole = Object.values(first)[0].dims[0];
  const isWhole =
    sources.length === whole && sources.every((s, i) => s.hoisted === first && s.index === i);
  if (isWhole) return first;
  const out: TensorMap = {};
  for (const [name, tensor] of Object.entries(first)) {
    const rowSize = tensor.dims.slice(1).reduce((a, b) => a * b, 1);
    const data = new Float32Array(sources.length * rowSize);
    sources.forEach((s, i) => {
      const from = s.hoisted[name].data as Float32Array;
      data.set(from.subarray(s.index * rowSize, (s.index + 1) * rowSize), i * rowSize);
    });
    out[name] = new ort.Tensor('float32', data, [sources.length, ...tensor.dims.slice(1)]);
  }
  return out;
}
