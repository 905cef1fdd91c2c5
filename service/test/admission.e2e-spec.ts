/**
 * Admission over a request's whole life, over real sockets with small limits: refusals before the
 * body is read (a client that asked for 100 Continue never sends it), the upload byte budget,
 * 408 for a body or headers that do not arrive, Node-level errors as problem+json, and one
 * deadline from arrival across upload and queue.
 */
import { NestExpressApplication } from '@nestjs/platform-express';
import { readFileSync } from 'node:fs';
import { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { CaptionAdmission } from '../src/caption/admission/caption-admission.service';
import { ModelLoaderService } from '../src/caption/model-loader.service';
import { bootApp, testConfig } from './support/app';
import { FakeEngine } from './support/fake-engine';
import { PHOTOS } from './support/fixtures';
import { RawConnection, RawResponse, postHead } from './support/raw-http';

const CHINA = readFileSync(join(PHOTOS, 'china.jpg'));
const MAX_UPLOAD = 600_000;

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

describe('admission (e2e, small limits)', () => {
  let app: NestExpressApplication;
  let engine: FakeEngine;
  let port: number;
  let admission: CaptionAdmission;
  const open: RawConnection[] = [];
  const connect = async () => {
    const connection = await RawConnection.open(port);
    open.push(connection);
    return connection;
  };
  /** A caption upload that sends its headers and part of its body, then waits. */
  const stalledUpload = async (length = CHINA.length, sent = 1000) => {
    const connection = await connect();
    connection.write(postHead({ 'Content-Type': 'image/jpeg', 'Content-Length': length }));
    connection.write(CHINA.subarray(0, sent));
    return connection;
  };

  beforeAll(async () => {
    engine = new FakeEngine(1);
    engine.autoComplete = true;
    app = await bootApp(
      testConfig({
        MODEL_DIR: '/unused',
        INTAKE_MAX: '2',
        MAX_UPLOAD_BYTES: String(MAX_UPLOAD),
        UPLOAD_BUFFER_BYTES: String(1024 * 1024),
        BODY_TIMEOUT_MS: '2500',
        HEADERS_TIMEOUT_MS: '400',
        REQUEST_TIMEOUT_MS: '3000',
        ENGINE_MAX_WAIT_MS: '0',
        CACHE_MAX_ENTRIES: '0',
      }),
      engine,
    );
    await app.listen(0, '127.0.0.1');
    port = (app.getHttpServer().address() as AddressInfo).port;
    admission = app.get(CaptionAdmission);
    await app.get(ModelLoaderService).load();
  });

  afterEach(async () => {
    for (const connection of open.splice(0)) connection.close();
    await waitFor(() => admission.stats.inFlight === 0);
    engine.autoComplete = true;
  });

  afterAll(async () => {
    while (engine.running.length > 0) engine.complete();
    await app?.close();
  });

  it('captions an upload sent after 100 Continue, which comes only once admitted', async () => {
    const connection = await connect();
    connection.write(
      postHead({
        'Content-Type': 'image/jpeg',
        'Content-Length': CHINA.length,
        Expect: '100-continue',
      }),
    );
    await waitFor(() => connection.text.startsWith('HTTP/1.1 100'));
    connection.write(CHINA);
    const response = await connection.response();
    expect(response.interim).toEqual([100]);
    expect(response.status).toBe(200);
  });

  it('refuses past INTAKE_MAX with 429 and Retry-After, before the body: no 100 Continue', async () => {
    await stalledUpload();
    await stalledUpload();
    await waitFor(() => admission.stats.inIntake === 2);
    const refused = await connect();
    refused.write(
      postHead({
        'Content-Type': 'image/jpeg',
        'Content-Length': CHINA.length,
        Expect: '100-continue',
      }),
    );
    const response = await refused.response();
    expect(response.interim).toEqual([]);
    expectProblem(response, 429, 'intake_full');
    expect(Number(response.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    expect(JSON.parse(response.body).detail).toContain('INTAKE_MAX');
    await refused.closed; // the body it never sent is not waited for
  });

  it('refuses a body that would overflow UPLOAD_BUFFER_BYTES, and admits one that fits', async () => {
    await stalledUpload(MAX_UPLOAD); // reserves 600,000 of 1,048,576 bytes
    await waitFor(() => admission.stats.intakeBytes === MAX_UPLOAD);
    const tooBig = await connect();
    tooBig.write(postHead({ 'Content-Type': 'image/jpeg', 'Content-Length': 500_000 }));
    const response = await tooBig.response();
    expectProblem(response, 429, 'intake_full');
    expect(JSON.parse(response.body).detail).toContain('UPLOAD_BUFFER_BYTES');
    const fits = await connect();
    fits.write(postHead({ 'Content-Type': 'image/jpeg', 'Content-Length': CHINA.length }));
    fits.write(CHINA);
    expect((await fits.response()).status).toBe(200);
  });

  it('refuses a declared body over MAX_UPLOAD_BYTES with 413 before reading it', async () => {
    const connection = await connect();
    connection.write(
      postHead({
        'Content-Type': 'image/jpeg',
        'Content-Length': MAX_UPLOAD + 1,
        Expect: '100-continue',
      }),
    );
    const response = await connection.response();
    expect(response.interim).toEqual([]);
    expectProblem(response, 413, 'payload_too_large');
  });

  it('answers 408 when the body does not arrive within BODY_TIMEOUT_MS, and frees the slot', async () => {
    const connection = await stalledUpload();
    await waitFor(() => admission.stats.inIntake === 1);
    const response = await connection.response();
    expectProblem(response, 408, 'upload_timeout');
    expect(response.headers.connection).toBe('close');
    await connection.closed;
    await waitFor(() => admission.stats.inIntake === 0 && admission.stats.intakeBytes === 0);
  });

  it('frees the slot of a client that leaves mid-upload', async () => {
    const connection = await stalledUpload();
    await waitFor(() => admission.stats.inIntake === 1);
    connection.close();
    await waitFor(() => admission.stats.inFlight === 0 && admission.stats.intakeBytes === 0);
  });

  it('answers 408 problem+json when the headers do not arrive within HEADERS_TIMEOUT_MS', async () => {
    const connection = await connect();
    connection.write('POST /caption HTTP/1.1\r\nHost: localhost\r\n');
    const response = await connection.response();
    expectProblem(response, 408, 'upload_timeout');
    expect(JSON.parse(response.body).request_id).toEqual(expect.any(String));
    await connection.closed;
  });

  it.each([
    [
      '431 for headers over 16 KiB',
      `GET / HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`,
      431,
      'headers_too_large',
    ],
    ['400 for a request that does not parse', 'HELLO\r\n\r\n', 400, 'bad_request'],
    [
      '417 for an Expect other than 100-continue',
      postHead({ 'Content-Length': 5, Expect: 'teapot' }),
      417,
      'expectation_failed',
    ],
  ])('answers %s', async (_what, request, status, code) => {
    const connection = await connect();
    connection.write(request);
    expectProblem(await connection.response(), status, code);
  });

  it('runs REQUEST_TIMEOUT_MS from arrival: a slow upload leaves less time in the queue', async () => {
    engine.autoComplete = false;
    const started = Date.now();
    const connection = await stalledUpload(CHINA.length, CHINA.length - 10);
    await new Promise((r) => setTimeout(r, 1500)); // half the 3 s deadline spent uploading
    connection.write(CHINA.subarray(CHINA.length - 10));
    const response = await connection.response();
    const elapsed = Date.now() - started;
    expectProblem(response, 504, 'request_timeout');
    // Counted from arrival: ~3 s. Counted from the queue, it would be 4.5 s or more.
    expect(elapsed).toBeLessThan(4300);
    expect(engine.cancelled).toHaveLength(1);
    while (engine.running.length > 0) engine.complete();
  });
});
