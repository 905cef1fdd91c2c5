/**
 * The seed's stack (../shared/peer: FastAPI + PyTorch `generate`) on the same weights. Its beam
 * count is a process setting, so it runs twice: 4 beams (latency, load), then greedy.
 */
import { join } from 'node:path';
import { ImageFile, Target, multipart, singleStream } from '../http/load';
import { log, peakRssMb, startAndWait, stop } from '../processes';
import { DURATIONS, NEW_TOKENS, PORT_BASE, SHARED, VENV } from '../settings';
import { HttpSystemResult, loadProfile } from './http-system';

export function seedTarget(port: number): Target {
  return {
    name: 'seed',
    baseUrl: `http://127.0.0.1:${port}`,
    livenessPath: '/health',
    captionRequest: (image) => {
      const { body, contentType } = multipart(image);
      return { method: 'POST', path: '/caption', headers: { 'content-type': contentType }, body };
    },
  };
}

/** Starts the peer; exactly NEW_TOKENS new tokens (max_length = min_length = 1 + NEW_TOKENS). */
export function startSeed(modelDir: string, port: number, beams: number, threads?: number) {
  return startAndWait(
    'bash',
    [join(SHARED, 'peer', 'run-seed-peer.sh'), modelDir, String(port)],
    {
      VENV,
      NUM_BEAMS: String(beams),
      MIN_LENGTH: String(NEW_TOKENS + 1),
      MAX_LENGTH: String(NEW_TOKENS + 1),
      ...(threads ? { TORCH_THREADS: String(threads) } : {}),
    },
    `http://127.0.0.1:${port}/health`,
  );
}

export async function benchSeed(modelDir: string, images: ImageFile[]): Promise<HttpSystemResult> {
  const port = PORT_BASE + 1;
  const target = seedTarget(port);
  log('starting the seed peer (4 beams)');
  // run-seed-peer.sh execs uvicorn, so the child's pid is the Python process.
  const four = await startSeed(modelDir, port, 4);
  try {
    await singleStream(target, images, 4, 2); // warm-up
    const beams4 = await singleStream(target, images, 4, DURATIONS.singleStream.seed);
    log(`seed 4 beams: p50 ${beams4.p50.toFixed(3)} s`);
    const profile = await loadProfile(
      target,
      images,
      {
        closed: DURATIONS.closedLoopSeconds.seed,
        open: DURATIONS.openLoopSeconds.seed,
      },
      beams4.p50,
    );
    const rss4 = peakRssMb(four.child.pid!);
    await stop(four.child);
    log('starting the seed peer (greedy)');
    const one = await startSeed(modelDir, port, 1);
    try {
      await singleStream(target, images, 1, 2);
      const greedy = await singleStream(target, images, 1, DURATIONS.singleStream.seed);
      log(`seed greedy: p50 ${greedy.p50.toFixed(3)} s`);
      return {
        name: 'seed (PyTorch)',
        detail: 'FastAPI + PyTorch generate, fp32',
        coldStartSeconds: four.coldStartSeconds,
        peakRssMb: Math.max(rss4, peakRssMb(one.child.pid!)),
        single: { beams4, greedy },
        ...profile,
      };
    } finally {
      await stop(one.child);
    }
  } finally {
    await stop(four.child);
  }
}
