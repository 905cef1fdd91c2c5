/**
 * POST /captions: several images in one request, each captioned as a single request would be,
 * sharing engine batches; a bad file gets its own problem. Real app, tiny model.
 */
import { NestExpressApplication } from '@nestjs/platform-express';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import request from 'supertest';
import { ModelLoaderService } from '../src/caption/model-loader.service';
import { CaptionScheduler } from '../src/caption/scheduler/caption-scheduler.service';
import { bootApp, testConfig } from './support/app';
import { FakeEngine } from './support/fake-engine';
import { PHOTOS, TINY_MODEL, copyModel } from './support/fixtures';

const CHINA = readFileSync(join(PHOTOS, 'china.jpg'));
const FLOWER = readFileSync(join(PHOTOS, 'flower.jpg'));
const BROKEN = CHINA.subarray(0, 2000);
const MAX_UPLOAD = 512 * 1024;

describe('POST /captions (tiny model, e2e)', () => {
  let app: NestExpressApplication;
  let http: ReturnType<NestExpressApplication['getHttpServer']>;
  let modelDir: string;

  beforeAll(async () => {
    modelDir = copyModel(TINY_MODEL);
    app = await bootApp(
      testConfig({
        MODEL_DIR: modelDir,
        MAX_BATCH_FILES: '4',
        MAX_UPLOAD_BYTES: String(MAX_UPLOAD),
        // the first image waits for the others to share its engine batch
        ENGINE_MAX_WAIT_MS: '300',
        CACHE_MAX_ENTRIES: '0',
      }),
    );
    http = app.getHttpServer();
    await app.get(ModelLoaderService).load();
  });

  afterAll(async () => {
    await app?.close();
    rmSync(modelDir, { recursive: true, force: true });
  });

  const single = async (image: Buffer, query: string) =>
    (
      await request(http)
        .post(`/caption?${query}`)
        .set('Content-Type', 'image/jpeg')
        .send(image)
        .expect(200)
    ).body;

  it('answers each file in upload order, a bad one with its own problem', async () => {
    const response = await request(http)
      .post('/captions?num_beams=2&max_new_tokens=5')
      .attach('files', CHINA, 'china.jpg')
      .attach('files', BROKEN, 'broken.jpg')
      .attach('files', FLOWER, 'flower.jpg')
      .attach('files', CHINA, 'again.jpg')
      .expect(200);
    const [china, broken, flower, again] = response.body.results;
    const expected = {
      china: await single(CHINA, 'num_beams=2&max_new_tokens=5'),
      flower: await single(FLOWER, 'num_beams=2&max_new_tokens=5'),
    };
    expect(china.caption).toBe(expected.china.caption);
    expect(again.caption).toBe(expected.china.caption);
    expect(flower.caption).toBe(expected.flower.caption);
    expect(china.decoding).toMatchObject({ num_beams: 2, max_new_tokens: 5 });
    expect(broken).toMatchObject({
      type: 'urn:caption-service:problem:invalid_image',
      status: 422,
      code: 'invalid_image',
      detail: expect.any(String),
    });
    // the images shared engine batches, with each other
    expect(Math.max(china.batch_images, flower.batch_images, again.batch_images)).toBeGreaterThan(
      1,
    );
    expect(response.headers['server-timing']).toMatch(/^total;dur=[\d.]+$/);
  });

  it('takes options as form fields too, once', async () => {
    const response = await request(http)
      .post('/captions')
      .field('num_beams', '1')
      .attach('files', FLOWER, 'flower.jpg')
      .expect(200);
    expect(response.body.results[0].decoding.num_beams).toBe(1);
    const twice = await request(http)
      .post('/captions?num_beams=1')
      .field('num_beams', '1')
      .attach('files', FLOWER, 'flower.jpg');
    expect(twice.body).toMatchObject({ status: 400, errors: [{ field: 'num_beams' }] });
  });

  it.each([
    [
      'more files than MAX_BATCH_FILES',
      () => {
        const r = request(http).post('/captions');
        for (let i = 0; i < 5; i++) r.attach('files', FLOWER, `f${i}.jpg`);
        return r;
      },
      400,
      'too_many_files',
    ],
    [
      'no file',
      () => request(http).post('/captions').field('num_beams', '1'),
      400,
      'missing_image',
    ],
    [
      'a file in another field',
      () => request(http).post('/captions').attach('file', FLOWER, 'f.jpg'),
      400,
      'missing_image',
    ],
    [
      'a file over MAX_UPLOAD_BYTES',
      () =>
        request(http)
          .post('/captions')
          .attach('files', Buffer.alloc(MAX_UPLOAD + 1), 'big.jpg'),
      413,
      'payload_too_large',
    ],
    [
      'a raw body',
      () => request(http).post('/captions').set('Content-Type', 'image/jpeg').send(FLOWER),
      415,
      'unsupported_media_type',
    ],
    [
      'a bad option',
      () => request(http).post('/captions?num_beams=9').attach('files', FLOWER, 'f.jpg'),
      400,
      'validation_failed',
    ],
  ])('refuses %s as a whole', async (_what, send, status, code) => {
    const response = await send();
    expect({ status: response.status, code: response.body.code }).toEqual({ status, code });
  });
});

describe('POST /captions and the queue (fake engine)', () => {
  it('refuses a batch the queue cannot hold with 429 and Retry-After, before captioning any', async () => {
    const engine = new FakeEngine();
    engine.autoComplete = true;
    // MAX_BATCH_FILES follows the smaller queue: 3.
    const app = await bootApp(testConfig({ MODEL_DIR: '/fake-model', QUEUE_MAX: '3' }), engine);
    const http = app.getHttpServer();
    try {
      await app.get(ModelLoaderService).load();
      engine.autoComplete = false;
      const single = () =>
        request(http).post('/caption').set('Content-Type', 'image/jpeg').send(FLOWER);
      const running = single();
      const waiting = single();
      const answers = Promise.all([running, waiting]);
      const scheduler = app.get(CaptionScheduler);
      while (scheduler.depth < 1) await new Promise((r) => setTimeout(r, 10));
      const response = await request(http)
        .post('/captions')
        .attach('files', FLOWER, 'a.jpg')
        .attach('files', FLOWER, 'b.jpg')
        .attach('files', FLOWER, 'c.jpg');
      expect(response.status).toBe(429);
      expect(response.body).toMatchObject({
        code: 'queue_full',
        detail:
          "1 caption is already waiting; the queue (QUEUE_MAX 3) has room for 2 of this batch's 3 images.",
      });
      expect(response.headers['retry-after']).toMatch(/^\d+$/);
      expect(engine.submitted).toHaveLength(2); // the warm-up and the running caption only
      engine.autoComplete = true;
      engine.complete();
      expect((await answers).map((a) => a.status)).toEqual([200, 200]);
    } finally {
      await app.close();
    }
  });
});
