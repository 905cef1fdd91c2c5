/**
 * Token-for-token parity with PyTorch `generate` on the same weights, through the real
 * preparation (graph split) and the real decode loop: each image alone, all together, mixing
 * settings, and joining a running batch at later steps (continuous batching must not change a
 * single token). The golden ids were written by tools/golden/make_golden.py from the reference
 * 224x224 images used here.
 */
import { rmSync } from 'node:fs';
import {
  GoldenFile,
  TINY_EOS_MODEL,
  TINY_MODEL,
  copyModel,
  readGolden,
  referencePixels,
} from '../../../../test/support/fixtures';
import { normalizePixels } from '../model/pixels';
import { prepareModel } from '../prepare/model-preparer';
import { DecodeLoop, ItemResult, LoopItem } from './decode-loop';
import { OnnxCaptionModel } from './onnx-caption-model';
import { fromGenerateKwargs } from '../../../../test/support/decoding-options';

/** make_golden.py also records every returned sequence and its confidence (see its confidence()). */
type Golden = GoldenFile & {
  settings: Record<
    string,
    { sequences: Record<string, number[][]>; confidences: Record<string, number[]> }
  >;
};

/**
 * Confidence within 1e-5 relative of the reference's (PyTorch re-runs the decoder on the sequence
 * and takes log_softmax in double; we use the search's fp32 scores). On these near-uniform tiny
 * models, leaving out end-of-text or reading penalised scores moves it by 1e-3 or more.
 */
function expectConfidences(actual: number[], expected: number[]): void {
  expect(actual).toHaveLength(expected.length);
  actual.forEach((c, i) => expect(Math.abs(c - expected[i]) / expected[i]).toBeLessThan(1e-5));
}

interface Run {
  /** Items and the step before which they join (0: from the start). */
  items: { item: LoopItem; joinAt?: number }[];
  /** Cancels an item before this step. */
  cancelAt?: { id: string; step: number }[];
  joinBudgetMs?: number;
}

/** Drives a decode loop over `items`, adding each at its step, and collects the results. */
async function drive(
  model: OnnxCaptionModel,
  run: Run,
): Promise<{ results: Map<string, ItemResult>; cancelled: string[]; steps: number }> {
  const results = new Map<string, ItemResult>();
  const cancelled: string[] = [];
  let step = 0;
  const loop = new DecodeLoop(
    model,
    {
      isCancelled: (id) => (run.cancelAt ?? []).some((c) => c.id === id && step >= c.step),
      onResult: (r) => results.set(r.id, r),
      onCancelled: (id) => cancelled.push(id),
      onFailed: (_ids, error) => {
        throw error;
      },
    },
    { joinBudgetMs: run.joinBudgetMs ?? 1e9 },
  );
  const pending = [...run.items];
  while (pending.length > 0 || !loop.idle) {
    for (const { item } of pending.filter((p) => (p.joinAt ?? 0) <= step)) loop.add(item);
    pending.splice(0, pending.length, ...pending.filter((p) => (p.joinAt ?? 0) > step));
    await loop.runOnce();
    step++;
  }
  return { results, cancelled, steps: step };
}

async function captionAll(
  model: OnnxCaptionModel,
  items: LoopItem[],
): Promise<Map<string, ItemResult>> {
  return (await drive(model, { items: items.map((item) => ({ item })) })).results;
}

/** The best sequence's ids of each item. */
async function caption(model: OnnxCaptionModel, items: LoopItem[]): Promise<Map<string, number[]>> {
  const all = await captionAll(model, items);
  return new Map([...all].map(([id, r]) => [id, r.sequences[0].tokenIds]));
}

describe.each([
  ['vit-gpt2-tiny', TINY_MODEL, 'golden' as const],
  ['vit-gpt2-tiny-eos', TINY_EOS_MODEL, 'golden-eos' as const],
])('ONNX engine vs PyTorch generate (%s, fp32)', (_label, source, goldenName) => {
  const golden = readGolden(goldenName) as Golden;
  let dir: string;
  let model: OnnxCaptionModel;
  const pixels = new Map<string, Float32Array>();

  beforeAll(async () => {
    dir = copyModel(source);
    const prepared = await prepareModel(dir, 'fp32', `${dir}/optimized/fp32`, () => undefined);
    model = await OnnxCaptionModel.load(prepared, { threads: 1 });
    for (const image of golden.images) {
      pixels.set(image, normalizePixels(await referencePixels(image), model.spec));
    }
  });

  afterAll(async () => {
    await model?.release();
    rmSync(dir, { recursive: true, force: true });
  });

  it.each(Object.keys(golden.settings))(
    '%s: each image alone gives the golden ids',
    async (setting) => {
      const { options, ids } = golden.settings[setting];
      for (const image of golden.images) {
        const out = await caption(model, [
          { id: image, pixels: pixels.get(image)!, options: fromGenerateKwargs(options) },
        ]);
        expect({ image, ids: out.get(image) }).toEqual({ image, ids: ids[image] });
      }
    },
  );

  it.each(Object.keys(golden.settings))(
    '%s: every returned sequence and its confidence match, in rank order',
    async (setting) => {
      const { options, sequences, confidences } = golden.settings[setting];
      const items = golden.images.map((image) => ({
        id: image,
        pixels: pixels.get(image)!,
        options: fromGenerateKwargs(options),
      }));
      const out = await captionAll(model, items);
      for (const image of golden.images) {
        const result = out.get(image)!;
        const ids = result.sequences.map((r) => r.tokenIds);
        expect({ image, ids }).toEqual({ image, ids: sequences[image] });
        expectConfidences(
          result.sequences.map((r) => r.confidence),
          confidences[image],
        );
      }
    },
  );

  it('requests cancelled mid-batch leave, and the others still get their golden ids', async () => {
    const setting = Object.keys(golden.settings).find(
      (k) => (golden.settings[k].options.num_beams as number) > 1,
    )!;
    const { options, ids } = golden.settings[setting];
    const items = golden.images.map((image) => ({
      item: { id: image, pixels: pixels.get(image)!, options: fromGenerateKwargs(options) },
    }));
    const dropped = [golden.images[0], golden.images[3]];
    const { results, cancelled } = await drive(model, {
      items,
      cancelAt: dropped.map((id) => ({ id, step: 3 })),
    });
    expect(cancelled.sort()).toEqual([...dropped].sort());
    for (const image of golden.images.filter((i) => !dropped.includes(i))) {
      expect({ image, ids: results.get(image)?.sequences[0].tokenIds }).toEqual({
        image,
        ids: ids[image],
      });
    }
  });

  it.each(Object.keys(golden.settings))(
    '%s: images joining the running batch at later steps give the golden ids',
    async (setting) => {
      const { options, sequences } = golden.settings[setting];
      // One image every two steps; the last two in the same gap, one at a time (no budget).
      const items = golden.images.map((image, i) => ({
        item: { id: image, pixels: pixels.get(image)!, options: fromGenerateKwargs(options) },
        joinAt: Math.min(2 * i, 2 * (golden.images.length - 2)),
      }));
      const { results } = await drive(model, { items, joinBudgetMs: 0 });
      for (const image of golden.images) {
        const ids = results.get(image)?.sequences.map((r) => r.tokenIds);
        expect({ image, ids }).toEqual({ image, ids: sequences[image] });
      }
    },
  );

  it('greedy and beam rows of different settings joining mid-way give each its golden ids', async () => {
    const settings = Object.keys(golden.settings);
    const items = golden.images.flatMap((image, i) =>
      [0, 1].map((k) => {
        const setting = settings[(i + k * 3) % settings.length];
        const options = fromGenerateKwargs(golden.settings[setting].options);
        return {
          item: { id: `${setting}/${image}`, pixels: pixels.get(image)!, options },
          joinAt: i + 3 * k,
        };
      }),
    );
    const { results } = await drive(model, { items });
    expect(new Set(items.map((i) => i.item.options.numBeams)).size).toBeGreaterThan(2);
    for (const { item } of items) {
      const [setting, image] = item.id.split('/');
      const expected = golden.settings[setting].ids[image];
      expect({ id: item.id, ids: results.get(item.id)?.sequences[0].tokenIds }).toEqual({
        id: item.id,
        ids: expected,
      });
    }
  });

  it('a batch mixing decoding settings (beam counts) gives each request its golden ids', async () => {
    const settings = Object.keys(golden.settings);
    const items = golden.images.map((image, i) => {
      const setting = settings[i % settings.length];
      const options = fromGenerateKwargs(golden.settings[setting].options);
      return { id: `${setting}/${image}`, pixels: pixels.get(image)!, options };
    });
    const out = await caption(model, items);
    for (const item of items) {
      const [setting, image] = item.id.split('/');
      const expected = golden.settings[setting].ids[image];
      expect({ id: item.id, ids: out.get(item.id) }).toEqual({ id: item.id, ids: expected });
    }
  });

  it.each(Object.keys(golden.settings))(
    '%s: all images in one batch give the golden ids',
    async (setting) => {
      const { options, ids } = golden.settings[setting];
      const items = golden.images.map((image) => ({
        id: image,
        pixels: pixels.get(image)!,
        options: fromGenerateKwargs(options),
      }));
      const out = await caption(model, items);
      expect(Object.fromEntries(out)).toEqual(ids);
    },
  );
});
