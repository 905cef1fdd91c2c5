/**
 * npm run bench: our service against every peer on the same full-size random-weight ViT-GPT2,
 * on this machine, in one run, each figure beside issue 13's target for it.
 *
 *   limits    memory bandwidth and int8/fp32 matmul throughput, then each stage of a caption
 *             (encoder, cross-attention, decoder step at 1/4/16 rows) at those limits and as
 *             it runs on the engine's sessions; the optimized graphs proven equal to the stock
 *   peers     the seed (FastAPI + PyTorch), transformers.js (q8 greedy and num_beams 4, fp32
 *             greedy) and our service with default settings: single-stream latency, closed loop
 *             at 1/4/16 clients, open loop (Poisson) at 50% and 80% of each one's capacity,
 *             peak RSS, cold start, liveness under load, 4x overload
 *   api       what num_return_sequences=4 and a batch of 16 files cost on our service, against
 *             1 caption and 16 single calls
 *   fidelity  every mode in settings.ts MODES against PyTorch fp32 generate, 3 seeds (slow:
 *             BENCH_ONLY=fidelity runs it alone)
 *
 * Every caption decodes exactly 15 new tokens. Prints the report, writes BENCH_DIR/results.json
 * and results.txt. Environment: see settings.ts.
 */
import { mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import {
  configFor,
  cpuBudget,
  preparedFor,
  proveAgainstStock,
  readModelSpec,
  sourceFiles,
} from './engine-api';
import { measureApiCosts } from './api/api-costs';
import { measureFidelity } from './fidelity/fidelity';
import { loadImages } from './http/load';
import { bestOf, measureMachineLimits } from './limits/machine-limits';
import { againstLimits, stageTable } from './limits/stages';
import { ensureVenv, modelDirFor } from './model-files';
import { log } from './processes';
import { BenchResults } from './report/results';
import {
  apiSection,
  fidelitySection,
  limitsSection,
  machineSection,
  peersSection,
} from './report/sections';
import { targetsSection } from './report/targets';
import {
  BENCH_DIR,
  FIDELITY_SEEDS,
  MODES,
  NEW_TOKENS,
  ONLY,
  QUICK,
  SHARED,
  SYSTEMS,
} from './settings';
import { benchOurs } from './systems/our-service';
import { benchSeed } from './systems/seed-peer';
import { benchTransformersJs } from './systems/transformers-js';

async function proveEquivalence(modelDir: string): Promise<Record<string, number>> {
  const spec = readModelSpec(modelDir);
  const out: Record<string, number> = {};
  for (const dtype of ['fp32', 'q8'] as const) {
    await preparedFor({ MODEL_DTYPE: dtype }, modelDir, log);
    const stock = readFileSync(join(modelDir, sourceFiles(modelDir, dtype).decoder));
    const result = await proveAgainstStock(stock, spec, { batch: 2, steps: 16 });
    log(`graph equivalence ${dtype}: max |logit diff| ${result.maxAbsLogitDiff.toExponential(2)}`);
    out[dtype] = result.maxAbsLogitDiff;
  }
  return out;
}

/** The mode whose environment yields exactly the service's default settings, if any. */
function defaultModeName(modelDir: string): string | undefined {
  const defaults = JSON.stringify(configFor({}, modelDir));
  return MODES.find((m) => JSON.stringify(configFor(m.environment, modelDir)) === defaults)?.name;
}

async function main(): Promise<void> {
  const loadStart = loadavg()[0];
  mkdirSync(BENCH_DIR, { recursive: true });
  ensureVenv();
  const modelDir = modelDirFor(0);
  const imageDir = join(SHARED, 'images');
  const imagePaths = readdirSync(imageDir)
    .sort()
    .map((f) => join(imageDir, f));
  const images = loadImages(imagePaths);
  const budget = cpuBudget();
  log(
    `parts: ${ONLY.join(', ')}; images: ${images.map((i) => i.name).join(', ')}; CPU budget ${budget}`,
  );
  const results: BenchResults = {
    date: new Date().toISOString(),
    quick: QUICK,
    machine: {
      cpu: cpus()[0]?.model ?? 'unknown',
      cpus: cpus().length,
      cpuBudget: budget,
      loadStart,
      loadEnd: NaN,
    },
    transformersJs: [],
    defaultMode: defaultModeName(modelDir),
  };

  if (ONLY.includes('limits')) {
    log('measuring the machine limits');
    results.limits = await measureMachineLimits(budget);
    results.equivalence = await proveEquivalence(modelDir);
    const prepared = await preparedFor({}, modelDir, log);
    log(`timing each stage (default settings: ${prepared.dtype})`);
    results.stages = await stageTable(prepared, results.limits, budget, QUICK ? 3 : 10);
  }
  if (ONLY.includes('peers')) {
    if (SYSTEMS.includes('seed')) results.seed = await benchSeed(modelDir, images);
    if (SYSTEMS.includes('transformers.js')) {
      results.transformersJs.push(await benchTransformersJs(modelDir, imagePaths, 'q8', [1, 4]));
      results.transformersJs.push(await benchTransformersJs(modelDir, imagePaths, 'fp32', [1]));
    }
    if (SYSTEMS.includes('ours')) {
      results.ours = await benchOurs('ours (defaults)', {}, modelDir, images);
    }
  }
  if (results.limits && results.stages && ONLY.includes('peers')) {
    // Measured again after the peers: the limits are the better of the two measurements.
    log('measuring the machine limits again');
    results.limits = bestOf(results.limits, await measureMachineLimits(budget));
    results.stages = againstLimits(results.stages, results.limits);
  }
  if (ONLY.includes('api')) results.api = await measureApiCosts(modelDir, images);
  if (ONLY.includes('fidelity')) {
    results.fidelity = await measureFidelity(MODES, QUICK ? [0] : FIDELITY_SEEDS, imagePaths);
  }
  results.machine.loadEnd = loadavg()[0];

  const report = [
    `Full-size random ViT-GPT2, ${NEW_TOKENS} new tokens (min = max), same weights and images for all`,
    machineSection(results),
    limitsSection(results),
    peersSection(results),
    apiSection(results),
    fidelitySection(results),
    targetsSection(results),
  ]
    .filter(Boolean)
    .join('\n\n');
  process.stdout.write(`\n${report}\n`);
  writeFileSync(join(BENCH_DIR, 'results.json'), JSON.stringify(results, null, 2));
  writeFileSync(join(BENCH_DIR, 'results.txt'), report + '\n');
}

main().catch((error: Error) => {
  process.stderr.write(`bench failed: ${error.stack ?? error.message}\n`);
  process.exit(1);
});
