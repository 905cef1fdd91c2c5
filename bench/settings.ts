/**
 * What the benchmark runs, read once from the environment. Every figure the bench prints comes
 * from one run with these settings; nothing here is a measured number.
 *
 *   BENCH_DIR          scratch folder (default .bench/): models it builds, symlink views, results
 *   BENCH_MODEL_DIR    a full-size random model (seed 0) to use instead of building one
 *   BENCH_SEED_DIRS    comma list "1=/dir,2=/dir" of more seeds for fidelity (built if absent)
 *   VENV               the peer's Python venv (default $TMPDIR/peer-venv)
 *   BENCH_QUICK=1      shorter runs (a smoke test of the bench itself, not figures to quote)
 *   BENCH_ONLY         comma list of parts: limits, peers, api, fidelity (default: all)
 *   BENCH_SYSTEMS      comma list of systems for the peers part: seed, transformers.js, ours
 *   BENCH_PORT_BASE    first of the ports the bench may use (default 33000, uses base+1..base+50)
 */
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

export const ROOT = resolve(__dirname, '..');
export const SHARED = resolve(ROOT, '..', 'shared');
export const BENCH_DIR = resolve(process.env.BENCH_DIR ?? join(ROOT, '.bench'));
export const VENV = process.env.VENV ?? join(process.env.TMPDIR ?? tmpdir(), 'peer-venv');
export const PYTHON = join(VENV, 'bin', 'python');
export const QUICK = process.env.BENCH_QUICK === '1';
export const PORT_BASE = Number(process.env.BENCH_PORT_BASE ?? 33000);

export type Part = 'limits' | 'peers' | 'api' | 'fidelity';
const PARTS: Part[] = ['limits', 'peers', 'api', 'fidelity'];
export const ONLY: Part[] = listFromEnv('BENCH_ONLY', PARTS);

export type SystemName = 'seed' | 'transformers.js' | 'ours';
export const SYSTEMS: SystemName[] = listFromEnv('BENCH_SYSTEMS', [
  'seed',
  'transformers.js',
  'ours',
]);

/** Every caption decodes exactly this many new tokens (min = max), the seed's max_length=16. */
export const NEW_TOKENS = 15;
export const CONCURRENCY = [1, 4, 16];
/** Open-loop arrival rates, as fractions of each system's measured capacity. */
export const OPEN_LOOP_FRACTIONS = [0.5, 0.8];

export const DURATIONS = {
  singleStream: { seed: QUICK ? 4 : 12, ours: QUICK ? 8 : 24, transformersJs: QUICK ? 4 : 12 },
  closedLoopSeconds: { seed: QUICK ? 12 : 40, ours: QUICK ? 8 : 20 },
  openLoopSeconds: { seed: QUICK ? 20 : 90, ours: QUICK ? 12 : 60 },
};

/**
 * One way of running our service, as the environment it is started with. The list is data: a
 * new engine setting becomes a mode by adding its environment here. `exact` marks a mode that must reproduce PyTorch fp32 token ids;
 * `stockQ8` marks the one computing what the stock hub q8 graphs compute, the yardstick a faster
 * default mode's fidelity is held to.
 */
export interface Mode {
  name: string;
  environment: Record<string, string>;
  exact?: boolean;
  stockQ8?: boolean;
}

export const MODES: Mode[] = [
  { name: 'fp32', environment: { MODEL_DTYPE: 'fp32' }, exact: true },
  {
    name: 'q8 exact',
    environment: { MODEL_DTYPE: 'q8', ENGINE_FIDELITY: 'exact' },
    stockQ8: true,
  },
  // The default: the int8 LM head on the stock int8 table (ENGINE_FIDELITY=fast).
  { name: 'q8 fast', environment: { MODEL_DTYPE: 'q8', ENGINE_FIDELITY: 'fast' } },
];

/** Seeds of the random-weight models the fidelity part compares on. */
export const FIDELITY_SEEDS = [0, 1, 2];

function listFromEnv<T extends string>(name: string, all: T[]): T[] {
  const raw = process.env[name];
  if (!raw) return all;
  const chosen = raw.split(',').map((s) => s.trim()) as T[];
  const unknown = chosen.filter((c) => !all.includes(c));
  if (unknown.length > 0) {
    throw new Error(`${name}: unknown ${unknown.join(', ')} (choose from ${all.join(', ')})`);
  }
  return chosen;
}
