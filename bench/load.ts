/** Load generation and measurement helpers for the benchmark (autocannon drives the load). */
import autocannon from 'autocannon';
import { readFileSync } from 'node:fs';

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

export function percentile(values: number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const index = Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1);
  return sorted[Math.max(0, index)];
}

/** Sequential requests, one at a time, cycling through the images. */
export async function singleStream(
  target: Target,
  images: ImageFile[],
  beams: number,
  count: number,
): Promise<{ p50: number; p95: number; samples: number[] }> {
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
  return { p50: percentile(samples, 50), p95: percentile(samples, 95), samples };
}

export interface LoadResult {
  connections: number;
  seconds: number;
  completed: number;
  throughput: number;
  statuses: Record<string, number>;
  errors: number;
  timeouts: number;
  latencyP50: number;
  latencyP99: number;
}

/** Closed-loop load (each connection sends its next request when the last returns), or open-loop at `rate`. */
export async function load(
  target: Target,
  images: ImageFile[],
  beams: number,
  options: { connections: number; seconds: number; rate?: number },
): Promise<LoadResult> {
  const url = new URL(target.baseUrl);
  const requests = images.map((image) => {
    const r = target.captionRequest(image, beams);
    return { method: r.method, path: r.path, headers: r.headers, body: r.body };
  });
  const result = await autocannon({
    url: url.origin,
    connections: options.connections,
    duration: options.seconds,
    requests,
    timeout: 600,
    ...(options.rate ? { overallRate: options.rate } : {}),
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
    latencyP50: result.latency.p50 / 1000,
    latencyP99: result.latency.p99 / 1000,
  };
}

/** Polls the liveness endpoint back to back until stopped; returns each latency in ms. */
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

/** Peak resident memory (VmHWM) of a process, in MB. */
export function peakRssMb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = Number(status.match(/^VmHWM:\s+(\d+) kB$/m)?.[1] ?? NaN);
  return kb / 1024;
}

export interface OverloadResult {
  offeredRate: number;
  seconds: number;
  sent: number;
  statuses: Record<string, number>;
  socketErrors: number;
  answeredWithin: number;
}

/**
 * Open-loop overload: requests arrive at a fixed rate whatever the answers, and every one is
 * followed to its end (no client-side cut-off), so a lost request shows as a socket error or
 * an unexpected status, never as one the load generator gave up on.
 */
export async function overload(
  target: Target,
  images: ImageFile[],
  beams: number,
  rate: number,
  seconds: number,
): Promise<OverloadResult> {
  const { Agent, fetch } = await import('undici');
  const dispatcher = new Agent({
    connections: 1024,
    headersTimeout: 600_000,
    bodyTimeout: 600_000,
  });
  const statuses: Record<string, number> = {};
  let socketErrors = 0;
  const inFlight: Promise<void>[] = [];
  const started = performance.now();
  const total = Math.round(rate * seconds);
  for (let i = 0; i < total; i++) {
    const due = started + (i * 1000) / rate;
    const wait = due - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    const req = target.captionRequest(images[i % images.length], beams);
    inFlight.push(
      fetch(target.baseUrl + req.path, {
        method: req.method,
        headers: req.headers,
        body: req.body,
        dispatcher,
      })
        .then(async (response) => {
          await response.arrayBuffer();
          statuses[response.status] = (statuses[response.status] ?? 0) + 1;
        })
        .catch(() => {
          socketErrors++;
        }),
    );
  }
  await Promise.all(inFlight);
  await dispatcher.close();
  return {
    offeredRate: rate,
    seconds,
    sent: total,
    statuses,
    socketErrors,
    answeredWithin: (performance.now() - started) / 1000,
  };
}
