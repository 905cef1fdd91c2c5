import { FakeEngine, engineInfo } from '../../../test/support/fake-engine';
import { decodingOptions } from '../../../test/support/decoding-options';
import { problemOf } from '../../../test/support/problems';
import { AppConfig } from '../../config/app-config';
import { ProblemError } from '../../common/problem/problem.error';
import { CaptionMetrics } from '../../metrics/caption-metrics.service';
import { WorkerLostError } from '../engine/caption-engine';
import { ModelStatusService } from '../model-status.service';
import { CaptionScheduler, ClientClosedError } from './caption-scheduler.service';

/** What a request that sets nothing gets. */
const OPTIONS = decodingOptions();

function metricsSpy() {
  const calls: Record<string, unknown[][]> = {};
  const record =
    (name: string) =>
    (...args: unknown[]) =>
      (calls[name] ??= []).push(args);
  const metrics = {
    queue: record('queue'),
    rejected: record('rejected'),
    batch: record('batch'),
    ready: record('ready'),
  } as unknown as CaptionMetrics;
  return { metrics, calls };
}

function setup(
  overrides: {
    queueMax?: number;
    maxBatch?: number;
    maxWaitMs?: number;
    timeoutMs?: number;
    room?: number;
    shutdownMs?: number;
  } = {},
) {
  const config = {
    queue: { max: overrides.queueMax ?? 4, requestTimeoutMs: overrides.timeoutMs ?? 10_000 },
    engine: { maxBatch: overrides.maxBatch ?? 8, maxWaitMs: overrides.maxWaitMs ?? 0 },
    shutdownTimeoutMs: overrides.shutdownMs ?? 0,
  } as AppConfig;
  const engine = new FakeEngine(overrides.room ?? 1);
  const { metrics, calls } = metricsSpy();
  const status = new ModelStatusService(metrics);
  status.setWarming({ ...engineInfo({ modelDir: '/m', revision: 'r' }), modelId: 'm' });
  status.setReady();
  const scheduler = new CaptionScheduler(config, engine, status, metrics);
  schedulers.push(scheduler);
  /** Submits without awaiting; the eventual answer is observed elsewhere or not at all. */
  const fire = (): void => void scheduler.submit(rgb(), OPTIONS, never()).catch(() => undefined);
  return { scheduler, engine, status, calls, config, fire };
}

const schedulers: CaptionScheduler[] = [];

const rgb = () => new Uint8Array(224 * 224 * 3);
const never = () => new AbortController().signal;
const settled = async (promise: Promise<unknown>) => {
  let state = 'pending';
  promise.then(
    () => (state = 'resolved'),
    () => (state = 'rejected'),
  );
  await new Promise((r) => setImmediate(r));
  return state;
};

describe('CaptionScheduler', () => {
  afterEach(async () => {
    jest.useRealTimers();
    // Answer whatever a test left waiting, so no deadline timer outlives it.
    for (const scheduler of schedulers.splice(0)) {
      (scheduler as unknown as { config: AppConfig }).config.shutdownTimeoutMs = 0;
      await scheduler.onModuleDestroy();
    }
  });

  it('starts one request at once on an idle engine and answers it', async () => {
    const { scheduler, engine } = setup();
    const answer = scheduler.submit(rgb(), OPTIONS, never());
    expect(engine.running).toHaveLength(1);
    engine.complete();
    await expect(answer).resolves.toMatchObject({
      text: expect.stringContaining('4 beams'),
      batchImages: 1,
      sequences: [expect.objectContaining({ confidence: 0.5 })],
    });
  });

  it('feeds the engine whenever it has room, in queue order (continuous batching)', async () => {
    const { scheduler, engine, calls } = setup({ room: 3, queueMax: 10 });
    const answers = Array.from({ length: 5 }, () => scheduler.submit(rgb(), OPTIONS, never()));
    expect(engine.running).toHaveLength(3);
    expect(scheduler.depth).toBe(2);
    const order = engine.submitted.map((j) => j.id);
    engine.complete(engine.running[1], 3); // any running caption may finish first
    // Its room goes to the next waiting caption at once, without waiting for the others.
    expect(engine.running).toHaveLength(3);
    expect(scheduler.depth).toBe(1);
    while (engine.running.length > 0) engine.complete(undefined, 3);
    const results = await Promise.all(answers);
    expect(engine.submitted.map((j) => j.id).slice(0, 3)).toEqual(order);
    expect(engine.submitted).toHaveLength(5);
    expect(results.every((r) => r.batchImages === 3)).toBe(true);
    expect(calls.batch.map(([n]) => n)).toEqual([3, 3, 3, 3, 3]);
  });

  it('waits up to ENGINE_MAX_WAIT_MS for company only while the engine is idle', async () => {
    jest.useFakeTimers();
    const { engine, fire } = setup({ room: 4, maxBatch: 4, maxWaitMs: 20 });
    fire();
    fire();
    expect(engine.running).toHaveLength(0);
    jest.advanceTimersByTime(25);
    expect(engine.running).toHaveLength(2); // together, in one turn
    fire(); // the engine is busy: this one joins at once
    expect(engine.running).toHaveLength(3);
  });

  it('answers 429 with Retry-After at once when the queue is full', async () => {
    const { scheduler, calls, fire } = setup({ queueMax: 2 });
    fire(); // running
    fire();
    fire();
    let error: unknown;
    try {
      void scheduler.submit(rgb(), OPTIONS, never());
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ProblemError);
    expect((error as ProblemError).code).toBe('queue_full');
    expect((error as ProblemError).detail).toBe('2 captions are already waiting.');
    expect(Number((error as ProblemError).extras.headers?.['Retry-After'])).toBeGreaterThanOrEqual(
      1,
    );
    expect(calls.rejected).toContainEqual(['queue_full']);
  });

  it('counts one waiting caption in the singular', () => {
    const { scheduler, fire } = setup({ queueMax: 1 });
    fire(); // running
    fire();
    expect(() => scheduler.submit(rgb(), OPTIONS, never())).toThrow(
      '1 caption is already waiting.',
    );
  });

  it('gives Retry-After from queue depth and the recent time per image', async () => {
    const { scheduler, engine, fire } = setup({ queueMax: 100, timeoutMs: 100_000 });
    const now = jest.spyOn(performance, 'now');
    let clock = 0;
    now.mockImplementation(() => clock);
    fire();
    for (let i = 0; i < 10; i++) fire();
    clock = 3000; // the running caption took 3 s, alone in the engine
    engine.complete();
    now.mockRestore();
    // seconds per image now 0.8 * 1 + 0.2 * 3 = 1.4; the next one started, 9 wait
    expect(scheduler.depth).toBe(9);
    expect(scheduler.retryAfterSeconds()).toBe(Math.ceil(9 * (0.8 * 1 + 0.2 * 3)));
  });

  it('refuses at once (429) what would only time out in the queue', async () => {
    const { scheduler, fire } = setup({ queueMax: 100, timeoutMs: 3000 }); // 1 s per image until measured
    fire(); // runs at once
    fire(); // 1 s in the queue + 1 s of its own: accepted
    fire(); // 2 s + 1 s: just within the 3 s deadline
    expect(scheduler.depth).toBe(2);
    // 3 s + 1 s: over the deadline
    let error: unknown;
    try {
      void scheduler.submit(rgb(), OPTIONS, never());
    } catch (e) {
      error = e;
    }
    expect(error).toMatchObject({
      code: 'queue_full',
      detail: expect.stringContaining('REQUEST_TIMEOUT_MS'),
    });
  });

  describe('rooms held for a batch', () => {
    it('refuses a batch as a whole when the queue cannot hold all of it', () => {
      const { scheduler, fire } = setup({ queueMax: 4 });
      fire(); // running
      fire(); // waiting
      const problem = problemOf(() => scheduler.reserveRoom(4, performance.now() + 10_000));
      expect(problem).toMatchObject({
        code: 'queue_full',
        detail:
          "1 caption is already waiting; the queue (QUEUE_MAX 4) has room for 3 of this batch's 4 images.",
      });
      expect(Number(problem.extras.headers?.['Retry-After'])).toBeGreaterThanOrEqual(1);
      expect(scheduler.reserveRoom(3, performance.now() + 10_000)).toBeDefined();
    });

    it('counts held places as waiting: others are refused, the batch files are not', async () => {
      const { scheduler, engine, fire } = setup({ queueMax: 3 });
      fire(); // running
      const room = scheduler.reserveRoom(3, performance.now() + 10_000);
      expect(scheduler.expectedWaitSeconds()).toBe(3); // 1 s per image until measured
      expect(() => scheduler.submit(rgb(), OPTIONS, never())).toThrow(
        '3 captions are already waiting.',
      );
      const first = scheduler.submit(rgb(), OPTIONS, never(), undefined, room);
      const second = scheduler.submit(rgb(), OPTIONS, never(), undefined, room);
      expect(scheduler.depth).toBe(2);
      // One image of the batch was answered from the cache: its place is given back.
      room.release();
      expect(scheduler.expectedWaitSeconds()).toBe(2);
      fire(); // takes the freed place
      expect(scheduler.depth).toBe(3);
      for (let i = 0; i < 4; i++) engine.complete();
      await expect(Promise.all([first, second])).resolves.toHaveLength(2);
    });

    it('a used-up room checks like any submit', () => {
      const { scheduler, fire } = setup({ queueMax: 2 });
      fire(); // running
      const room = scheduler.reserveRoom(1, performance.now() + 10_000);
      void scheduler.submit(rgb(), OPTIONS, never(), undefined, room).catch(() => undefined);
      fire();
      expect(() => scheduler.submit(rgb(), OPTIONS, never(), undefined, room)).toThrow(
        '2 captions are already waiting.',
      );
    });

    it('refuses a batch that would not finish by its deadline at the recent pace, even alone', () => {
      const { scheduler } = setup({ queueMax: 100 });
      // 1 s per image until measured: 5 images and the pace margin take 6 s.
      const alone = problemOf(() => scheduler.reserveRoom(5, performance.now() + 5_500));
      expect(alone).toMatchObject({ code: 'queue_full' });
      expect(alone.detail).toBe(
        '0 captions are waiting; at the recent pace this batch of 5 images (send fewer) would not finish within REQUEST_TIMEOUT_MS.',
      );
      expect(scheduler.reserveRoom(5, performance.now() + 6_500)).toBeDefined();
    });
  });

  it('refuses with 503 while the model is not ready, or (on arrival) while draining', () => {
    const { scheduler, status, config, engine, calls } = setup();
    const loading = new CaptionScheduler(config, engine, new ModelStatusService(calls as never), {
      rejected: () => undefined,
      queue: () => undefined,
    } as unknown as CaptionMetrics);
    expect(() => loading.submit(rgb(), OPTIONS, never())).toThrow(
      expect.objectContaining({ code: 'not_ready' }),
    );
    status.setDraining();
    expect(() => scheduler.assertAccepting()).toThrow(
      expect.objectContaining({ code: 'not_ready' }),
    );
  });

  it('answers 504 at the deadline and drops a queued request before the engine sees it', async () => {
    jest.useFakeTimers();
    const { scheduler, engine, calls } = setup({ timeoutMs: 1000 });
    const busy = scheduler.warmUp(rgb(), OPTIONS); // occupies the engine, no deadline of its own
    const queued = scheduler.submit(rgb(), OPTIONS, never());
    jest.advanceTimersByTime(1001);
    await expect(queued).rejects.toMatchObject({ code: 'request_timeout', status: 504 });
    expect(scheduler.depth).toBe(0);
    engine.complete();
    await busy;
    expect(engine.submitted).toHaveLength(1); // the expired request never ran
    expect(calls.rejected).toContainEqual(['timeout']);
  });

  it('cancels a running request at its deadline; the engine drops it at the next step', async () => {
    jest.useFakeTimers();
    const { scheduler, engine } = setup({ timeoutMs: 1000 });
    const running = scheduler.submit(rgb(), OPTIONS, never());
    const id = engine.running[0].job.id;
    jest.advanceTimersByTime(1001);
    await expect(running).rejects.toMatchObject({ code: 'request_timeout' });
    expect(engine.cancelled).toEqual([id]);
  });

  it('removes a queued request whose client disconnected', async () => {
    const { scheduler, engine, calls, fire } = setup();
    fire();
    const client = new AbortController();
    const gone = scheduler.submit(rgb(), OPTIONS, client.signal);
    expect(scheduler.depth).toBe(1);
    client.abort();
    await expect(gone).rejects.toBeInstanceOf(ClientClosedError);
    expect(scheduler.depth).toBe(0);
    expect(calls.rejected).toContainEqual(['client_closed']);
    engine.complete();
    expect(engine.submitted).toHaveLength(1);
  });

  it('cancels a running request whose client disconnected', async () => {
    const { scheduler, engine } = setup();
    const client = new AbortController();
    const gone = scheduler.submit(rgb(), OPTIONS, client.signal);
    const id = engine.running[0].job.id;
    client.abort();
    await expect(gone).rejects.toBeInstanceOf(ClientClosedError);
    expect(engine.cancelled).toEqual([id]);
  });

  it('on shutdown refuses new work at once and lets accepted work finish', async () => {
    const { scheduler, engine, status } = setup({ shutdownMs: 10_000, maxBatch: 2 });
    const running = scheduler.submit(rgb(), OPTIONS, never());
    const queued = scheduler.submit(rgb(), OPTIONS, never());
    const drained = scheduler.onModuleDestroy();
    expect(status.isReady).toBe(false);
    expect(() => scheduler.assertAccepting()).toThrow(
      expect.objectContaining({ code: 'draining' }),
    );
    // A request admitted before the drain began (still uploading then) may still join.
    const late = scheduler.submit(rgb(), OPTIONS, never());
    expect(await settled(drained)).toBe('pending');
    engine.complete();
    await running;
    // Room for one job: the queued caption starts when room frees, then the late one.
    await new Promise((r) => setImmediate(r));
    engine.complete();
    await queued;
    await new Promise((r) => setImmediate(r));
    engine.complete();
    await late;
    await expect(drained).resolves.toBeUndefined();
  });

  it('answers what is left with 503 when draining times out', async () => {
    const { scheduler } = setup({ shutdownMs: 50 });
    const running = scheduler.submit(rgb(), OPTIONS, never());
    await scheduler.onModuleDestroy();
    await expect(running).rejects.toMatchObject({ code: 'draining' });
  });

  describe('when an inference worker is lost', () => {
    it('answers its captions 500 engine_failed and starts the queue on the replacement at once', async () => {
      const { scheduler, engine } = setup();
      const running = scheduler.submit(rgb(), OPTIONS, never());
      const queued = scheduler.submit(rgb(), OPTIONS, never());
      // What OnnxEngine does when a worker dies: a replacement starts, the job fails.
      engine.setCapacity({ ready: 0, starting: 1 });
      engine.fail(engine.running[0], new WorkerLostError('exit code 1'));
      await expect(running).rejects.toMatchObject({
        code: 'engine_failed',
        status: 500,
        detail: expect.stringContaining('may be sent again'),
      });
      expect(engine.submitted).toHaveLength(1); // no worker: it waits
      expect(scheduler.depth).toBe(1);
      engine.setCapacity({ ready: 1, starting: 0 });
      expect(engine.submitted).toHaveLength(2); // started by the replacement being ready
      engine.complete();
      await expect(queued).resolves.toMatchObject({ batchImages: 1 });
    });

    it('is not ready (503) while no worker can serve, and says whether one is starting', () => {
      const { scheduler, engine, status } = setup();
      engine.setCapacity({ ready: 0, starting: 1 });
      expect(status.isReady).toBe(false);
      // Admission refuses; a request admitted before the loss may still queue for the replacement.
      expect(() => scheduler.assertAccepting()).toThrow(
        expect.objectContaining({
          code: 'not_ready',
          detail: expect.stringContaining('a replacement is starting'),
        }),
      );
      engine.setCapacity({ ready: 0, starting: 0 });
      expect(() => scheduler.assertAccepting()).toThrow(
        expect.objectContaining({ detail: expect.stringContaining('none could be started') }),
      );
      engine.setCapacity({ ready: 1, starting: 0 });
      expect(status.isReady).toBe(true);
      expect(() => scheduler.assertAccepting()).not.toThrow();
    });
  });

  it('reports engine failures to the waiting request', async () => {
    const { scheduler, engine } = setup();
    const answer = scheduler.submit(rgb(), OPTIONS, never());
    engine.fail(engine.running[0], new Error('onnxruntime exploded'));
    await expect(answer).rejects.toThrow('onnxruntime exploded');
  });
});
