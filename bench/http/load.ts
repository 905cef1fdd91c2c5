/**
 * Driving an HTTP captioner: one request at a time, closed-loop clients (autocannon), and
 * open-loop arrivals (Poisson or evenly spaced) where every request is followed to its answer.
 */
import autocannon from 'autocannon';
import { readFileSync } from 'node:fs';
import { Agent, fetch as undiciFetch } from 'undici';

export interface ImageFile {
  name: string;
  bytes: Buffer;
  type: string;
}

export interface Target {
  name: string;
  baseUrl: string;
  livenessPath: string;
  /** The HTTP request that captions `image` with `beams` beams and exactly 15 new tokens. */
  captionRequest(
    image: ImageFile,
    beams: number,
  ): { method: 'POST'; path: string; headers: Record<string, string>; body: Buffer };
}

export function loadImages(paths: string[]): ImageFile[] {
  return paths.map((path) => ({
    name: path.split('/').pop()!,
    bytes: readFileSync(path),
    type: path.endsWith('.png') ? 'image/png' : 'image/jpeg',
  }));
}

/** The seed's API: multipart field `file`. */
export function multipart(image: ImageFile): { body: Buffer; contentType: string } {
  const boundary = 'caption-bench-boundary-7d1f';
  const head = Buffer.from(
    `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="${image.name}"\r\n` +
      `Content-Type: ${image.type}\r\n\r\n`,
  );
  const tail = Buffer.from(`\r\n--${boundary}--\r\n`);
  return {
    body: Buffer.concat([head, image.bytes, tail]),
    contentType: `multipart/form-data; boundary=${boundary}`,
  };
}

/** Nearest-rank percentile. */
export function percentile(values: number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const index = Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1);
  return sorted[Math.max(0, index)];
}

export interface Latency {
  p50: number;
  p95: number;
  p99: number;
  samples: number[];
}

export function latencyOf(samples: number[]): Latency {
  return {
    p50: percentile(samples, 50),
    p95: percentile(samples, 95),
    p99: percentile(samples, 99),
    samples,
  };
}

/** Sequential requests, one at a time, cycling through the images; seconds per caption. */
export async function singleStream(
  target: Target,
  images: ImageFile[],
  beams: number,
  count: number,
): Promise<Latency> {
  const samples: number[] = [];
  for (let i = 0; i < count; i++) {
    const req = target.captionRequest(images[i % images.length], beams);
    const started = performance.now();
    const response = await fetch(target.baseUrl + req.path, {
      method: req.method,
      headers: req.headers,
      body: req.body,
    });
    const body = (await response.json()) as { caption?: unknown };
    const seconds = (performance.now() - started) / 1000;
    if (response.status !== 200 || typeof body.caption !== 'string') {
      throw new Error(
        `${target.name}: HTTP ${response.status} ${JSON.stringify(body).slice(0, 200)}`,
      );
    }
    samples.push(seconds);
  }
  return latencyOf(samples);
}

export interface ClosedLoopResult {
  connections: number;
  seconds: number;
  completed: number;
  throughput: number;
  statuses: Record<string, number>;
  errors: number;
  timeouts: number;
}

/** Closed loop: each connection sends its next request when the last one is answered. */
export async function closedLoop(
  target: Target,
  images: ImageFile[],
  beams: number,
  options: { connections: number; seconds: number },
): Promise<ClosedLoopResult> {
  const requests = images.map((image) => {
    const r = target.captionRequest(image, beams);
    return { method: r.method, path: r.path, headers: r.headers, body: r.body };
  });
  const result = await autocannon({
    url: new URL(target.baseUrl).origin,
    connections: options.connections,
    duration: options.seconds,
    requests,
    timeout: 600,
  });
  const statuses: Record<string, number> = {};
  for (const [code, stat] of Object.entries(result.statusCodeStats ?? {})) {
    statuses[code] = (stat as { count: number }).count;
  }
  const ok = statuses['200'] ?? 0;
  return {
    connections: options.connections,
    seconds: options.seconds,
    completed: ok,
    throughput: ok / options.seconds,
    statuses,
    errors: result.errors,
    timeouts: result.timeouts,
  };
}

/** Polls the liveness endpoint back to back (20 ms apart) until stopped; latencies in ms. */
export function probeLiveness(target: Target): { stop(): Promise<number[]> } {
  const samples: number[] = [];
  let running = true;
  const loop = (async () => {
    while (running) {
      const started = performance.now();
      try {
        const response = await fetch(target.baseUrl + target.livenessPath);
        await response.arrayBuffer();
        samples.push(performance.now() - started);
      } catch {
        samples.push(Infinity);
      }
      await new Promise((r) => setTimeout(r, 20));
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      return samples;
    },
  };
}

export interface OpenLoopResult {
  arrivals: 'poisson' | 'uniform';
  offeredRate: number;
  seconds: number;
  sent: number;
  statuses: Record<string, number>;
  socketErrors: number;
  /** Seconds from each request's scheduled arrival to its answer, 200s only. */
  latency: Latency;
  /** Seconds from the first arrival until the last answer. */
  answeredWithin: number;
}

/** Exponential gaps from a seeded generator, so every run offers the same arrival pattern. */
export function poissonArrivals(rate: number, seconds: number, seed = 1): number[] {
  let state = seed >>> 0;
  const uniform = () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return (state + 0.5) / 2 ** 32;
  };
  const times: number[] = [];
  for (let t = -Math.log(uniform()) / rate; t < seconds; t += -Math.log(uniform()) / rate) {
    times.push(t);
  }
  return times;
}

/**
 * Open loop: requests arrive on their schedule whatever the answers, each followed to its end
 * (no client-side cut-off), so a lost request shows as a socket error or an unexpected status.
 * Latency counts from the scheduled arrival, so a late send cannot hide queueing.
 */
export async function openLoop(
  target: Target,
  images: ImageFile[],
  beams: number,
  options: { rate: number; seconds: number; arrivals: 'poisson' | 'uniform' },
): Promise<OpenLoopResult> {
  const { rate, seconds, arrivals } = options;
  const schedule =
    arrivals === 'poisson'
      ? poissonArrivals(rate, seconds)
      : Array.from({ length: Math.round(rate * seconds) }, (_, i) => i / rate);
  const dispatcher = new Agent({
    connections: 4096,
    headersTimeout: 600_000,
    bodyTimeout: 600_000,
  });
  const statuses: Record<string, number> = {};
  const latencies: number[] = [];
  let socketErrors = 0;
  const inFlight: Promise<void>[] = [];
  const started = performance.now();
  for (let i = 0; i < schedule.length; i++) {
    const due = started + schedule[i] * 1000;
    const wait = due - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    const req = target.captionRequest(images[i % images.length], beams);
    inFlight.push(
      undiciFetch(target.baseUrl + req.path, {
        method: req.method,
        headers: req.headers,
        body: req.body,
        dispatcher,
      })
        .then(async (response) => {
          await response.arrayBuffer();
          statuses[response.status] = (statuses[response.status] ?? 0) + 1;
          if (response.status === 200) latencies.push((performance.now() - due) / 1000);
        })
        .catch(() => {
          socketErrors++;
        }),
    );
  }
  await Promise.all(inFlight);
  await dispatcher.close();
  return {
    arrivals,
    offeredRate: rate,
    seconds,
    sent: schedule.length,
    statuses,
    socketErrors,
    latency: latencyOf(latencies),
    answeredWithin: (performance.now() - started) / 1000,
  };
}
