/**
 * What two API features cost on our service (issue 11's closing figures), measured side by side
 * in one process with default settings and the response cache off:
 *   - num_return_sequences: single-stream 4-beam latency asking for 1 caption and for 4 (the
 *     search is the same beam search; only the finished hypotheses kept and mapped differ);
 *   - a batch: one POST /captions with 16 files against the same 16 images as 16 POST /caption
 *     calls sent at once, and one after the other.
 * Every answer is checked (200 and a caption per image); a refusal fails the bench loudly.
 */
import { ImageFile, latencyOf, Latency, percentile } from '../http/load';
import { log, stop } from '../processes';
import { NEW_TOKENS, PORT_BASE, QUICK } from '../settings';
import { startOurs } from '../systems/our-service';

const BATCH = 16;

export interface ApiCosts {
  /** Single-stream 4-beam latency by num_return_sequences. */
  returnSequences: { count: number; latency: Latency }[];
  /** Wall seconds for 16 images (median over rounds). */
  batchOf16: number;
  singlesConcurrent: number;
  singlesSequential: number;
  rounds: number;
}

const decoding = `num_beams=4&min_new_tokens=${NEW_TOKENS}&max_new_tokens=${NEW_TOKENS}`;

async function single(baseUrl: string, image: ImageFile, query: string): Promise<number> {
  const response = await fetch(`${baseUrl}/caption?${query}`, {
    method: 'POST',
    headers: { 'content-type': image.type },
    body: image.bytes,
  });
  const body = (await response.json()) as { captions?: unknown[] };
  if (response.status !== 200 || !Array.isArray(body.captions)) {
    throw new Error(`POST /caption: HTTP ${response.status} ${JSON.stringify(body).slice(0, 200)}`);
  }
  return body.captions.length;
}

async function batch(baseUrl: string, images: ImageFile[]): Promise<void> {
  const form = new FormData();
  for (const image of images) {
    form.append('files', new Blob([image.bytes], { type: image.type }), image.name);
  }
  const response = await fetch(`${baseUrl}/captions?${decoding}`, { method: 'POST', body: form });
  const body = (await response.json()) as { results?: { caption?: unknown }[] };
  const captioned = body.results?.filter((r) => typeof r.caption === 'string').length ?? 0;
  if (response.status !== 200 || captioned !== images.length) {
    throw new Error(
      `POST /captions: HTTP ${response.status}, ${captioned}/${images.length} captioned: ` +
        JSON.stringify(body).slice(0, 300),
    );
  }
}

async function seconds(work: () => Promise<unknown>): Promise<number> {
  const started = performance.now();
  await work();
  return (performance.now() - started) / 1000;
}

export async function measureApiCosts(modelDir: string, images: ImageFile[]): Promise<ApiCosts> {
  const port = PORT_BASE + 40;
  log('starting our service (defaults) for the API costs');
  const started = await startOurs(modelDir, port, {});
  const baseUrl = `http://127.0.0.1:${port}`;
  try {
    const perCount = QUICK ? 4 : 12;
    for (let i = 0; i < 4; i++) await single(baseUrl, images[i % images.length], decoding); // warm-up
    const returnSequences: ApiCosts['returnSequences'] = [];
    for (const count of [1, 4]) {
      const samples: number[] = [];
      for (let i = 0; i < perCount; i++) {
        const query = `${decoding}&num_return_sequences=${count}`;
        const image = images[i % images.length];
        let got = 0;
        samples.push(await seconds(async () => (got = await single(baseUrl, image, query))));
        if (got !== count) throw new Error(`asked for ${count} captions, got ${got}`);
      }
      returnSequences.push({ count, latency: latencyOf(samples) });
      log(`num_return_sequences=${count}: p50 ${percentile(samples, 50).toFixed(3)} s`);
    }

    const sixteen = Array.from({ length: BATCH }, (_, i) => images[i % images.length]);
    const rounds = QUICK ? 1 : 3;
    const batchTimes: number[] = [];
    const concurrentTimes: number[] = [];
    const sequentialTimes: number[] = [];
    for (let round = 0; round < rounds; round++) {
      batchTimes.push(await seconds(() => batch(baseUrl, sixteen)));
      concurrentTimes.push(
        await seconds(() => Promise.all(sixteen.map((image) => single(baseUrl, image, decoding)))),
      );
      sequentialTimes.push(
        await seconds(async () => {
          for (const image of sixteen) await single(baseUrl, image, decoding);
        }),
      );
    }
    const result = {
      returnSequences,
      batchOf16: percentile(batchTimes, 50),
      singlesConcurrent: percentile(concurrentTimes, 50),
      singlesSequential: percentile(sequentialTimes, 50),
      rounds,
    };
    log(
      `16 images: batch ${result.batchOf16.toFixed(2)} s, 16 singles at once ` +
        `${result.singlesConcurrent.toFixed(2)} s, one after the other ${result.singlesSequential.toFixed(2)} s`,
    );
    return result;
  } finally {
    await stop(started.child);
  }
}
