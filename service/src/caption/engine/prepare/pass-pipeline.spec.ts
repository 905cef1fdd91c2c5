/**
 * The whole pass pipeline on the committed tiny model (fp32 and q8): the optimized pair
 * reproduces the stock decoder's logits over many steps. The same proof on the full-size models
 * runs in `npm run bench` (they are too large for the test suite).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { TINY_MODEL } from '../../../../test/support/fixtures';
import { ModelDtype, onnxFileName, readModelSpec } from '../model/model-spec';
import { proveAgainstStock } from './decoder-equivalence';
import { decodeModel } from './onnx-proto';
import { optimizeDecoder } from './pass-pipeline';
import { BEAM_INDEX_INPUT, ENCODER_SHAPE_INPUT, LOG_PROBS_OUTPUT } from './tensor-names';

const spec = readModelSpec(TINY_MODEL);

describe.each(['fp32', 'q8'] as ModelDtype[])('pass pipeline on the tiny %s decoder', (dtype) => {
  const stockBytes = readFileSync(join(TINY_MODEL, onnxFileName('decoder_model_merged', dtype)));

  it('applies every pass the runtime relies on', async () => {
    const optimized = await optimizeDecoder(decodeModel(stockBytes, dtype), spec);
    expect(optimized.hoistedPerImage).toBe(true);
    expect(optimized.stepReadsEncoderShape).toBe(true);
    expect(optimized.hoisted).toHaveLength(2 * spec.decoderLayers);
    expect(optimized.hoisted.every((h) => h.type === 'float32' && h.rank === 4)).toBe(true);
    const step = decodeModel(optimized.stepBytes, 'step');
    const inputs = step.graph.input.map((i) => i.name);
    expect(inputs).toEqual(expect.arrayContaining([BEAM_INDEX_INPUT, ENCODER_SHAPE_INPUT]));
    expect(step.graph.output.map((o) => o.name)).toContain(LOG_PROBS_OUTPUT);
  });

  it('gives the stock logits (within 1e-4) over 20 greedy steps, batch 3', async () => {
    const result = await proveAgainstStock(stockBytes, spec, { batch: 3, steps: 20 });
    expect(result.maxAbsLogitDiff).toBeLessThanOrEqual(1e-4);
    expect(result.steps).toBe(20);
  });
});
