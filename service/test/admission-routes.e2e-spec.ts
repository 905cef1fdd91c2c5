/**
 * Admission for every way an image enters besides a single upload (admission.e2e-spec covers
 * that one): base64 JSON on /caption and the Hugging Face route, image URLs, and batches. Over
 * real sockets with small limits and a fake engine: each route's body limit and reservation
 * decided before its body is read, one admission per batch, the batch refused up front when the
 * queue cannot take it, and an image URL fetched under the request's deadline with its bytes
 * reserved like an upload's.
 */
import { NestExpressApplication } from '@nestjs/platform-express';
import { readFileSync } from 'node:fs';
import { Server, ServerResponse, createServer } from 'node:http';
import { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { CaptionAdmission } from '../src/caption/admission/caption-admission.service';
import { ModelLoaderService } from '../src/caption/model-loader.service';
import { CaptionScheduler } from '../src/caption/scheduler/caption-scheduler.service';
import { bootApp, testConfig } from './support/app';
import { FakeEngine } from './support/fake-engine';
import { PHOTOS } from './support/fixtures';
import { RawConnection, RawResponse, postHead } from './support/raw-http';

const CHINA = readFileSync(join(PHOTOS, 'china.jpg')); // 196,653 bytes
const FLOWER = readFileSync(join(PHOTOS, 'flower.jpg')); // 142,987 bytes
const MAX_UPLOAD = 200_000;
const UPLOAD_BUFFER = 1_100_000;
/** base64 JSON: the base64 of MAX_UPLOAD_BYTES and 64 KiB, at most a quarter of the buffer. */
const JSON_LIMIT = UPLOAD_BUFFER / 4;
/** 3 files of MAX_UPLOAD_BYTES, 1 KiB of framing each, 16 KiB of fields. */
const BATCH_LIMIT = 3 * MAX_UPLOAD + 3 * 1024 + 16 * 1024;
const SERVED = 'fake-model'; // FakeEngine's unpinned folder, served under its name

function expectProblem(response: RawResponse, status: number, code: string): void {
  expect({
    status: response.status,
    code: (JSON.parse(response.body) as { code: string }).code,
  }).toEqual({ status, code });
  expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
}

async function waitFor(condition: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** A multipart body with these files (and text fields), as a client would send it. */
function multipart(files: Buffer[], fields: [string, string][] = [], field = 'files') {
  const boundary = 'x-boundary-7f3a';
  const parts: Buffer[] = [];
  for (const [name, value] of fields) {
    parts.push(
      Buffer.from(
        `--${boundary}\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`,
      ),
    );
  }
  files.forEach((file, i) => {
    parts.push(
      Buffer.from(
        `--${boundary}\r\nContent-Disposition: form-data; name="${field}"; filename="${i}.jpg"\r\n` +
          'Content-Type: image/jpeg\r\n\r\n',
      ),
      file,
      Buffer.from('\r\n'),
    );
  });
  parts.push(Buffer.from(`--${boundary}--\r\n`));
  return { type: `multipart/form-data; boundary=${boundary}`, body: Buffer.concat(parts) };
}

describe('admission of JSON, URL and batch bodies (e2e, small limits)', () => {
  let app: NestExpressApplication;
  let engine: FakeEngine;
  let port: number;
  let admission: CaptionAdmission;
  let scheduler: CaptionScheduler;
  let images: Server;
  let imageOrigin: string;
  const stalled: ServerResponse[] = [];
  const open: RawConnection[] = [];

  const connect = async () => {
    const connection = await RawConnection.open(port);
    open.push(connection);
    return connection;
  };
  /** Sends a request's head and the first `sent` bytes of its body, and returns the connection. */
  const send = async (path: string, type: string, body: Buffer, sent = body.length) => {
    const connection = await connect();
    connection.write(postHead({ 'Content-Type': type, 'Content-Length': body.length }, path));
    if (sent > 0) connection.write(body.subarray(0, sent));
    return connection;
  };
  const json = (value: unknown) => Buffer.from(JSON.stringify(value));

  beforeAll(async () => {
    images = createServer((req, res) => {
      if (req.url === '/china.jpg') return res.writeHead(200).end(CHINA);
      // Declares the whole image, sends 10 bytes, then nothing.
      if (req.url === '/stall') {
        stalled.push(res);
        res.writeHead(200, { 'Content-Length': String(CHINA.length) });
        return res.write(CHINA.subarray(0, 10));
      }
      res.writeHead(404).end();
    });
    await new Promise<void>((resolve) => images.listen(0, '127.0.0.1', resolve));
    imageOrigin = `http://127.0.0.1:${(images.address() as AddressInfo).port}`;

    engine = new FakeEngine(1);
    engine.autoComplete = true;
    app = await bootApp(
      testConfig({
        MODEL_DIR: '/unused',
        INTAKE_MAX: '3',
        MAX_UPLOAD_BYTES: String(MAX_UPLOAD),
        UPLOAD_BUFFER_BYTES: String(UPLOAD_BUFFER),
        MAX_BATCH_FILES: '3',
        QUEUE_MAX: '4',
        BODY_TIMEOUT_MS: '2500',
        REQUEST_TIMEOUT_MS: '3000',
        ENGINE_MAX_WAIT_MS: '0',
        CACHE_MAX_ENTRIES: '0',
        URL_ALLOWED_PRIVATE_HOSTS: '127.0.0.1',
        // longer than the request's deadline: the deadline must cut the fetch
        URL_FETCH_TIMEOUT_MS: '20000',
      }),
      engine,
    );
    await app.listen(0, '127.0.0.1');
    port = (app.getHttpServer().address() as AddressInfo).port;
    admission = app.get(CaptionAdmission);
    scheduler = app.get(CaptionScheduler);
    await app.get(ModelLoaderService).load();
  });

  afterEach(async () => {
    for (const connection of open.splice(0)) connection.close();
    for (const response of stalled.splice(0)) response.destroy();
    engine.autoComplete = true;
    while (engine.running.length > 0) engine.complete();
    await waitFor(() => admission.stats.inFlight === 0);
    expect(admission.stats).toEqual({ inFlight: 0, inIntake: 0, intakeBytes: 0 });
  });

  afterAll(async () => {
    images.closeAllConnections();
    await new Promise<void>((resolve) => images.close(() => resolve()));
    await app?.close();
  });

  describe('base64 JSON', () => {
    it.each([
      ['/caption', { image: CHINA.toString('base64') }],
      [`/models/${SERVED}`, { inputs: CHINA.toString('base64') }],
    ])(
      'on %s: an image over MAX_UPLOAD_BYTES fits the JSON limit, reserved 4 times its body',
      async (path, value) => {
        const body = json(value);
        expect(CHINA.length).toBeLessThan(MAX_UPLOAD);
        expect(body.length).toBeGreaterThan(MAX_UPLOAD);
        expect(body.length).toBeLessThan(JSON_LIMIT);
        const connection = await send(path, 'application/json', body, 1000);
        await waitFor(() => admission.stats.inIntake === 1);
        expect(admission.stats.intakeBytes).toBe(4 * body.length);
        connection.write(body.subarray(1000));
        expect((await connection.response()).status).toBe(200);
      },
    );

    it.each(['/caption', `/models/${SERVED}`])(
      'on %s: a body over the JSON limit is 413 before it is read (no 100 Continue)',
      async (path) => {
        const connection = await connect();
        connection.write(
          postHead(
            {
              'Content-Type': 'application/json',
              'Content-Length': JSON_LIMIT + 1,
              Expect: '100-continue',
            },
            path,
          ),
        );
        const response = await connection.response();
        expect(response.interim).toEqual([]);
        expectProblem(response, 413, 'payload_too_large');
        expect(JSON.parse(response.body)).toMatchObject({
          detail: `The body (${JSON_LIMIT + 1} bytes) is larger than the limit of 275,000 bytes.`,
          max_bytes: JSON_LIMIT,
        });
      },
    );

    it('a raw body on the Hugging Face route keeps the upload limit', async () => {
      const connection = await connect();
      connection.write(postHead({ 'Content-Length': MAX_UPLOAD + 1 }, `/models/${SERVED}`));
      const response = await connection.response();
      expectProblem(response, 413, 'payload_too_large');
      expect(JSON.parse(response.body)).toMatchObject({ max_bytes: MAX_UPLOAD });
    });
  });

  describe('image URLs', () => {
    it('reserves the image bytes with admission while they arrive', async () => {
      const body = json({ url: `${imageOrigin}/stall` });
      const connection = await send('/caption', 'application/json', body);
      await waitFor(() => stalled.length === 1);
      await waitFor(() => admission.stats.intakeBytes === 4 * body.length + CHINA.length);
      expect(admission.stats.inIntake).toBe(1);
      connection.close();
    });

    it('is cut at the request deadline (REQUEST_TIMEOUT_MS from arrival), not the fetch timeout', async () => {
      const started = Date.now();
      const connection = await send(
        '/caption',
        'application/json',
        json({ url: `${imageOrigin}/stall` }),
      );
      const response = await connection.response();
      expectProblem(response, 504, 'request_timeout');
      const elapsed = Date.now() - started;
      expect(elapsed).toBeGreaterThanOrEqual(2900);
      expect(elapsed).toBeLessThan(6000); // URL_FETCH_TIMEOUT_MS is 20 s
    });

    it('captions a fetched image and gives its bytes back after intake', async () => {
      const connection = await send(
        '/caption',
        'application/json',
        json({ url: `${imageOrigin}/china.jpg` }),
      );
      const response = await connection.response();
      expect(response.status).toBe(200);
      expect(engine.submitted.at(-1)?.rgb.length).toBe(224 * 224 * 3);
    });
  });

  describe('batches', () => {
    it('are admitted once: one intake slot and their body reserved, freed when the last file is decoded', async () => {
      engine.autoComplete = false;
      const { type, body } = multipart([CHINA, FLOWER, CHINA]);
      const connection = await send('/captions', type, body, 1000);
      await waitFor(() => admission.stats.inIntake === 1);
      expect(admission.stats.intakeBytes).toBe(body.length);
      const submittedBefore = engine.submitted.length;
      connection.write(body.subarray(1000));
      // One running, two queued: every file decoded and the request out of intake.
      await waitFor(() => engine.submitted.length === submittedBefore + 1 && scheduler.depth === 2);
      expect(admission.stats).toEqual({ inFlight: 1, inIntake: 0, intakeBytes: 0 });
      for (let i = 0; i < 3; i++) {
        await waitFor(() => engine.running.length === 1);
        engine.complete();
      }
      const response = await connection.response();
      expect(response.status).toBe(200);
      expect((JSON.parse(response.body) as { results: unknown[] }).results).toEqual([
        expect.objectContaining({ caption: expect.any(String) }),
        expect.objectContaining({ caption: expect.any(String) }),
        expect.objectContaining({ caption: expect.any(String) }),
      ]);
    });

    it('over their limit (MAX_BATCH_FILES x MAX_UPLOAD_BYTES) are 413 before the body', async () => {
      const connection = await connect();
      connection.write(
        postHead(
          {
            'Content-Type': 'multipart/form-data; boundary=x',
            'Content-Length': BATCH_LIMIT + 1,
            Expect: '100-continue',
          },
          '/captions',
        ),
      );
      const response = await connection.response();
      expect(response.interim).toEqual([]);
      expectProblem(response, 413, 'payload_too_large');
      expect(JSON.parse(response.body)).toMatchObject({ max_bytes: BATCH_LIMIT });
    });

    it('past the upload buffer get 429 before their body (no 100 Continue)', async () => {
      const first = multipart([CHINA, CHINA, CHINA]);
      await send('/captions', first.type, first.body, 1000);
      await waitFor(() => admission.stats.intakeBytes === first.body.length);
      const connection = await connect();
      connection.write(
        postHead(
          {
            'Content-Type': first.type,
            'Content-Length': first.body.length,
            Expect: '100-continue',
          },
          '/captions',
        ),
      );
      const response = await connection.response();
      expect(response.interim).toEqual([]);
      expectProblem(response, 429, 'intake_full');
      expect(JSON.parse(response.body).detail).toContain('UPLOAD_BUFFER_BYTES');
      expect(Number(response.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    });

    it('are refused whole (429 queue_full) when the queue cannot take every file, none captioned', async () => {
      engine.autoComplete = false;
      const single = () => send('/caption', 'image/jpeg', FLOWER);
      await single(); // running
      await waitFor(() => engine.running.length === 1);
      await single(); // queued
      await single(); // queued
      await waitFor(() => scheduler.depth === 2);
      const submitted = engine.submitted.length;
      const { type, body } = multipart([CHINA, FLOWER, CHINA]);
      const response = await (await send('/captions', type, body)).response();
      expectProblem(response, 429, 'queue_full');
      expect(JSON.parse(response.body).detail).toBe(
        "2 captions are already waiting; the queue (QUEUE_MAX 4) has room for 2 of this batch's 3 images.",
      );
      expect(Number(response.headers['retry-after'])).toBeGreaterThanOrEqual(1);
      expect(engine.submitted.length).toBe(submitted);
      expect(scheduler.depth).toBe(2);
    });

    it('answer a repeated form field with 400, as a single upload does', async () => {
      for (const [path, field] of [
        ['/captions', 'files'],
        ['/caption', 'file'],
      ]) {
        const { type, body } = multipart(
          [FLOWER],
          [
            ['num_beams', '1'],
            ['num_beams', '2'],
          ],
          field,
        );
        const response = await (await send(path, type, body)).response();
        expectProblem(response, 400, 'validation_failed');
        expect(JSON.parse(response.body).errors).toEqual([
          { field: 'num_beams', message: 'num_beams is given 2 times in the form; give it once' },
        ]);
      }
    });
  });
});
