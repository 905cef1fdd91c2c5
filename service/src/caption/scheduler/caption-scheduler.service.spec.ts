import { problemOf } from '../../../test/support/problems';
import { OPTIONS, never, newScheduler, rgb, stopSchedulers } from '../../../test/support/scheduler';
import { ProblemError } from '../../common/problem/problem.error';
import { CaptionMetrics } from '../../metrics/caption-metrics.service';
import { ModelStatusService } from '../model-status.service';
import { CaptionScheduler } from './caption-scheduler.service';

/** How captions get in: the queue, its refusals, the rooms held for a batch, the feed. */
describe('CaptionScheduler', () => {
  afterEach(async () => {
    jest.useRealTimers();
    await stopSchedulers();
  });

  it('starts one request at once on an idle engine and answers it', async () => {
    const { scheduler, engine } = newScheduler();
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
    const { scheduler, engine, calls } = newScheduler({ room: 3, queueMax: 10 });
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
    const { engine, fire } = newScheduler({ room: 4, maxBatch: 4, maxWaitMs: 20 });
    fire();
    fire();
    expect(engine.running).toHaveLength(0);
    jest.advanceTimersByTime(25);
    expect(engine.running).toHaveLength(2); // together, in one turn
    fire(); // the engine is busy: this one joins at once
    expect(engine.running).toHaveLength(3);
  });

  it('answers 429 with Retry-After at once when the queue is full', async () => {
    const { scheduler, calls, fire } = newScheduler({ queueMax: 2 });
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
    const { scheduler, fire } = newScheduler({ queueMax: 1 });
    fire(); // running
    fire();
    expect(() => scheduler.submit(rgb(), OPTIONS, never())).toThrow(
      '1 caption is already waiting.',
    );
  });

  it('gives Retry-After from queue depth and the recent time per image', async () => {
    const { scheduler, engine, fire } = newScheduler({ queueMax: 100, timeoutMs: 100_000 });
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
    const { scheduler, fire } = newScheduler({ queueMax: 100, timeoutMs: 3000 }); // 1 s per image until measured
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
      const { scheduler, fire } = newScheduler({ queueMax: 4 });
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
      const { scheduler, engine, fire } = newScheduler({ queueMax: 3 });
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
      const { scheduler, fire } = newScheduler({ queueMax: 2 });
      fire(); // running
      const room = scheduler.reserveRoom(1, performance.now() + 10_000);
      void scheduler.submit(rgb(), OPTIONS, never(), undefined, room).catch(() => undefined);
      fire();
      expect(() => scheduler.submit(rgb(), OPTIONS, never(), undefined, room)).toThrow(
        '2 captions are already waiting.',
      );
    });

    it('refuses a batch that would not finish by its deadline at the recent pace, even alone', () => {
      const { scheduler } = newScheduler({ queueMax: 100 });
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
    const { scheduler, status, config, engine, calls } = newScheduler();
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
});
