import { getMaxListeners } from 'node:events';
import { EventEmitter } from 'node:events';
import type { Request, Response } from 'express';
import { problemOf } from '../../../test/support/problems';
import { ProblemError } from '../../common/problem/problem.error';
import { AppConfig } from '../../config/app-config';
import { CaptionMetrics } from '../../metrics/caption-metrics.service';
import { isCaptionRequest } from '../../metrics/caption-problem.listener';
import { DecodeGate } from '../image/decode-gate';
import { ImageIntakeService } from '../image/image-intake.service';
import { ModelStatusService } from '../model-status.service';
import { CaptionScheduler, ClientClosedError } from '../scheduler/caption-scheduler.service';
import { CaptionAdmission } from './caption-admission.service';

function setup(overrides: { intakeMax?: number; buffer?: number; shutdownMs?: number } = {}) {
  const config = {
    http: { maxUploadBytes: 1000, bodyTimeoutMs: 5000 },
    intake: { max: overrides.intakeMax ?? 4, uploadBufferBytes: overrides.buffer ?? 2000 },
    batch: { maxFiles: 3 },
    queue: { requestTimeoutMs: 10_000 },
    shutdownTimeoutMs: overrides.shutdownMs ?? 10_000,
  } as AppConfig;
  const rejected: string[] = [];
  const metrics = {
    rejected: (reason: string) => rejected.push(reason),
    intake: () => undefined,
    ready: () => undefined,
  } as unknown as CaptionMetrics;
  const status = new ModelStatusService(metrics);
  const scheduler = {
    assertAccepting: () => undefined,
    expectedWaitSeconds: () => 3,
  } as unknown as CaptionScheduler;
  const gate = new DecodeGate(1, 1000);
  const intake = { gate } as unknown as ImageIntakeService;
  const admission = new CaptionAdmission(config, scheduler, status, metrics, intake);
  return { admission, status, rejected, gate };
}

/** A request with these headers, and its response, enough for admission. */
function exchange(headers: Record<string, string> = { 'content-length': '500' }) {
  const response = Object.assign(new EventEmitter(), { writableFinished: false });
  return {
    request: { headers } as unknown as Request,
    response: response as unknown as Response & EventEmitter & { writableFinished: boolean },
  };
}

describe('CaptionAdmission', () => {
  afterEach(() => jest.useRealTimers());

  it('admits within the intake bounds and marks the request for caption metrics', () => {
    const { admission } = setup();
    const { request, response } = exchange();
    const admitted = admission.admit(request, response);
    expect(isCaptionRequest(request)).toBe(true);
    expect(CaptionAdmission.of(request)).toBe(admitted);
    expect(admission.stats).toEqual({ inFlight: 1, inIntake: 1, intakeBytes: 500 });
    admitted.leaveIntake();
    expect(admission.stats).toEqual({ inFlight: 1, inIntake: 0, intakeBytes: 0 });
    response.writableFinished = true;
    response.emit('close');
    expect(admission.stats.inFlight).toBe(0);
  });

  it('reserves MAX_UPLOAD_BYTES for a chunked body and nothing for no body', () => {
    const { admission } = setup();
    admission.admit(exchange({ 'transfer-encoding': 'chunked' }).request, exchange().response);
    admission.admit(exchange({}).request, exchange().response);
    expect(admission.stats.intakeBytes).toBe(1000);
  });

  it('refuses with 413 a declared body over MAX_UPLOAD_BYTES, 429 past INTAKE_MAX or the bytes', () => {
    const { admission, rejected } = setup({ intakeMax: 2, buffer: 1200 });
    expect(
      problemOf(() =>
        admission.admit(exchange({ 'content-length': '1001' }).request, exchange().response),
      ).code,
    ).toBe('payload_too_large');
    admission.admit(exchange({ 'content-length': '1000' }).request, exchange().response);
    const bytes = problemOf(() =>
      admission.admit(exchange({ 'content-length': '300' }).request, exchange().response),
    );
    expect(bytes).toMatchObject({
      code: 'intake_full',
      extras: { headers: { 'Retry-After': '3' } },
    });
    admission.admit(exchange({ 'content-length': '200' }).request, exchange().response);
    expect(
      problemOf(() => admission.admit(exchange({}).request, exchange().response)).detail,
    ).toContain('INTAKE_MAX');
    expect(rejected).toEqual(['intake_full', 'intake_full']);
  });

  it('limits each route by its bodies: a batch of files, base64 JSON reserved 4 times', () => {
    const { admission } = setup({ buffer: 400_000 });
    const multipart = 'multipart/form-data; boundary=x';
    const limit = (route: 'single' | 'batch', type: string, length: number) => {
      const { request, response } = exchange({
        'content-type': type,
        'content-length': `${length}`,
      });
      try {
        return admission.admit(request, response, route).bodyBudget.maxBytes;
      } catch (error) {
        return (error as ProblemError).code;
      } finally {
        response.writableFinished = true;
        response.emit('close');
      }
    };
    // One file: MAX_UPLOAD_BYTES and its framing (1 KiB per part, 16 KiB of fields).
    expect(limit('single', 'image/png', 1000)).toBe(1000);
    expect(limit('single', 'image/png', 1001)).toBe('payload_too_large');
    expect(limit('single', multipart, 1000)).toBe(1000 + 1024 + 16_384);
    // A batch: MAX_BATCH_FILES of them.
    expect(limit('batch', multipart, 20_000)).toBe(3 * 1000 + 3 * 1024 + 16_384);
    expect(limit('batch', multipart, 22_457)).toBe('payload_too_large');
    // JSON: the base64 of MAX_UPLOAD_BYTES and 64 KiB, wherever it is sent.
    expect(limit('single', 'application/json', 1000)).toBe(1334 + 65_536);
    expect(limit('batch', 'application/json; charset=utf-8', 66_870)).toBe(66_870);
    expect(limit('single', 'application/json', 66_871)).toBe('payload_too_large');

    const { request, response } = exchange({
      'content-type': 'application/json',
      'content-length': '5000',
    });
    const admitted = admission.admit(request, response);
    expect(admission.stats.intakeBytes).toBe(20_000);
    admitted.close();
  });

  it('caps a route limit at UPLOAD_BUFFER_BYTES, so whatever fits is admitted when idle', () => {
    const { admission } = setup({ buffer: 2500 });
    const { request, response } = exchange({
      'content-type': 'multipart/form-data; boundary=x',
      'content-length': '2501',
    });
    const tooLarge = problemOf(() => admission.admit(request, response, 'batch'));
    expect(tooLarge).toMatchObject({
      code: 'payload_too_large',
      extras: { fields: { max_bytes: 2500 } },
    });
    expect(tooLarge.detail).toBe('The body (2501 bytes) is larger than the limit of 2,500 bytes.');
    // JSON is held 4 times: at most a quarter of the buffer.
    const json = exchange({ 'content-type': 'application/json', 'content-length': '626' });
    expect(problemOf(() => admission.admit(json.request, json.response)).code).toBe(
      'payload_too_large',
    );
  });

  it('reserves more bytes for an admitted request until it leaves intake, within the buffer', () => {
    const { admission } = setup({ buffer: 2000 });
    const admitted = admission.admit(exchange().request, exchange().response);
    admitted.reserve(1000);
    expect(admission.stats.intakeBytes).toBe(1500);
    expect(admitted.uploadBytes).toBe(1500);
    expect(problemOf(() => admitted.reserve(501))).toMatchObject({ code: 'intake_full' });
    admitted.leaveIntake();
    expect(admission.stats.intakeBytes).toBe(0);
    expect(() => admitted.reserve(1)).toThrow('after leaving intake');
    admitted.close();
  });

  it('refuses (429) what would only time out behind the decodes and captions ahead', () => {
    const { admission, gate } = setup();
    admission.admit(exchange().request, exchange().response);
    // Decodes ahead taking 8 s at the recent pace, 3 s of engine queue, a 10 s deadline.
    jest.spyOn(gate, 'expectedWaitSeconds').mockReturnValue(8);
    const problem = problemOf(() => admission.admit(exchange().request, exchange().response));
    expect(problem).toMatchObject({
      code: 'intake_full',
      extras: { headers: { 'Retry-After': '11' } },
    });
    expect(problem.detail).toContain('past REQUEST_TIMEOUT_MS');
  });

  it('aborts the signal at the deadline, and with client_closed when the client leaves', () => {
    jest.useFakeTimers();
    const { admission } = setup();
    const late = admission.admit(exchange().request, exchange().response);
    jest.advanceTimersByTime(10_001);
    expect(late.signal.reason).toMatchObject({ code: 'request_timeout' });
    const { request, response } = exchange();
    const gone = admission.admit(request, response);
    response.emit('close');
    expect(gone.signal.reason).toBeInstanceOf(ClientClosedError);
    expect(admission.stats).toMatchObject({ inIntake: 1 }); // only the first, still uploading
  });

  it('lets a full batch of images and every stage listen to the signal with no leak warning', () => {
    const { admission } = setup();
    const { request, response } = exchange();
    const admitted = admission.admit(request, response);
    // Node warns of a leak past its default of 10; MAX_BATCH_FILES (3 here) images + 8 stages.
    expect(getMaxListeners(admitted.signal)).toBe(3 + 8);
    response.emit('close');
  });

  it('on shutdown refuses new requests and waits for admitted ones, whatever their stage', async () => {
    const { admission, status } = setup();
    const uploading = exchange();
    admission.admit(uploading.request, uploading.response);
    const drained = admission.onModuleDestroy();
    expect(status.isDraining).toBe(true);
    expect(problemOf(() => admission.admit(exchange().request, exchange().response)).code).toBe(
      'draining',
    );
    let done = false;
    void drained.then(() => (done = true));
    await new Promise((r) => setImmediate(r));
    expect(done).toBe(false);
    uploading.response.writableFinished = true;
    uploading.response.emit('close');
    await drained;
  });

  it('answers what is left with 503 draining when SHUTDOWN_TIMEOUT_MS passes', async () => {
    const { admission } = setup({ shutdownMs: 20 });
    const { request, response } = exchange();
    const admitted = admission.admit(request, response);
    admitted.signal.addEventListener('abort', () => response.emit('close'));
    await admission.onModuleDestroy();
    expect(admitted.signal.reason).toMatchObject({ code: 'draining', status: 503 });
    expect(admission.stats.inFlight).toBe(0);
  });
});
