/**
 * The machine's limits, measured at the start of a run: memory bandwidth (a STREAM-style copy)
 * and int8 / fp32 matrix-multiply throughput through ONNX Runtime's own kernels (the ones our
 * graphs run), so each stage's distance to the limit is computed, not guessed.
 */
import { Worker } from 'node:worker_threads';
import * as ort from 'onnxruntime-node';
import { onnx } from 'onnx-proto';

export interface BandwidthResult {
  threads: number;
  /** Size of each of the two buffers (source and destination). */
  megabytes: number;
  /** STREAM convention: bytes read + bytes written, per second. */
  gbPerSecond: number;
}

export interface MatmulResult {
  kind: 'int8 u8s8' | 'int8 u8u8' | 'fp32';
  shape: [number, number, number];
  threads: number;
  gmacPerSecond: number;
}

export interface MachineLimits {
  bandwidth: BandwidthResult[];
  /** The best copy bandwidth, the one stage limits are computed with. */
  bandwidthGbPerSecond: number;
  matmul: MatmulResult[];
  int8GmacPerSecond: number;
  fp32GmacPerSecond: number;
}

// Each thread copies its own slice with TypedArray.set (memcpy) between two shared buffers far
// larger than the last-level cache; all threads start together on an Atomics barrier.
const COPY_WORKER = `
const { workerData, parentPort } = require('node:worker_threads');
const { src, dst, start, length, reps, barrier } = workerData;
const from = new Uint8Array(src, start, length);
const to = new Uint8Array(dst, start, length);
to.set(from);
const flag = new Int32Array(barrier);
Atomics.add(flag, 1, 1);
Atomics.wait(flag, 0, 0);
const t0 = performance.now();
for (let r = 0; r < reps; r++) to.set(from);
parentPort.postMessage(performance.now() - t0);
`;

/**
 * Best of three timed trials: the limit is what the machine can reach, and other processes on a
 * shared machine only ever slow a trial down.
 */
export async function measureBandwidth(
  threads: number,
  megabytes: number,
): Promise<BandwidthResult> {
  let best = 0;
  for (let trial = 0; trial < 3; trial++) {
    best = Math.max(best, await copyTrial(threads, megabytes));
  }
  return { threads, megabytes, gbPerSecond: best };
}

async function copyTrial(threads: number, megabytes: number): Promise<number> {
  const size = megabytes * 1024 * 1024;
  const src = new SharedArrayBuffer(size);
  const dst = new SharedArrayBuffer(size);
  new Uint8Array(src).fill(7);
  const barrier = new SharedArrayBuffer(8);
  const flag = new Int32Array(barrier);
  const reps = Math.max(2, Math.ceil(2048 / megabytes));
  const slice = Math.floor(size / threads / 4096) * 4096;
  const workers = Array.from(
    { length: threads },
    (_, i) =>
      new Worker(COPY_WORKER, {
        eval: true,
        workerData: { src, dst, start: i * slice, length: slice, reps, barrier },
      }),
  );
  const times = workers.map(
    (w) =>
      new Promise<number>((resolve, reject) => {
        w.once('message', resolve);
        w.once('error', reject);
      }),
  );
  while (Atomics.load(flag, 1) < threads) await new Promise((r) => setTimeout(r, 1));
  const started = performance.now();
  Atomics.store(flag, 0, 1);
  Atomics.notify(flag, 0);
  await Promise.all(times);
  const seconds = (performance.now() - started) / 1000;
  await Promise.all(workers.map((w) => w.terminate()));
  return (2 * slice * threads * reps) / seconds / 1e9;
}

const T = onnx.TensorProto.DataType;

/** A one-node graph: A [M, K] (input) x B [K, N] (constant weights), as our layers multiply. */
function matmulModel(kind: MatmulResult['kind'], k: number, n: number): Uint8Array {
  const integer = kind !== 'fp32';
  const weightType = kind === 'int8 u8s8' ? T.INT8 : integer ? T.UINT8 : T.FLOAT;
  const count = k * n;
  const raw = integer ? new Uint8Array(count) : new Uint8Array(count * 4);
  if (integer) {
    for (let i = 0; i < count; i++) raw[i] = (i * 37) & 0x7f;
  } else {
    const f = new Float32Array(raw.buffer);
    for (let i = 0; i < count; i++) f[i] = ((i % 97) - 48) / 97;
  }
  const valueInfo = (name: string, elemType: number, dims: (number | string)[]) => ({
    name,
    type: {
      tensorType: {
        elemType,
        shape: {
          dim: dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })),
        },
      },
    },
  });
  const graph = {
    name: 'matmul',
    node: [
      {
        opType: integer ? 'MatMulInteger' : 'MatMul',
        input: ['A', 'B'],
        output: ['Y'],
        name: 'mm',
      },
    ],
    initializer: [{ name: 'B', dims: [k, n], dataType: weightType, rawData: raw }],
    input: [valueInfo('A', integer ? T.UINT8 : T.FLOAT, ['M', k])],
    output: [valueInfo('Y', integer ? T.INT32 : T.FLOAT, ['M', n])],
  };
  return onnx.ModelProto.encode({
    irVersion: 8,
    opsetImport: [{ domain: '', version: 17 }],
    graph,
  }).finish();
}

/** Best of several timed runs after a warm-up (the limit is what the kernel can reach). */
export async function measureMatmul(
  kind: MatmulResult['kind'],
  [m, k, n]: [number, number, number],
  threads: number,
): Promise<MatmulResult> {
  const session = await ort.InferenceSession.create(matmulModel(kind, k, n), {
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
    graphOptimizationLevel: 'all',
  });
  try {
    const a =
      kind === 'fp32'
        ? new ort.Tensor(
            'float32',
            Float32Array.from({ length: m * k }, (_, i) => (i % 13) / 13),
            [m, k],
          )
        : new ort.Tensor(
            'uint8',
            Uint8Array.from({ length: m * k }, (_, i) => (i * 11) & 0xff),
            [m, k],
          );
    await session.run({ A: a });
    let best = Infinity;
    for (let i = 0; i < 8; i++) {
      const started = performance.now();
      await session.run({ A: a });
      best = Math.min(best, performance.now() - started);
    }
    return { kind, shape: [m, k, n], threads, gmacPerSecond: (m * k * n) / (best / 1000) / 1e9 };
  } finally {
    await session.release();
  }
}

/**
 * Two 512 MB buffers: twice the 260 MB last-level cache of the machine this was written on, so
 * the copy measures memory, not cache (a 2 x 64 MB copy ran up to twice as fast there).
 */
const BANDWIDTH_MB = 512;

/**
 * Bandwidth with 1 and `threads` threads; matmuls the size of the encoder's MLP layers for one
 * image batch of four (788 x 768 x 3072), compute-bound on any CPU, on `threads` threads.
 */
export async function measureMachineLimits(threads: number): Promise<MachineLimits> {
  const bandwidth: BandwidthResult[] = [];
  for (const t of [...new Set([1, threads])]) {
    bandwidth.push(await measureBandwidth(t, BANDWIDTH_MB));
  }
  const shape: [number, number, number] = [788, 768, 3072];
  const matmul: MatmulResult[] = [];
  for (const kind of ['int8 u8s8', 'int8 u8u8', 'fp32'] as const) {
    matmul.push(await measureMatmul(kind, shape, threads));
  }
  const best = (pred: (r: MatmulResult) => boolean) =>
    Math.max(...matmul.filter(pred).map((r) => r.gmacPerSecond));
  return {
    bandwidth,
    bandwidthGbPerSecond: Math.max(...bandwidth.map((b) => b.gbPerSecond)),
    matmul,
    int8GmacPerSecond: best((r) => r.kind !== 'fp32'),
    fp32GmacPerSecond: best((r) => r.kind === 'fp32'),
  };
}

/**
 * The better of two measurements of the same limits (taken at the start and at the end of a
 * run): another process can only slow a measurement down, never speed it up.
 */
export function bestOf(a: MachineLimits, b: MachineLimits): MachineLimits {
  const pick = <T extends { gbPerSecond?: number; gmacPerSecond?: number }>(x: T, y: T) =>
    (y.gbPerSecond ?? y.gmacPerSecond ?? 0) > (x.gbPerSecond ?? x.gmacPerSecond ?? 0) ? y : x;
  return {
    bandwidth: a.bandwidth.map((x, i) => (b.bandwidth[i] ? pick(x, b.bandwidth[i]) : x)),
    bandwidthGbPerSecond: Math.max(a.bandwidthGbPerSecond, b.bandwidthGbPerSecond),
    matmul: a.matmul.map((x, i) => (b.matmul[i] ? pick(x, b.matmul[i]) : x)),
    int8GmacPerSecond: Math.max(a.int8GmacPerSecond, b.int8GmacPerSecond),
    fp32GmacPerSecond: Math.max(a.fp32GmacPerSecond, b.fp32GmacPerSecond),
  };
}
