import {
  CaptionEngine,
  DecodingOptions,
  EngineCapacity,
  EngineInfo,
  EngineJob,
  EngineSink,
} from '../../src/caption/engine/caption-engine';

/**
 * What an engine reports once loaded: FakeEngine's unpinned model folder, served under its name
 * (/fake-model, revision 'local'), with the fields a test cares about overridden.
 */
export function engineInfo(overrides: Partial<EngineInfo> = {}): EngineInfo {
  return {
    modelDir: '/fake-model',
    revision: 'local',
    dtype: 'q8',
    fidelity: 'fast',
    fingerprint: 'fake-model',
    inputSize: { width: 224, height: 224 },
    workers: 1,
    threadsPerWorker: 1,
    ...overrides,
  };
}

export interface RunningJob {
  job: EngineJob;
  sink: EngineSink;
}

/**
 * An engine the test drives by hand: jobs stay running until the test completes them, so
 * queueing, deadlines, cancellation and draining can be observed step by step. It has room for
 * `room` jobs at once (the rows bound of a real engine, counted in jobs) while a worker is ready.
 */
export class FakeEngine implements CaptionEngine {
  /** Jobs submitted and not answered yet, in submission order. */
  readonly running: RunningJob[] = [];
  /** Every job ever submitted, in order. */
  readonly submitted: EngineJob[] = [];
  readonly cancelled: string[] = [];
  disposed = false;
  /** Resolve load() only when the test says so (e.g. to observe readiness before warm-up). */
  loadGate?: Promise<void>;
  autoComplete = false;
  private current: EngineCapacity = { ready: 1, starting: 0 };
  private readonly listeners: ((capacity: EngineCapacity) => void)[] = [];

  constructor(readonly room = 1) {}

  get capacity(): EngineCapacity {
    return { ...this.current };
  }

  get inFlight(): number {
    return this.running.length;
  }

  onCapacityChange(listener: (capacity: EngineCapacity) => void): void {
    this.listeners.push(listener);
  }

  /** Changes the workers as a crash or a replacement would, and tells the listeners. */
  setCapacity(capacity: EngineCapacity): void {
    this.current = { ...capacity };
    this.announce();
  }

  async load(): Promise<EngineInfo> {
    await this.loadGate;
    return engineInfo();
  }

  hasRoomFor(_options: DecodingOptions): boolean {
    return this.current.ready > 0 && this.running.length < this.room;
  }

  submit(job: EngineJob, sink: EngineSink): void {
    if (!this.hasRoomFor(job.options)) throw new Error('FakeEngine: no room');
    const running = { job, sink };
    this.running.push(running);
    this.submitted.push(job);
    if (this.autoComplete) this.complete(running);
  }

  cancel(id: string): void {
    this.cancelled.push(id);
    const running = this.running.find((r) => r.job.id === id);
    if (running) this.settle(running, (sink) => sink.onCancelled(id));
  }

  /** Answers a job (the oldest by default) with captions derived from its options. */
  complete(running = this.running[0], batchImages = 1): void {
    const { job } = running;
    const sequences = Array.from({ length: job.options.numReturnSequences ?? 1 }, (_, rank) => ({
      text: `caption ${rank + 1} of ${job.rgb.length} bytes with ${job.options.numBeams} beams`,
      tokenIds: [1, 2, 3 + rank],
      confidence: 0.5 / (rank + 1),
    }));
    this.settle(running, (sink) =>
      sink.onResult(job.id, {
        ...sequences[0],
        sequences,
        encoderMs: 1,
        decodingMs: 2,
        batchImages,
      }),
    );
  }

  /** Answers a job with an error, as a failed engine would. */
  fail(running: RunningJob, error: Error): void {
    this.settle(running, (sink) => sink.onError(running.job.id, error));
  }

  /** Forgets every running job without answering it (a test that ends early). */
  abandonAll(): void {
    this.running.length = 0;
  }

  async dispose(): Promise<void> {
    this.disposed = true;
  }

  private settle(running: RunningJob, answer: (sink: EngineSink) => void): void {
    const index = this.running.indexOf(running);
    if (index < 0) return;
    this.running.splice(index, 1);
    answer(running.sink);
    this.announce();
  }

  private announce(): void {
    for (const listener of this.listeners) listener(this.capacity);
  }
}
