/**
 * The real app on the committed tiny model: uploads in both forms, every bad-input class with
 * its status and problem code, health before and after warm-up, /docs, the OpenAPI document and
 * /metrics.
 */
import { NestExpressApplication } from '@nestjs/platform-express';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import request from 'supertest';
import { ModelLoaderService } from '../src/caption/model-loader.service';
import { bootApp, testConfig } from './support/app';
import { PHOTOS, TINY_MODEL, copyModel } from './support/fixtures';
import { pngDeclaring } from './support/images';
import { validateGitops } from '../../tools/validate-gitops/validate';

const ROOT = join(__dirname, '..', '..');

const CHINA = readFileSync(join(PHOTOS, 'china.jpg'));
const FLOWER = readFileSync(join(PHOTOS, 'flower.jpg'));
const MAX_UPLOAD = 2 * 1024 * 1024;

/** Where the e2e run leaves the service's real /metrics output for the dashboard/alert checks. */
export const METRICS_DUMP = join(__dirname, '..', '..', '.test-output', 'metrics.txt');

function expectProblem(response: request.Response, status: number, code: string): void {
  expect({ status: response.status, code: response.body.code }).toEqual({ status, code });
  expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
  expect(response.body).toMatchObject({
    type: `urn:caption-service:problem:${code}`,
    title: expect.any(String),
    status,
    detail: expect.any(String),
  });
}

describe('caption API (tiny model, e2e)', () => {
  let app: NestExpressApplication;
  let http: ReturnType<NestExpressApplication['getHttpServer']>;
  let modelDir: string;

  beforeAll(async () => {
    modelDir = copyModel(TINY_MODEL);
    app = await bootApp(testConfig({ MODEL_DIR: modelDir, MAX_UPLOAD_BYTES: String(MAX_UPLOAD) }));
    http = app.getHttpServer();
  });

  afterAll(async () => {
    await app?.close();
    rmSync(modelDir, { recursive: true, force: true });
  });

  describe('before the model is loaded', () => {
    it('is live but neither started nor ready, and refuses captions with 503', async () => {
      await request(http).get('/health/live').expect(200);
      const ready = await request(http).get('/health/ready');
      expectProblem(ready, 503, 'not_ready');
      expect(ready.body.checks.model).toMatchObject({ status: 'down', state: 'loading' });
      expectProblem(await request(http).get('/health/startup'), 503, 'not_ready');
      expectProblem(
        await request(http).post('/caption').attach('file', CHINA, 'china.jpg'),
        503,
        'not_ready',
      );
    });

    it('becomes ready after loading and warming up', async () => {
      await app.get(ModelLoaderService).load();
      const ready = await request(http).get('/health/ready').expect(200);
      expect(ready.body.details.model).toMatchObject({ status: 'up', state: 'ready', dtype: 'q8' });
      await request(http).get('/health/startup').expect(200);
    });
  });

  describe('POST /caption', () => {
    it('captions a multipart upload (the seed API) with the default decoding', async () => {
      const response = await request(http)
        .post('/caption')
        .set('X-Request-Id', 'e2e-upload-1')
        .attach('file', CHINA, 'china.jpg')
        .expect(200);
      expect(response.headers['x-request-id']).toBe('e2e-upload-1');
      expect(response.headers['server-timing']).toMatch(
        /^queue_wait;desc="queue";dur=[\d.]+, image_decode;desc="image decode";dur=[\d.]+, encoder;desc="encoder";dur=[\d.]+, decoding;desc="decoding";dur=[\d.]+, total;dur=[\d.]+$/,
      );
      expect(response.body).toMatchObject({
        caption: expect.stringMatching(/\S/),
        // an unpinned folder is reported by its name, not as the hub model
        model: { id: basename(modelDir), revision: 'local', dtype: 'q8' },
        decoding: { num_beams: 4, max_new_tokens: 15, min_new_tokens: 0 },
        cached: false,
        batch_images: 1,
      });
      expect(response.body.captions).toEqual([
        { caption: response.body.caption, confidence: response.body.confidence },
      ]);
      expect(response.body.confidence).toBeGreaterThan(0);
      expect(response.body.confidence).toBeLessThanOrEqual(1);
      expect(response.body.tokens).toBeGreaterThan(0);
      expect(response.body.tokens).toBeLessThanOrEqual(15);
      expect(response.body.timings_ms.total).toBeGreaterThan(0);
    });

    it('answers the same image and options from the cache', async () => {
      const first = await request(http)
        .post('/caption?num_beams=2')
        .attach('file', FLOWER, 'f.jpg')
        .expect(200);
      const again = await request(http)
        .post('/caption?num_beams=2')
        .attach('file', FLOWER, 'renamed.png')
        .expect(200);
      expect(first.body.cached).toBe(false);
      expect(again.body).toMatchObject({
        cached: true,
        caption: first.body.caption,
        tokens: first.body.tokens,
        timings_ms: { image_decode: 0, queue_wait: 0, encoder: 0, decoding: 0 },
      });
      expect(again.headers['server-timing']).toMatch(/^cache;desc=hit, total;dur=[\d.]+$/);
    });

    it('captions a raw body and reads options from the query string', async () => {
      const response = await request(http)
        .post('/caption?num_beams=1&max_new_tokens=5')
        .set('Content-Type', 'image/jpeg')
        .send(CHINA)
        .expect(200);
      expect(response.body.decoding).toMatchObject({ num_beams: 1, max_new_tokens: 5 });
      expect(response.body.tokens).toBeLessThanOrEqual(5);
    });

    it('accepts curl --data-binary (form-urlencoded type) and sniffs the real type', async () => {
      await request(http)
        .post('/caption?num_beams=1')
        .set('Content-Type', 'application/x-www-form-urlencoded')
        .serialize(((bytes: Buffer) => bytes) as unknown as (body: unknown) => string) // raw, as curl sends it
        .send(FLOWER)
        .expect(200);
    });

    it('returns several captions, best first, each with its confidence', async () => {
      const response = await request(http)
        .post('/caption?num_beams=3&num_return_sequences=3&max_new_tokens=6')
        .set('Content-Type', 'image/jpeg')
        .send(FLOWER)
        .expect(200);
      const { caption, confidence, captions, decoding } = response.body;
      expect(decoding).toMatchObject({ num_beams: 3, num_return_sequences: 3 });
      expect(captions).toHaveLength(3);
      expect(captions[0]).toEqual({ caption, confidence });
      for (const ranked of captions) {
        expect(ranked.caption).toMatch(/\S/);
        expect(ranked.confidence).toBeGreaterThan(0);
        expect(ranked.confidence).toBeLessThanOrEqual(1);
      }
      // one caption by default, the same best one
      const single = await request(http)
        .post('/caption?num_beams=3&max_new_tokens=6')
        .set('Content-Type', 'image/jpeg')
        .send(FLOWER)
        .expect(200);
      expect(single.body.captions).toEqual([{ caption, confidence }]);
      expect(
        (
          await request(http)
            .post('/caption?num_beams=2&num_return_sequences=3')
            .set('Content-Type', 'image/jpeg')
            .send(FLOWER)
        ).body,
      ).toMatchObject({ status: 400, errors: [{ field: 'num_return_sequences' }] });
    });

    it('reads options from multipart form fields', async () => {
      const response = await request(http)
        .post('/caption')
        .field('num_beams', '3')
        .field('max_new_tokens', '4')
        .attach('file', CHINA, 'c.jpg')
        .expect(200);
      expect(response.body.decoding).toMatchObject({ num_beams: 3, max_new_tokens: 4 });
    });

    it('gives one caption per request when several arrive together (micro-batched)', async () => {
      const responses = await Promise.all(
        [CHINA, FLOWER, CHINA, FLOWER].map((image, i) =>
          request(http)
            .post(`/caption?num_beams=1&max_new_tokens=${3 + i}`)
            .set('Content-Type', 'image/jpeg')
            .send(image),
        ),
      );
      responses.forEach((r, i) => {
        expect(r.status).toBe(200);
        expect(r.body.decoding.max_new_tokens).toBe(3 + i);
      });
    });
  });

  describe('bad input', () => {
    it.each([
      ['no body at all', () => request(http).post('/caption'), 400, 'missing_image'],
      [
        'an empty multipart form',
        () => request(http).post('/caption').field('num_beams', '1'),
        400,
        'missing_image',
      ],
      [
        'the file in a field not named file',
        () => request(http).post('/caption').attach('image', CHINA, 'c.jpg'),
        400,
        'missing_image',
      ],
      [
        'a multipart Content-Type without a boundary',
        () =>
          request(http)
            .post('/caption')
            .set('Content-Type', 'multipart/form-data')
            .send(Buffer.from('--x\r\n')),
        400,
        'validation_failed',
      ],
      [
        'a text body',
        () => request(http).post('/caption').set('Content-Type', 'text/plain').send('a cat'),
        415,
        'unsupported_media_type',
      ],
      [
        'an SVG',
        () =>
          request(http)
            .post('/caption')
            .set('Content-Type', 'image/svg+xml')
            .send(Buffer.from('<svg xmlns="http://www.w3.org/2000/svg"/>')),
        415,
        'unsupported_media_type',
      ],
      [
        'a PDF named .jpg',
        () =>
          request(http)
            .post('/caption')
            .attach('file', Buffer.from('%PDF-1.4\n%\xe2\xe3\n'), 'photo.jpg'),
        415,
        'unsupported_media_type',
      ],
      [
        'a truncated JPEG',
        () =>
          request(http)
            .post('/caption')
            .set('Content-Type', 'image/jpeg')
            .send(CHINA.subarray(0, CHINA.length / 3)),
        422,
        'invalid_image',
      ],
      [
        'a PNG declaring 30000x30000 pixels',
        () => request(http).post('/caption').attach('file', pngDeclaring(30000, 30000), 'bomb.png'),
        413,
        'image_too_large',
      ],
      [
        // 49,000,000 pixels (within MAX_INPUT_PIXELS), but a row that wide needs ~1.3 GB to decode
        'a PNG whose decode would need more than DECODE_MEMORY_BYTES',
        () =>
          request(http).post('/caption').attach('file', pngDeclaring(49_000_000, 1), 'wide.png'),
        413,
        'image_too_large',
      ],
      [
        'a raw body over MAX_UPLOAD_BYTES',
        () =>
          request(http)
            .post('/caption')
            .set('Content-Type', 'image/jpeg')
            .send(Buffer.alloc(MAX_UPLOAD + 1, 0xff)),
        413,
        'payload_too_large',
      ],
      [
        'a multipart file over MAX_UPLOAD_BYTES',
        () =>
          request(http)
            .post('/caption')
            .attach('file', Buffer.alloc(MAX_UPLOAD + 1, 0xff), 'big.jpg'),
        413,
        'payload_too_large',
      ],
      [
        'num_beams out of range',
        () => request(http).post('/caption?num_beams=9').attach('file', CHINA, 'c.jpg'),
        400,
        'validation_failed',
      ],
      [
        'an unknown option',
        () => request(http).post('/caption?beams=2').attach('file', CHINA, 'c.jpg'),
        400,
        'validation_failed',
      ],
      [
        'min_new_tokens above max_new_tokens',
        () =>
          request(http)
            .post('/caption?min_new_tokens=9&max_new_tokens=3')
            .attach('file', CHINA, 'c.jpg'),
        400,
        'validation_failed',
      ],
      [
        'a beam-only option with greedy decoding',
        () =>
          request(http)
            .post('/caption?num_beams=1&length_penalty=2')
            .attach('file', CHINA, 'c.jpg'),
        400,
        'unsupported_option',
      ],
      ['an unknown route', () => request(http).get('/nope'), 404, 'not_found'],
      ['GET on /caption', () => request(http).get('/caption'), 405, 'method_not_allowed'],
      ['POST on /health/live', () => request(http).post('/health/live'), 405, 'method_not_allowed'],
    ])('%s -> %i %s', async (_what, send, status, code) => {
      expectProblem(await send(), status as number, code as string);
    });

    it('says how much memory a refused decode would need, and the limit', async () => {
      const response = await request(http)
        .post('/caption')
        .attach('file', pngDeclaring(49_000_000, 1), 'wide.png');
      expectProblem(response, 413, 'image_too_large');
      // the 2 GiB test budget's quarter
      expect(response.body.max_decode_bytes).toBe(512 * 1024 * 1024);
      expect(response.body.decode_bytes).toBeGreaterThan(response.body.max_decode_bytes);
    });

    it('names the allowed methods of a known path', async () => {
      const wrong = await request(http).delete('/caption');
      expect(wrong.headers.allow).toBe('POST');
      expect(wrong.body.detail).toBe('DELETE is not allowed on /caption; use POST.');
      expect((await request(http).put('/metrics')).headers.allow).toBe('GET, HEAD');
    });

    it('still captions after all of that', async () => {
      await request(http).post('/caption?num_beams=1').attach('file', CHINA, 'c.jpg').expect(200);
    });
  });

  describe('documentation', () => {
    it('serves Swagger UI at /docs', async () => {
      const page = await request(http).get('/docs').redirects(1).expect(200);
      expect(page.text).toContain('swagger-ui');
    });

    it('documents the upload, the options and every problem response in the OpenAPI JSON', async () => {
      const { body: doc } = await request(http).get('/docs-json').expect(200);
      const post = doc.paths['/caption'].post;
      expect(Object.keys(post.requestBody.content)).toEqual(
        expect.arrayContaining([
          'multipart/form-data',
          'image/jpeg',
          'image/png',
          'image/webp',
          'image/avif',
        ]),
      );
      expect(post.requestBody.content['multipart/form-data'].schema.properties.file).toEqual(
        expect.objectContaining({ type: 'string', format: 'binary' }),
      );
      expect(post.parameters.map((p: { name: string }) => p.name)).toEqual(
        expect.arrayContaining([
          'num_beams',
          'max_new_tokens',
          'min_new_tokens',
          'repetition_penalty',
        ]),
      );
      for (const status of ['400', '413', '415', '422', '429', '503', '504']) {
        expect(post.responses[status].content['application/problem+json'].schema.$ref).toBe(
          '#/components/schemas/ProblemDto',
        );
      }
      expect(post.responses['200'].content['application/json'].schema.$ref).toBe(
        '#/components/schemas/CaptionResponseDto',
      );
      expect(doc.components.schemas.ProblemDto.properties.code.enum).toContain('image_too_large');
      expect(doc.paths['/health/ready'].get).toBeDefined();
    });
  });

  describe('GET /metrics', () => {
    it('exposes the process, HTTP, caption, queue, cache and model metrics', async () => {
      const { text } = await request(http).get('/metrics').expect(200);
      mkdirSync(join(METRICS_DUMP, '..'), { recursive: true });
      writeFileSync(METRICS_DUMP, text);
      for (const name of [
        'process_resident_memory_bytes',
        'process_cpu_seconds_total',
        'nodejs_eventloop_lag_seconds',
        'caption_queue_depth',
        'caption_queue_capacity',
        'caption_model_load_seconds',
        'caption_cache_hits_total',
        'caption_cache_misses_total',
        'caption_generated_tokens_total',
      ]) {
        expect(text).toMatch(new RegExp(`^${name} \\S+$`, 'm'));
      }
      // Every upload and decode reservation was given back.
      expect(text).toMatch(/^caption_intake_requests 0$/m);
      expect(text).toMatch(/^caption_intake_bytes 0$/m);
      expect(text).toMatch(/^caption_decode_memory_bytes 0$/m);
      expect(text).toMatch(/^caption_queue_rejections_total\{reason="intake_full"\} 0$/m);
      expect(text).toMatch(
        /^http_request_duration_seconds_bucket\{.*method="POST".*route="\/caption".*status_code="200".*\} [1-9]/m,
      );
      expect(text).toMatch(
        /^http_request_duration_seconds_count\{.*route="unmatched".*status_code="404".*\} [1-9]/m,
      );
      for (const stage of ['image_decode', 'queue_wait', 'encoder', 'decoding']) {
        expect(text).toMatch(
          new RegExp(`^caption_stage_duration_seconds_count\\{stage="${stage}"\\} [1-9]`, 'm'),
        );
      }
      expect(text).toMatch(/^caption_requests_total\{outcome="ok"\} [1-9]/m);
      expect(text).toMatch(/^caption_requests_total\{outcome="cached"\} [1-9]/m);
      expect(text).toMatch(/^caption_errors_total\{code="invalid_image"\} [1-9]/m);
      expect(text).toMatch(/^caption_errors_total\{code="request_timeout"\} 0/m);
      expect(text).toMatch(/^caption_queue_rejections_total\{reason="queue_full"\} 0/m);
      expect(text).toMatch(/^caption_batch_size_bucket\{le="1"\} [1-9]/m);
      expect(text).toMatch(
        new RegExp(
          `^caption_model_info\\{model_id="${basename(modelDir)}",revision="local",dtype="q8"\\} 1$`,
          'm',
        ),
      );
      expect(text).toMatch(/^caption_model_ready 1$/m);
      expect(Number(text.match(/^caption_generated_tokens_total (\S+)$/m)?.[1])).toBeGreaterThan(0);
    });

    it('serves every metric (with the labels) the Grafana dashboard and the alert rules query', async () => {
      const { text } = await request(http).get('/metrics').expect(200);
      const { outcomes } = await validateGitops({
        root: ROOT,
        metricsText: text,
        only: ['queried-metrics'],
      });
      expect(outcomes).toEqual([expect.objectContaining({ id: 'queried-metrics', problems: [] })]);
    });
  });
});
