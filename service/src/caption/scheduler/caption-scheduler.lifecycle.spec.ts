import { OPTIONS, never, newScheduler, rgb, stopSchedulers } from '../../../test/support/scheduler';
import { WorkerLostError } from '../engine/caption-engine';
import { ClientClosedError } from './caption-scheduler.service';

/** What became of a promise by the next turn of the event loop: pending, resolved or rejected. */
const settled = async (promise: Promise<unknown>) => {
  let state = 'pending';
  promise.then(
    () => (state = 'resolved'),
    () => (state = 'rejected'),
  );
  await new Promise((r) => setImmediate(r));
  return state;
};

/** How accepted captions end other than answered: deadlines, disconnects, draining, failures. */
describe('CaptionScheduler: deadlines, disconnects, draining and failures', () => {
  afterEach(async () => {
    jest.useRealTimers();
    await stopSchedulers();
  });

  it('answers 504 at the deadline and drops a queued request before the engine sees it', async () => {
    jest.useFakeTimers();
    const { scheduler, engine, calls } = newScheduler({ timeoutMs: 1000 });
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
    const { scheduler, engine } = newScheduler({ timeoutMs: 1000 });
    const running = scheduler.submit(rgb(), OPTIONS, never());
    const id = engine.running[0].job.id;
    jest.advanceTimersByTime(1001);
    await expect(running).rejects.toMatchObject({ code: 'request_timeout' });
    expect(engine.cancelled).toEqual([id]);
  });

  it('removes a queued request whose client disconnected', async () => {
    const { scheduler, engine, calls, fire } = newScheduler();
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
    const { scheduler, engine } = newScheduler();
    const client = new AbortController();
    const gone = scheduler.submit(rgb(), OPTIONS, client.signal);
    const id = engine.running[0].job.id;
    client.abort();
    await expect(gone).rejects.toBeInstanceOf(ClientClosedError);
    expect(engine.cancelled).toEqual([id]);
  });

  it('on shutdown refuses new work at once and lets accepted work finish', async () => {
    const { scheduler, engine, status } = newScheduler({ shutdownMs: 10_000, maxBatch: 2 });
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
    const { scheduler } = newScheduler({ shutdownMs: 50 });
    const running = scheduler.submit(rgb(), OPTIONS, never());
    await scheduler.onModuleDestroy();
    await expect(running).rejects.toMatchObject({ code: 'draining' });
  });

  describe('when an inference worker is lost', () => {
    it('answers its captions 500 engine_failed and starts the queue on the replacement at once', async () => {
      const { scheduler, engine } = newScheduler();
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
      const { scheduler, engine, status } = newScheduler();
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
    const { scheduler, engine } = newScheduler();
    const answer = scheduler.submit(rgb(), OPTIONS, never());
    engine.fail(engine.running[0], new Error('onnxruntime exploded'));
    await expect(answer).rejects.toThrow('onnxruntime exploded');
  });
});
