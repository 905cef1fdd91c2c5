import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { TINY_MODEL } from '../../../../../test/support/fixtures';
import { DataType, bytesOf, graphOf, node } from '../../../../../test/support/onnx-graphs';
import { onnxFileName, readModelSpec } from '../../model/model-spec';
import { decodeModel } from '../onnx-proto';
import { optimizeDecoder } from '../pass-pipeline';
import {
  BEAM_INDEX_INPUT,
  CACHE_LENGTH_INPUT,
  ENCODER_SHAPE_INPUT,
  ENCODER_STATE_INPUT,
  INPUT_IDS,
  LOGITS_OUTPUT,
  POSITION_IDS_INPUT,
  USE_CACHE_BRANCH,
  cacheNames,
} from '../tensor-names';
import { rowsAtOwnPositions } from './rows-at-own-positions';

const spec = readModelSpec(TINY_MODEL);
const names = cacheNames(spec.decoderLayers);
const headDim = spec.decoderHiddenSize / spec.decoderHeads;
type Feeds = Record<string, ort.Tensor>;

const int64 = (values: number[], shape: number[]) =>
  new ort.Tensor('int64', BigInt64Array.from(values.map(BigInt)), shape);
const emptyCache = (rows: number): Feeds =>
  Object.fromEntries(
    names.past.map((n) => [
      n,
      new ort.Tensor('float32', new Float32Array(0), [rows, spec.decoderHeads, 0, headDim]),
    ]),
  );
const asPast = (out: ort.InferenceSession.OnnxValueMapType): Feeds =>
  Object.fromEntries(names.present.map((n, i) => [names.past[i], out[n] as ort.Tensor]));
const maxDiff = (a: number[], b: number[]) =>
  a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i])), a.length === b.length ? 0 : Infinity);
const row = (t: ort.Tensor, r: number) => {
  const size = t.dims.slice(1).reduce((a, b) => a * b, 1);
  return Array.from((t.data as Float32Array).subarray(r * size, (r + 1) * size));
};

/** Feeds of the stock decoder, one image alone, its `step`-th token. */
function stockFeeds(states: ort.Tensor, token: number, step: number, past: Feeds): Feeds {
  return {
    [INPUT_IDS]: int64([token], [1, 1]),
    [ENCODER_STATE_INPUT]: states,
    [USE_CACHE_BRANCH]: new ort.Tensor('bool', [step > 0], [1]),
    ...past,
  };
}

describe('rowsAtOwnPositions', () => {
  it('rows joining later share steps with running rows, each getting the stock logits exactly (fp32)', async () => {
    const stockBytes = readFileSync(join(TINY_MODEL, onnxFileName('decoder_model_merged', 'fp32')));
    const optimized = await optimizeDecoder(decodeModel(stockBytes, 'fp32'), spec);
    const [stock, once, step] = await Promise.all(
      [stockBytes, optimized.onceBytes, optimized.stepBytes].map((b) =>
        ort.InferenceSession.create(b),
      ),
    );
    const seq = spec.encoderSequenceLength;
    const hidden = spec.encoderHiddenSize;
    const image = (seed: number) =>
      new ort.Tensor(
        'float32',
        Float32Array.from({ length: seq * hidden }, (_, i) => Math.sin(i * 0.01 + seed)),
        [1, seq, hidden],
      );
    const states = [image(1), image(2)];
    const tokens = [
      [spec.decoderStartTokenId, 11, 12, 13, 14, 15],
      [spec.decoderStartTokenId, 21, 22, 23],
    ];
    // Image 1 joins at step 2 of image 0.
    const joinsAt = 2;

    const expected: number[][][] = [[], []];
    for (let i = 0; i < 2; i++) {
      let past = emptyCache(1);
      for (let s = 0; s < tokens[i].length; s++) {
        const out = await stock.run(stockFeeds(states[i], tokens[i][s], s, past));
        expected[i].push(row(out[LOGITS_OUTPUT] as ort.Tensor, 0));
        past = asPast(out);
      }
    }

    const hoisted = await Promise.all(
      states.map((s) => once.run({ [ENCODER_STATE_INPUT]: s }) as Promise<Feeds>),
    );
    const both = Object.fromEntries(
      Object.keys(hoisted[0]).map((name) => {
        const [a, b] = [hoisted[0][name], hoisted[1][name]];
        const data = new Float32Array(a.data.length * 2);
        data.set(a.data as Float32Array);
        data.set(b.data as Float32Array, a.data.length);
        return [name, new ort.Tensor('float32', data, [2, ...a.dims.slice(1)])];
      }),
    );
    let past = emptyCache(1);
    const diffs: number[] = [];
    for (let s = 0; s < tokens[0].length; s++) {
      const joined = s >= joinsAt;
      const positions = joined ? [s, s - joinsAt] : [s];
      const rows = positions.length;
      const out = await step.run({
        [INPUT_IDS]: int64(joined ? [tokens[0][s], tokens[1][s - joinsAt]] : [tokens[0][s]], [
          rows,
          1,
        ]),
        ...(joined ? both : hoisted[0]),
        ...past,
        // Each row continues its own cache; the joining row starts from a copy of row 0's,
        // which its mask hides.
        [BEAM_INDEX_INPUT]: int64(s === joinsAt ? [0, 0] : [0, 1].slice(0, rows), [rows]),
        [POSITION_IDS_INPUT]: int64(positions, [rows, 1]),
        [CACHE_LENGTH_INPUT]: int64([s], [1]),
        [ENCODER_SHAPE_INPUT]: int64([rows, seq, hidden], [3]),
      });
      const logits = out[LOGITS_OUTPUT] as ort.Tensor;
      diffs.push(maxDiff(row(logits, 0), expected[0][s]));
      if (joined) diffs.push(maxDiff(row(logits, 1), expected[1][s - joinsAt]));
      past = asPast(out);
    }
    // Every row of every step, to the bit (a printed diff of 50k logits would take minutes).
    expect(diffs).toEqual(new Array<number>(tokens[0].length + tokens[1].length).fill(0));
    await Promise.all([stock.release(), once.release(), step.release()]);
  });

  it('leaves a graph without a beam-reordered cache unchanged', () => {
    const graph = graphOf({
      nodes: [node('Identity', ['x'], ['y'])],
      inputs: [['x', DataType.FLOAT, [1]]],
      outputs: [['y', DataType.FLOAT, [1]]],
    });
    const before = bytesOf(graph);
    expect(rowsAtOwnPositions(graph)).toBe(false);
    expect(bytesOf(graph)).toEqual(before);
  });
});
