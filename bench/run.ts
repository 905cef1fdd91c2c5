/**
 * npm run bench: our service against the seed's stack (the reference peer: FastAPI + PyTorch
 * generate) on the same full-size random-weight ViT-GPT2, on this machine, in one run.
 *
 * It builds (or reuses) the model with ../shared/tools/randmodel, prepares our optimized graphs,
 * proves them equal to the stock graphs on the full-size model, then starts each system in turn
 * and drives it with the same requests over ../shared/images: both decode exactly 15 new tokens
 * (min = max) with the same number of beams. Prints a table and writes .bench/results.json.
 *
 * Env: BENCH_DIR (.bench), BENCH_MODEL_DIR, VENV (peer venv), BENCH_QUICK=1 (shorter runs),
 * BENCH_SYSTEMS (comma list of peer,q8,fp32).
 */
import { ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import {
  ModelDtype,
  onnxFileName,
  readModelSpec,
} from '../service/src/caption/engine/model/model-spec';
import {
  findOrPrepare,
  proveAgainstStock,
  sourceFiles,
} from '../service/src/caption/engine/prepare/model-preparer';
import { cpuBudget } from '../service/src/common/cpu-budget';
import {
  ImageFile,
  LoadResult,
  OverloadResult,
  Target,
  load,
  overload,
  loadImages,
  multipart,
  peakRssMb,
  percentile,
  probeLiveness,
  singleStream,
} from './load';

const ROOT = resolve(__dirname, '..');
const SHARED = resolve(ROOT, '..', 'shared');
const BENCH_DIR = process.env.BENCH_DIR ?? join(ROOT, '.bench');
const MODEL_DIR = process.env.BENCH_MODEL_DIR ?? join(BENCH_DIR, 'vit-gpt2-random');
const VENV = process.env.VENV ?? join(process.env.TMPDIR ?? tmpdir(), 'peer-venv');
const QUICK = process.env.BENCH_QUICK === '1';
const SYSTEMS = (process.env.BENCH_SYSTEMS ?? 'peer,q8,fp32').split(',');
const NEW_TOKENS = 15;
const SINGLE_STREAM = { peer: QUICK ? 4 : 10, ours: QUICK ? 8 : 24 };
const LOAD_SECONDS = { peer: QUICK ? 15 : 40, ours: QUICK ? 10 : 20 };
const CONCURRENCY = [1, 4, 16];

const log = (m: string) => process.stdout.write(`[bench] ${m}\n`);

interface SystemResult {
  name: string;
  coldStartSeconds: number;
  latency: Record<'beams4' | 'greedy', { p50: number; p95: number }>;
  throughput: LoadResult[];
  livenessP99Ms: number;
  peakRssMb: number;
  overload?: OverloadResult;
}

function run(cmd: string, args: string[], env: NodeJS.ProcessEnv = {}): void {
  const result = spawnSync(cmd, args, { stdio: 'inherit', env: { ...process.env, ...env } });
  if (result.status !== 0) throw new Error(`${cmd} ${args.join(' ')} exited with ${result.status}`);
}

function ensureModel(): void {
  run('bash', [join(SHARED, 'peer', 'setup-peer-venv.sh'), VENV]);
  const needed = [
    'model.safetensors',
    'config.json',
    ...(['fp32', 'q8'] as ModelDtype[]).flatMap((d) => [
      onnxFileName('encoder_model', d),
      onnxFileName('decoder_model_merged', d),
    ]),
  ];
  if (needed.every((f) => existsSync(join(MODEL_DIR, f)))) {
    log(`reusing the full-size random model in ${MODEL_DIR}`);
    return;
  }
  log(`building the full-size random model into ${MODEL_DIR} (~2-3 min, ~3 GB)`);
  mkdirSync(MODEL_DIR, { recursive: true });
  run(join(VENV, 'bin', 'python'), [
    join(SHARED, 'tools', 'randmodel', 'make_model.py'),
    '--src',
    join(SHARED, 'models', 'vit-gpt2-image-captioning'),
    '--out',
    MODEL_DIR,
    '--size',
    'full',
  ]);
}

async function proveEquivalence(): Promise<Record<ModelDtype, number>> {
  const spec = readModelSpec(MODEL_DIR);
  const out = {} as Record<ModelDtype, number>;
  for (const dtype of ['fp32', 'q8'] as ModelDtype[]) {
    await findOrPrepare(MODEL_DIR, dtype, join(BENCH_DIR, 'cache'), log);
    const stockBytes = readFileSync(join(MODEL_DIR, sourceFiles(MODEL_DIR, dtype).decoder));
    const result = await proveAgainstStock(stockBytes, spec, { batch: 2, steps: 16 });
    log(
      `graph equivalence ${dtype}: max |logit diff| ${result.maxAbsLogitDiff.toExponential(2)} over ${result.steps} steps, batch ${result.batch}`,
    );
    out[dtype] = result.maxAbsLogitDiff;
  }
  return out;
}

interface Started {
  child: ChildProcess;
  coldStartSeconds: number;
}

async function startAndWait(
  cmd: string,
  args: string[],
  env: NodeJS.ProcessEnv,
  readyUrl: string,
): Promise<Started> {
  const started = performance.now();
  const child = spawn(cmd, args, {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  let exited = false;
  child.on('exit', () => (exited = true));
  for (;;) {
    if (exited) throw new Error(`${cmd} exited before it was ready`);
    const ok = await fetch(readyUrl).then(
      (r) => r.status === 200,
      () => false,
    );
    if (ok) return { child, coldStartSeconds: (performance.now() - started) / 1000 };
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
  await exited;
  clearTimeout(timer);
}

function peerTarget(port: number): Target {
  return {
    name: 'seed peer',
    baseUrl: `http://127.0.0.1:${port}`,
    livenessPath: '/health',
    captionRequest: (image) => {
      const { body, contentType } = multipart(image);
      return { method: 'POST', path: '/caption', headers: { 'content-type': contentType }, body };
    },
  };
}

function ourTarget(name: string, port: number): Target {
  return {
    name,
    baseUrl: `http://127.0.0.1:${port}`,
    livenessPath: '/health/live',
    captionRequest: (image, beams) => ({
      method: 'POST',
      path: `/caption?num_beams=${beams}&min_new_tokens=${NEW_TOKENS}&max_new_tokens=${NEW_TOKENS}`,
      headers: { 'content-type': image.type },
      body: image.bytes,
    }),
  };
}

async function measureLoad(
  target: Target,
  images: ImageFile[],
  seconds: number,
): Promise<{ results: LoadResult[]; livenessP99Ms: number }> {
  const results: LoadResult[] = [];
  let livenessP99Ms = NaN;
  for (const connections of CONCURRENCY) {
    const probe = connections === Math.max(...CONCURRENCY) ? probeLiveness(target) : undefined;
    const result = await load(target, images, 4, { connections, seconds });
    if (probe) livenessP99Ms = percentile(await probe.stop(), 99);
    log(
      `${target.name}: ${connections} clients: ${result.throughput.toFixed(2)} captions/s, statuses ${JSON.stringify(result.statuses)}, errors ${result.errors}`,
    );
    results.push(result);
  }
  return { results, livenessP99Ms };
}

async function benchPeer(images: ImageFile[]): Promise<SystemResult> {
  const port = 30100;
  const script = join(SHARED, 'peer', 'run-seed-peer.sh');
  const peerEnv = (beams: number) => ({
    VENV,
    NUM_BEAMS: String(beams),
    MIN_LENGTH: String(NEW_TOKENS + 1),
    MAX_LENGTH: String(NEW_TOKENS + 1),
  });
  log('starting the seed peer (4 beams)');
  const four = await startAndWait(
    'bash',
    [script, MODEL_DIR, String(port)],
    peerEnv(4),
    `http://127.0.0.1:${port}/health`,
  );
  const target = peerTarget(port);
  await singleStream(target, images, 4, 2); // warm-up
  const beams4 = await singleStream(target, images, 4, SINGLE_STREAM.peer);
  log(`seed peer 4 beams: p50 ${beams4.p50.toFixed(3)} s`);
  const { results, livenessP99Ms } = await measureLoad(target, images, LOAD_SECONDS.peer);
  const rss4 = peakRssMb(pythonPid(four.child));
  await stop(four.child);
  log('starting the seed peer (greedy)');
  const one = await startAndWait(
    'bash',
    [script, MODEL_DIR, String(port)],
    peerEnv(1),
    `http://127.0.0.1:${port}/health`,
  );
  await singleStream(target, images, 1, 2);
  const greedy = await singleStream(target, images, 1, SINGLE_STREAM.peer);
  const rss1 = peakRssMb(pythonPid(one.child));
  await stop(one.child);
  return {
    name: 'seed peer (PyTorch)',
    coldStartSeconds: four.coldStartSeconds,
    latency: { beams4, greedy },
    throughput: results,
    livenessP99Ms,
    peakRssMb: Math.max(rss4, rss1),
  };
}

/** run-seed-peer.sh execs uvicorn, so the shell's pid becomes the Python process. */
function pythonPid(child: ChildProcess): number {
  return child.pid!;
}

async function benchOurs(dtype: ModelDtype, images: ImageFile[]): Promise<SystemResult> {
  const port = dtype === 'q8' ? 30200 : 30300;
  log(`starting our service (${dtype})`);
  const started = await startAndWait(
    process.execPath,
    [join(ROOT, 'dist', 'main.js')],
    {
      MODEL_DIR,
      MODEL_DTYPE: dtype,
      PORT: String(port),
      HOST: '127.0.0.1',
      CACHE_MAX_ENTRIES: '0',
      LOG_LEVEL: 'warn',
      QUEUE_MAX: '64',
    },
    `http://127.0.0.1:${port}/health/ready`,
  );
  const target = ourTarget(`ours ${dtype}`, port);
  await singleStream(target, images, 4, 3);
  const beams4 = await singleStream(target, images, 4, SINGLE_STREAM.ours);
  const greedy = await singleStream(target, images, 1, SINGLE_STREAM.ours);
  log(
    `ours ${dtype}: 4 beams p50 ${beams4.p50.toFixed(3)} s, greedy p50 ${greedy.p50.toFixed(3)} s`,
  );
  const { results, livenessP99Ms } = await measureLoad(target, images, LOAD_SECONDS.ours);
  // 4x overload: open-loop arrivals at four times the throughput measured at 16 clients.
  const offeredRate = 4 * results[results.length - 1].throughput;
  const flood = await overload(target, images, 4, offeredRate, LOAD_SECONDS.ours);
  log(
    `ours ${dtype}: 4x overload (${offeredRate.toFixed(1)}/s offered, ${flood.sent} sent): statuses ${JSON.stringify(flood.statuses)}, socket errors ${flood.socketErrors}`,
  );
  const rss = peakRssMb(started.child.pid!);
  await stop(started.child);
  return {
    name: `ours ${dtype}`,
    coldStartSeconds: started.coldStartSeconds,
    latency: { beams4, greedy },
    throughput: results,
    livenessP99Ms,
    peakRssMb: rss,
    overload: flood,
  };
}

function table(results: SystemResult[], equivalence: Record<string, number>): string {
  const peer = results.find((r) => r.name.startsWith('seed'));
  const ours = results.filter((r) => !r.name.startsWith('seed'));
  const rows: [string, (r: SystemResult) => number, 'lower' | 'higher', number][] = [
    ['latency p50, 4 beams (s)', (r) => r.latency.beams4.p50, 'lower', 3],
    ['latency p95, 4 beams (s)', (r) => r.latency.beams4.p95, 'lower', 3],
    ['latency p50, greedy (s)', (r) => r.latency.greedy.p50, 'lower', 3],
    ['latency p95, greedy (s)', (r) => r.latency.greedy.p95, 'lower', 3],
    ...CONCURRENCY.map(
      (c, i) =>
        [
          `throughput, ${c} client${c > 1 ? 's' : ''}, 4 beams (/s)`,
          (r: SystemResult) => r.throughput[i].throughput,
          'higher',
          2,
        ] as [string, (r: SystemResult) => number, 'higher', number],
    ),
    ['peak RSS (MB)', (r) => r.peakRssMb, 'lower', 0],
    ['cold start to ready (s)', (r) => r.coldStartSeconds, 'lower', 1],
    ['liveness p99 at 16 clients (ms)', (r) => r.livenessP99Ms, 'lower', 1],
  ];
  const header = [
    '',
    ...(peer ? [peer.name] : []),
    ...ours.map((r) => r.name),
    ...(peer ? ours.map((r) => `${r.name} vs peer`) : []),
  ];
  const lines = [header];
  for (const [label, get, better, digits] of rows) {
    const line = [label];
    if (peer) line.push(get(peer).toFixed(digits));
    for (const r of ours) line.push(get(r).toFixed(digits));
    if (peer) {
      for (const r of ours) {
        const ratio = better === 'lower' ? get(peer) / get(r) : get(r) / get(peer);
        line.push(
          label.startsWith('peak RSS')
            ? `${(get(r) / get(peer)).toFixed(2)}x the peer`
            : `${ratio.toFixed(2)}x ${better === 'lower' ? 'faster' : 'more'}`,
        );
      }
    }
    lines.push(line);
  }
  const widths = header.map((_, i) => Math.max(...lines.map((l) => (l[i] ?? '').length)));
  const text = lines
    .map((l) =>
      l.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]) : cell.padStart(widths[i]))).join('  '),
    )
    .join('\n');
  const overload = ours
    .map(
      (r) =>
        `${r.name}: 4x overload, ${r.overload!.sent} requests at ${r.overload!.offeredRate.toFixed(1)}/s -> statuses ` +
        `${JSON.stringify(r.overload!.statuses)}, socket errors ${r.overload!.socketErrors}, all answered in ${r.overload!.answeredWithin.toFixed(0)} s`,
    )
    .join('\n');
  const eq = Object.entries(equivalence)
    .map(([d, v]) => `${d} ${v.toExponential(2)}`)
    .join(', ');
  return `${text}\n\n${overload}\ngraph split equivalence on the full-size model (max |logit diff| over 16 steps): ${eq}`;
}

function targets(results: SystemResult[]): string {
  const peer = results.find((r) => r.name.startsWith('seed'));
  const q8 = results.find((r) => r.name === 'ours q8');
  if (!peer || !q8) return '';
  const check = (ok: boolean) => (ok ? 'MET' : 'NOT MET');
  const last = (r: SystemResult) => r.throughput[r.throughput.length - 1].throughput;
  const lost = (r: SystemResult) => {
    const s = r.overload!.statuses;
    const answered = (s['200'] ?? 0) + (s['429'] ?? 0) + (s['504'] ?? 0);
    return r.overload!.sent - answered;
  };
  return [
    `single-stream 4 beams >= 5x faster: ${(peer.latency.beams4.p50 / q8.latency.beams4.p50).toFixed(2)}x -> ${check(peer.latency.beams4.p50 / q8.latency.beams4.p50 >= 5)}`,
    `throughput at 16 clients >= 8x: ${(last(q8) / last(peer)).toFixed(2)}x -> ${check(last(q8) / last(peer) >= 8)}`,
    `peak RSS <= 0.7x (q8): ${(q8.peakRssMb / peer.peakRssMb).toFixed(2)}x -> ${check(q8.peakRssMb / peer.peakRssMb <= 0.7)}`,
    `cold start no slower: ${q8.coldStartSeconds.toFixed(1)} s vs ${peer.coldStartSeconds.toFixed(1)} s -> ${check(q8.coldStartSeconds <= peer.coldStartSeconds)}`,
    `/health/live p99 < 50 ms while saturated: ${q8.livenessP99Ms.toFixed(1)} ms -> ${check(q8.livenessP99Ms < 50)}`,
    `no request lost under 4x overload: ${lost(q8)} lost -> ${check(lost(q8) === 0)}`,
  ].join('\n');
}

async function main(): Promise<void> {
  mkdirSync(BENCH_DIR, { recursive: true });
  if (!existsSync(join(ROOT, 'dist', 'main.js'))) run('npm', ['run', 'build']);
  ensureModel();
  const equivalence = await proveEquivalence();
  const imageDir = join(SHARED, 'images');
  const images = loadImages(
    readdirSync(imageDir)
      .sort()
      .map((f) => join(imageDir, f)),
  );
  log(
    `images: ${images.map((i) => i.name).join(', ')}; ${cpus().length} CPUs (budget ${cpuBudget()})`,
  );
  const results: SystemResult[] = [];
  if (SYSTEMS.includes('peer')) results.push(await benchPeer(images));
  for (const dtype of ['q8', 'fp32'] as ModelDtype[]) {
    if (SYSTEMS.includes(dtype)) results.push(await benchOurs(dtype, images));
  }
  const report = `${table(results, equivalence)}\n\n${targets(results)}`;
  process.stdout.write(
    `\nFull-size random ViT-GPT2, ${NEW_TOKENS} new tokens (min = max), same weights and images for all\n${report}\n`,
  );
  writeFileSync(
    join(BENCH_DIR, 'results.json'),
    JSON.stringify({ date: new Date().toISOString(), equivalence, results }, null, 2),
  );
  writeFileSync(join(BENCH_DIR, 'results.txt'), report + '\n');
}

main().catch((error: Error) => {
  process.stderr.write(`bench failed: ${error.stack ?? error.message}\n`);
  process.exit(1);
});
