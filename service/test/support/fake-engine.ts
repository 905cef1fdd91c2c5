import {
  CaptionEngine,
  EngineCapacity,
  EngineInfo,
  EngineJob,
  EngineSink,
} from '../../src/caption/engine/caption-engine';

interface RunningBatch {
  jobs: EngineJob[];
  sink: EngineSink;
  finish(): void;
}

/**
 * An engine the test drives by hand: batches stay running until the test completes them, so
 * queueing, deadlines, cancellation and draining can be observed step by step.
 */
export class FakeEngine implements CaptionEngine {
  readonly batches: RunningBatch[] = [];
  readonly cancelled: string[] = [];
  disposed = false;
  /** Resolve load() only when the test says so (e.g. to observe readiness before warm-up). */
  loadGate?: Promise<void>;
  autoComplete = false;

  private current: EngineCapacity;
  private readonly listeners: ((capacity: EngineCapacity) => void)[] = [];

  constructor(slots = 1) {
    this.current = { ready: slots, starting: 0 };
  }

  get slots(): number {
    return this.current.ready;
  }

  get capacity(): EngineCapacity {
    return { ...this.current };
  }

  onCapacityChange(listener: (capacity: EngineCapacity) => void): void {
    this.listeners.push(listener);
  }

  /** Changes the workers as a crash or a replacement would, and tells the listeners. */
  setCapacity(capacity: EngineCapacity): void {
    this.current = { ...capacity };
    for (const listener of this.listeners) listener(this.capacity);
  }

  async load(): Promise<EngineInfo> {
    await this.loadGate;
    return {
      modelDir: '/fake-model',
      revision: 'local',
      dtype: 'q8',
      fingerprint: 'fake-model',
      inputSize: { width: 224, height: 224 },
      workers: this.slots,
      threadsPerWorker: 1,
    };
  }

  runBatch(jobs: EngineJob[], sink: EngineSink): Promise<void> {
    return new Promise<void>((finish) => {
      const batch = { jobs, sink, finish };
      this.batches.push(batch);
      if (this.autoComplete) this.complete(batch);
    });
  }

  cancel(id: string): void {
    this.cancelled.push(id);
    for (const batch of this.batches) {
      if (batch.jobs.some((j) => j.id === id)) batch.sink.onCancelled(id);
    }
  }

  /** Answers every job of a batch with a caption derived from its options, and frees the slot. */
  complete(batch = this.batches[this.batches.length - 1]): void {
    for (const job of batch.jobs) {
      const sequences = Array.from({ length: job.options.numReturnSequences ?? 1 }, (_, rank) => ({
        text: `caption ${rank + 1} of ${job.rgb.length} bytes with ${job.options.numBeams} beams`,
        tokenIds: [1, 2, 3 + rank],
        confidence: 0.5 / (rank + 1),
      }));
      batch.sink.onResult(job.id, {
        ...sequences[0],
        sequences,
        encoderMs: 1,
        decodingMs: 2,
        batchImages: batch.jobs.length,
      });
    }
    batch.finish();
  }

  async dispose(): Promise<void> {
    this.disposed = true;
  }
}
