/**
 * Load behaviour over real HTTP with an engine the test holds: a full queue answers 429 with
 * Retry-After before reading the upload, a request past its deadline answers 504, and both
 * show in the metrics.
 */
import { NestExpressApplication } from '@nestjs/platform-express';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import request from 'supertest';
import { ModelLoaderService } from '../src/caption/model-loader.service';
import { bootApp, testConfig } from './support/app';
import { FakeEngine } from './support/fake-engine';
import { PHOTOS } from './support/fixtures';

const CHINA = readFileSync(join(PHOTOS, 'china.jpg'));

describe('backpressure and deadlines (e2e, held engine)', () => {
  let app: NestExpressApplication;
  let engine: FakeEngine;
  let http: ReturnType<NestExpressApplication['getHttpServer']>;

  beforeAll(async () => {
    engine = new FakeEngine(1);
    engine.autoComplete = true; // the warm-up caption
    app = await bootApp(
      testConfig({
        MODEL_DIR: '/unused',
        QUEUE_MAX: '1',
        REQUEST_TIMEOUT_MS: '800',
        ENGINE_MAX_WAIT_MS: '0',
        CACHE_MAX_ENTRIES: '0',
      }),
      engine,
    );
    await app.listen(0, '127.0.0.1');
    http = app.getHttpServer();
    await app.get(ModelLoaderService).load();
    engine.autoComplete = false;
  });

  afterAll(async () => {
    engine.abandonAll();
    await app?.close();
  });

  it('runs one, queues one, refuses the next with 429 and Retry-After, and times out the waiting one with 504', async () => {
    const running = request(http)
      .post('/caption')
      .attach('file', CHINA, 'a.jpg')
      .then((r) => r);
    await waitFor(() => engine.running.length === 1);
    const queued = request(http)
      .post('/caption')
      .attach('file', CHINA, 'b.jpg')
      .then((r) => r);
    await waitFor(
      async () => (await request(http).get('/health/ready')).body.details?.model?.queue_depth === 1,
    );

    const refused = await request(http).post('/caption').attach('file', CHINA, 'c.jpg');
    expect(refused.status).toBe(429);
    expect(refused.body.code).toBe('queue_full');
    expect(Number(refused.headers['retry-after'])).toBeGreaterThanOrEqual(1);

    const late = await queued;
    expect(late.status).toBe(504);
    expect(late.body.code).toBe('request_timeout');
    const first = await running;
    expect(first.status).toBe(504); // the held engine never answered it either
    // The running one left the engine at its deadline; the queued one took its room at once and
    // was dropped at its own deadline a moment later.
    expect(engine.cancelled).toHaveLength(2);

    const { text } = await request(http).get('/metrics');
    expect(text).toMatch(/^caption_queue_rejections_total\{reason="queue_full"\} 1$/m);
    expect(text).toMatch(/^caption_queue_rejections_total\{reason="timeout"\} 2$/m);
    expect(text).toMatch(/^caption_errors_total\{code="queue_full"\} 1$/m);
    expect(text).toMatch(/^caption_requests_total\{outcome="rejected"\} 1$/m);
  });
});

async function waitFor(
  condition: () => boolean | Promise<boolean>,
  timeoutMs = 5000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}
