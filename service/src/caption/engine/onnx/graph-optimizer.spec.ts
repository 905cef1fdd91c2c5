/**
 * The graph split on the committed tiny model (fp32 and q8): what moves, and that the optimized
 * pair reproduces the stock decoder's logits over many steps. The same check on the full-size
 * models runs in `npm run bench` (they are too large for the test suite).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { TINY_MODEL } from '../../../../test/support/fixtures';
import { ModelDtype, onnxFileName, readModelSpec } from '../model/model-spec';
import {
  ENCODER_STATE_INPUT,
  extractDecoderWithPast,
  foldWeightTransforms,
  hoistInvariant,
  signMatMulIntegerWeights,
} from './graph-optimizer';
import { cpuHasVnni } from './cpu-features';
import { decodeModel, encodeModel } from './onnx-proto';
import { proveAgainstStock } from './model-preparer';

const spec = readModelSpec(TINY_MODEL);

describe.each(['fp32', 'q8'] as ModelDtype[])('graph optimizer on the tiny %s decoder', (dtype) => {
  const stockBytes = readFileSync(join(TINY_MODEL, onnxFileName('decoder_model_merged', dtype)));
  const stock = decodeModel(stockBytes, dtype);
  const withPast = extractDecoderWithPast(stock);
  const split = hoistInvariant(withPast);
  const folded = foldWeightTransforms(split.perStep);

  it('takes the with-past branch of the merged If and drops use_cache_branch', () => {
    expect(withPast.node.some((n) => n.opType === 'If')).toBe(false);
    expect(withPast.input.map((i) => i.name)).not.toContain('use_cache_branch');
    expect(withPast.output.map((o) => o.name)).toEqual(stock.graph.output.map((o) => o.name));
  });

  it("moves every layer's cross-attention key/value projection out of the step graph", () => {
    // keys and values of every decoder layer
    expect(split.hoisted).toHaveLength(2 * spec.decoderLayers);
    expect(split.once.input.map((i) => i.name)).toEqual([ENCODER_STATE_INPUT]);
    const heavy = new Set(['MatMul', 'Gemm', 'MatMulInteger']);
    expect(split.once.node.filter((n) => heavy.has(n.opType)).length).toBeGreaterThanOrEqual(
      spec.decoderLayers,
    );
    // The step graph reads the encoder states only for their shape...
    const readers = split.perStep.node.filter((n) => n.input.includes(ENCODER_STATE_INPUT));
    expect(readers.map((n) => n.opType).every((op) => op === 'Shape' || op === 'Size')).toBe(true);
    // ...and nothing left in it could have been computed once: every node that uses a hoisted
    // value also depends on the tokens or the cache.
    const perToken = new Set([
      'input_ids',
      ...split.perStep.input.map((i) => i.name).filter((n) => n.startsWith('past_key_values')),
    ]);
    for (const node of split.perStep.node) {
      if (node.input.some((x) => perToken.has(x))) node.output.forEach((o) => perToken.add(o));
    }
    const invariantUsers = split.perStep.node.filter(
      (n) =>
        n.input.some((x) => split.hoisted.includes(x)) &&
        !n.input.some((x) => perToken.has(x)) &&
        n.opType !== 'Shape',
    );
    expect(invariantUsers.map((n) => n.name)).toEqual([]);
  });

  it('precomputes the tied LM head weight', () => {
    expect(folded).toBeGreaterThanOrEqual(1);
    const lmHead = split.perStep.node.find((n) => n.output.includes('logits'));
    expect(lmHead?.opType).toBe('MatMul');
    expect(split.perStep.initializer.map((t) => t.name)).toContain(lmHead!.input[1]);
  });

  it('gives the stock logits (within 1e-4) over 20 greedy steps, batch 3', async () => {
    const result = await proveAgainstStock(stockBytes, spec, { batch: 3, steps: 20 });
    expect(result.maxAbsLogitDiff).toBeLessThanOrEqual(1e-4);
    expect(result.steps).toBe(20);
  });
});

describe('signed int8 encoder weights', () => {
  const bytes = readFileSync(join(TINY_MODEL, onnxFileName('encoder_model', 'q8')));

  it('converts the uint8 MatMulInteger weights, keeping the encoder output bit-identical', async () => {
    const model = decodeModel(bytes, 'encoder');
    const converted = signMatMulIntegerWeights(model.graph);
    expect(converted).toBeGreaterThan(0);
    const uint8Left = model.graph.node
      .filter((n) => n.opType === 'MatMulInteger')
      .filter((n) => model.graph.initializer.find((t) => t.name === n.input[1])?.dataType === 2);
    expect(uint8Left).toHaveLength(0);
    if (!cpuHasVnni()) return; // without VNNI the int8 kernel may saturate; the engine then skips this
    const pixels = new ort.Tensor(
      'float32',
      Float32Array.from({ length: 3 * 224 * 224 }, (_, i) => Math.sin(i)),
      [1, 3, 224, 224],
    );
    const run = async (source: Uint8Array) => {
      const session = await ort.InferenceSession.create(source);
      const out = await session.run({ pixel_values: pixels });
      await session.release();
      return out[Object.keys(out)[0]].data as Float32Array;
    };
    const [before, after] = [await run(bytes), await run(encodeModel(model))];
    expect(Array.from(after)).toEqual(Array.from(before));
  });
});
