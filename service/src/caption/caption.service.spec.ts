import { decodingOptions } from '../../test/support/decoding-options';
import { ProblemError } from '../common/problem/problem.error';
import { AppConfig } from '../config/app-config';
import { CaptionMetrics } from '../metrics/caption-metrics.service';
import { CaptionCache } from './cache/caption-cache.service';
import { CaptionService } from './caption.service';
import { ImageIntakeService, ModelInput } from './image/image-intake.service';
import { ModelStatusService } from './model-status.service';
import { CaptionScheduler, ScheduledCaption } from './scheduler/caption-scheduler.service';

const IMAGE = Buffer.from('image bytes');
const RGB = new Uint8Array(224 * 224 * 3);

function setup({ cacheEntries = 8, ready = true } = {}) {
  const calls: string[] = [];
  const metricCalls: unknown[][] = [];
  const metrics = new Proxy(
    {},
    {
      get:
        (_, name: string) =>
        (...args: unknown[]) =>
          metricCalls.push([name, ...args]),
    },
  ) as CaptionMetrics;
  const status = new ModelStatusService(metrics);
  if (ready) {
    status.setWarming({
      modelDir: '/m',
      revision: 'abc',
      modelId: 'owner/model',
      dtype: 'q8',
      fidelity: 'fast',
      fingerprint: 'weights',
      inputSize: { width: 224, height: 224 },
      workers: 1,
      threadsPerWorker: 2,
    });
    status.setReady();
  }
  metricCalls.length = 0;
  const intake = {
    toModelInput: jest.fn(
      (_bytes: Buffer, size: { width: number; height: number }, _signal?: AbortSignal) => {
        calls.push('intake');
        return Promise.resolve({ rgb: RGB, ...size } as ModelInput);
      },
    ),
  };
  const result: ScheduledCaption = {
    text: 'a caption',
    tokenIds: [5, 6, 7, 8],
    confidence: 0.5,
    sequences: [
      { text: 'a caption', tokenIds: [5, 6, 7, 8], confidence: 0.5 },
      { text: 'another caption', tokenIds: [5, 9], confidence: 0.25 },
    ],
    encoderMs: 30,
    decodingMs: 40,
    batchImages: 2,
    queueMs: 10,
  };
  const scheduler = {
    submit: jest.fn(() => {
      calls.push('schedule');
      return Promise.resolve(result);
    }),
  };
  const cache = new CaptionCache({ cache: { maxEntries: cacheEntries } } as AppConfig);
  const service = new CaptionService(
    intake as unknown as ImageIntakeService,
    scheduler as unknown as CaptionScheduler,
    cache,
    status,
    metrics,
  );
  return { service, intake, scheduler, metricCalls, calls };
}

const signal = new AbortController().signal;
const ticket = () => ({ signal, deadlineAt: 12_345, leaveIntake: jest.fn() });

describe('CaptionService', () => {
  it('takes the image through intake and the scheduler, and maps the answer', async () => {
    const { service, intake, scheduler, calls } = setup();
    const options = decodingOptions({ numBeams: 2, maxNewTokens: 9 });
    const admission = ticket();
    admission.leaveIntake.mockImplementation(() => calls.push('left intake'));
    const response = await service.caption(IMAGE, options, admission);
    expect(intake.toModelInput).toHaveBeenCalledWith(IMAGE, { width: 224, height: 224 }, signal);
    expect(scheduler.submit).toHaveBeenCalledWith(RGB, options, signal, 12_345, undefined);
    // the intake slot is freed once decoded, before the engine queue
    expect(calls).toEqual(['intake', 'left intake', 'schedule']);
    expect(response).toMatchObject({
      caption: 'a caption',
      confidence: 0.5,
      captions: [
        { caption: 'a caption', confidence: 0.5 },
        { caption: 'another caption', confidence: 0.25 },
      ],
      model: { id: 'owner/model', revision: 'abc', dtype: 'q8' },
      decoding: { num_beams: 2, max_new_tokens: 9, min_new_tokens: 0, early_stopping: false },
      tokens: 4,
      cached: false,
      batch_images: 2,
      timings_ms: { queue_wait: 10, encoder: 30, decoding: 40 },
    });
    expect(response.timings_ms.total).toBeGreaterThanOrEqual(response.timings_ms.image_decode);
  });

  it('records the stages, tokens and outcome of a fresh caption', async () => {
    const { service, metricCalls } = setup();
    await service.caption(IMAGE, decodingOptions(), ticket());
    expect(metricCalls).toEqual([
      ['cache', false],
      ['stage', 'image_decode', expect.any(Number)],
      ['stage', 'queue_wait', 10],
      ['stage', 'encoder', 30],
      ['stage', 'decoding', 40],
      ['generatedTokens', 4],
      ['request', 'ok'],
    ]);
  });

  it('answers the same image and options from the cache, without intake or engine', async () => {
    const { service, calls, metricCalls } = setup();
    const first = await service.caption(IMAGE, decodingOptions(), ticket());
    metricCalls.length = 0;
    const admission = ticket();
    const again = await service.caption(Buffer.from(IMAGE), decodingOptions(), admission);
    expect(admission.leaveIntake).toHaveBeenCalledTimes(1);
    expect(calls).toEqual(['intake', 'schedule']);
    expect(again).toEqual({ ...first, cached: true, timings_ms: expect.any(Object) });
    // no stage ran for the cached answer: its timings say so
    expect(again.timings_ms).toEqual({
      image_decode: 0,
      queue_wait: 0,
      encoder: 0,
      decoding: 0,
      total: expect.any(Number),
    });
    expect(first.timings_ms.encoder).toBe(30);
    expect(metricCalls).toEqual([
      ['cache', true],
      ['request', 'cached'],
    ]);
    // other options are another entry
    await service.caption(IMAGE, decodingOptions({ numBeams: 1 }), ticket());
    expect(calls).toEqual(['intake', 'schedule', 'intake', 'schedule']);
  });

  it('neither looks up nor counts the cache when it is off', async () => {
    const { service, calls, metricCalls } = setup({ cacheEntries: 0 });
    await service.caption(IMAGE, decodingOptions(), ticket());
    await service.caption(IMAGE, decodingOptions(), ticket());
    expect(calls).toEqual(['intake', 'schedule', 'intake', 'schedule']);
    expect(metricCalls.filter(([name]) => name === 'cache')).toEqual([]);
  });

  it('refuses with not_ready before the model is warm, touching nothing', async () => {
    const { service, calls } = setup({ ready: false });
    const error = await service
      .caption(IMAGE, decodingOptions(), ticket())
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ProblemError);
    expect((error as ProblemError).code).toBe('not_ready');
    expect(calls).toEqual([]);
  });

  it('lets an intake problem through without scheduling or recording success', async () => {
    const { service, intake, scheduler, metricCalls } = setup();
    intake.toModelInput.mockRejectedValueOnce(new ProblemError('invalid_image', 'broken'));
    const admission = ticket();
    await expect(service.caption(IMAGE, decodingOptions(), admission)).rejects.toMatchObject({
      code: 'invalid_image',
    });
    expect(admission.leaveIntake).toHaveBeenCalledTimes(1);
    expect(scheduler.submit).not.toHaveBeenCalled();
    expect(metricCalls).toEqual([['cache', false]]);
  });
});
