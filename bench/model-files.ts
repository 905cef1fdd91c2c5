/**
 * The full-size random-weight models the bench runs on, one per seed: a folder given in the
 * environment (used through a view of symlinks in BENCH_DIR, so prepared graphs are written
 * there and never into the given folder), or built with ../shared/tools/randmodel into BENCH_DIR.
 */
import { existsSync, mkdirSync, readdirSync, rmSync, symlinkSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { onnxFileName } from './engine-api';
import { log, run } from './processes';
import { BENCH_DIR, PYTHON, SHARED, VENV } from './settings';

const NEEDED = [
  'model.safetensors',
  'config.json',
  'tokenizer.json',
  ...(['fp32', 'q8'] as const).flatMap((d) => [
    onnxFileName('encoder_model', d),
    onnxFileName('decoder_model_merged', d),
  ]),
];

export function ensureVenv(): void {
  run('bash', [join(SHARED, 'peer', 'setup-peer-venv.sh'), VENV]);
}

/** BENCH_MODEL_DIR for seed 0, BENCH_SEED_DIRS ("1=/dir,2=/dir") for the others. */
function givenDir(seed: number): string | undefined {
  if (seed === 0 && process.env.BENCH_MODEL_DIR) return resolve(process.env.BENCH_MODEL_DIR);
  for (const entry of (process.env.BENCH_SEED_DIRS ?? '').split(',').filter(Boolean)) {
    const [s, dir] = entry.split('=');
    if (Number(s) === seed && dir) return resolve(dir);
  }
  return undefined;
}

function complete(dir: string): boolean {
  return NEEDED.every((f) => existsSync(join(dir, f)));
}

/** The model folder for `seed`, ready for every system (ONNX for us, safetensors for PyTorch). */
export function modelDirFor(seed: number): string {
  const given = givenDir(seed);
  if (given) {
    if (!complete(given)) {
      const missing = NEEDED.filter((f) => !existsSync(join(given, f)));
      throw new Error(`${given} lacks ${missing.join(', ')}`);
    }
    return symlinkView(given, join(BENCH_DIR, 'models', `seed${seed}`));
  }
  const dir = join(BENCH_DIR, seed === 0 ? 'vit-gpt2-random' : `vit-gpt2-random-seed${seed}`);
  if (complete(dir)) {
    log(`reusing the full-size random model (seed ${seed}) in ${dir}`);
    return dir;
  }
  log(`building the full-size random model (seed ${seed}) into ${dir} (~3 min, ~6 GB RAM, ~3 GB)`);
  mkdirSync(dir, { recursive: true });
  run(PYTHON, [
    join(SHARED, 'tools', 'randmodel', 'make_model.py'),
    '--src',
    join(SHARED, 'models', 'vit-gpt2-image-captioning'),
    '--out',
    dir,
    '--size',
    'full',
    '--seed',
    String(seed),
  ]);
  return dir;
}

/** A folder of symlinks to `source`'s entries, except the prepared graphs (`optimized/`). */
function symlinkView(source: string, view: string): string {
  mkdirSync(view, { recursive: true });
  for (const entry of readdirSync(source)) {
    if (entry === 'optimized') continue;
    const link = join(view, entry);
    rmSync(link, { force: true });
    symlinkSync(join(source, entry), link);
  }
  return view;
}
