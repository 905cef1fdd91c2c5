/**
 * Fidelity of every mode against PyTorch fp32 `generate`: for each random-weight seed, photo and
 * decoding (greedy, 4 beams), whether our engine's token ids equal PyTorch's, and how far our
 * logits are from PyTorch's along PyTorch's sequence (teacher forcing on the same pixels).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  captionOnce,
  cpuBudget,
  decodingOptions,
  engineFor,
  loadCaptionModel,
  normalizePixels,
  preparedFor,
} from '../engine-api';
import { modelDirFor } from '../model-files';
import { log, run } from '../processes';
import { BENCH_DIR, Mode, NEW_TOKENS, PYTHON } from '../settings';

const BEAMS = [1, 4];

interface Reference {
  vocab: number;
  images: {
    name: string;
    rgb: string;
    decodings: Record<string, { ids: number[]; logits: string }>;
  }[];
}

export interface ModeFidelity {
  mode: string;
  dtype: string;
  exact: boolean;
  stockQ8: boolean;
  /** Token-identical captions, per decoding ("greedy", "4 beams") and in total. */
  identical: Record<string, { same: number; of: number }>;
  total: { same: number; of: number };
  /** |logit difference| per generated position, over seeds, photos and decodings. */
  perStepMax: number[];
  perStepMean: number[];
  maxAbs: number;
  meanAbs: number;
  /** Greedy captions whose tokens the timed graphs reproduce by argmax (same model as the engine). */
  graphsMatchEngine: { same: number; of: number };
}

const label = (beams: number) => (beams === 1 ? 'greedy' : `${beams} beams`);

function referenceFor(
  seed: number,
  modelDir: string,
  imagePaths: string[],
): Reference & { dir: string } {
  const dir = join(BENCH_DIR, 'fidelity', `seed${seed}`);
  log(`PyTorch fp32 reference, seed ${seed}`);
  run(PYTHON, [
    join(__dirname, 'reference.py'),
    '--model',
    modelDir,
    '--out',
    dir,
    '--new-tokens',
    String(NEW_TOKENS),
    '--beams',
    BEAMS.join(','),
    ...imagePaths,
  ]);
  return { ...(JSON.parse(readFileSync(join(dir, 'reference.json'), 'utf8')) as Reference), dir };
}

async function engineTokens(
  mode: Mode,
  modelDir: string,
  rgbs: Uint8Array[],
): Promise<{ dtype: string; ids: number[][][] }> {
  const { engine, dtype } = await engineFor(mode.environment, modelDir, log);
  try {
    const ids: number[][][] = [];
    for (const rgb of rgbs) {
      const perBeams: number[][] = [];
      for (const beams of BEAMS) {
        // Each image alone, as PyTorch runs it: q8 quantizes activations per batch.
        const result = await captionOnce(engine, rgb.slice(), decodingOptions(beams, NEW_TOKENS));
        perBeams.push(result.tokenIds);
      }
      ids.push(perBeams);
    }
    return { dtype, ids };
  } finally {
    await engine.dispose();
  }
}

/** Our logits for each position of `ids`, one image, one row, on the prepared graphs. */
async function teacherForced(
  model: Awaited<ReturnType<typeof loadCaptionModel>>,
  pixels: Float32Array,
  ids: number[],
): Promise<Float32Array[]> {
  const states = await model.encode(pixels, 1);
  const hoisted = await model.crossAttention(states);
  let past = model.emptyPast(1);
  const inputs = [model.spec.decoderStartTokenId, ...ids.slice(0, -1)];
  const rows: Float32Array[] = [];
  for (const token of inputs) {
    const position = rows.length;
    const out = await model.decodeStep({
      inputIds: [token],
      positions: [position],
      past,
      pastRows: [0],
      cacheLength: position,
      hoisted,
      want: new Set(['logits']),
    });
    rows.push(Float32Array.from(out.logits!));
    past = out.presents;
  }
  return rows;
}

const argmax = (xs: Float32Array) => xs.reduce((best, x, i) => (x > xs[best] ? i : best), 0);
const sameIds = (a: number[], b: number[]) =>
  a.length === b.length && a.every((x, i) => x === b[i]);

export async function measureFidelity(
  modes: Mode[],
  seeds: number[],
  imagePaths: string[],
): Promise<ModeFidelity[]> {
  const acc = new Map<string, ModeFidelity & { sums: number[]; counts: number[] }>();
  for (const seed of seeds) {
    const modelDir = modelDirFor(seed);
    const ref = referenceFor(seed, modelDir, imagePaths);
    const rgbs = ref.images.map((i) => new Uint8Array(readFileSync(join(ref.dir, i.rgb))));
    for (const mode of modes) {
      log(`fidelity: ${mode.name}, seed ${seed}`);
      const ours = await engineTokens(mode, modelDir, rgbs);
      const m =
        acc.get(mode.name) ??
        ({
          mode: mode.name,
          dtype: ours.dtype,
          exact: mode.exact === true,
          stockQ8: mode.stockQ8 === true,
          identical: {},
          total: { same: 0, of: 0 },
          perStepMax: [],
          perStepMean: [],
          maxAbs: 0,
          meanAbs: 0,
          graphsMatchEngine: { same: 0, of: 0 },
          sums: [],
          counts: [],
        } as ModeFidelity & { sums: number[]; counts: number[] });
      acc.set(mode.name, m);
      const prepared = await preparedFor(mode.environment, modelDir, log);
      const model = await loadCaptionModel(prepared, cpuBudget());
      try {
        for (const [i, image] of ref.images.entries()) {
          const pixels = normalizePixels(rgbs[i], prepared.spec);
          for (const [b, beams] of BEAMS.entries()) {
            const reference = image.decodings[String(beams)];
            const mine = ours.ids[i][b];
            const tally = (m.identical[label(beams)] ??= { same: 0, of: 0 });
            const same = sameIds(mine, reference.ids);
            tally.of++;
            tally.same += same ? 1 : 0;
            m.total.of++;
            m.total.same += same ? 1 : 0;
            const theirs = new Float32Array(
              readFileSync(join(ref.dir, reference.logits)).buffer.slice(0),
            );
            const rows = await teacherForced(model, pixels, reference.ids);
            rows.forEach((row, s) => {
              const base = theirs.subarray(s * ref.vocab, (s + 1) * ref.vocab);
              let max = 0;
              let sum = 0;
              for (let v = 0; v < ref.vocab; v++) {
                const d = Math.abs(row[v] - base[v]);
                sum += d;
                if (d > max) max = d;
              }
              m.perStepMax[s] = Math.max(m.perStepMax[s] ?? 0, max);
              m.sums[s] = (m.sums[s] ?? 0) + sum / ref.vocab;
              m.counts[s] = (m.counts[s] ?? 0) + 1;
            });
            if (beams === 1) {
              // The graphs timed and teacher-forced here must be the engine's: their argmax
              // along the engine's own greedy caption gives back that caption.
              const own = await teacherForced(model, pixels, mine);
              m.graphsMatchEngine.of++;
              m.graphsMatchEngine.same += sameIds(own.map(argmax), mine) ? 1 : 0;
            }
          }
        }
      } finally {
        await model.release();
      }
    }
  }
  return [...acc.values()].map(({ sums, counts, ...m }) => {
    m.perStepMean = sums.map((s, i) => s / counts[i]);
    m.maxAbs = Math.max(...m.perStepMax);
    m.meanAbs = sums.reduce((a, b) => a + b, 0) / counts.reduce((a, b) => a + b, 0);
    return m;
  });
}
