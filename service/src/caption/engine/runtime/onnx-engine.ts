import { Worker } from 'node:worker_threads';
import {
  CaptionEngine,
  DecodingOptions,
  EngineCapacity,
  EngineInfo,
  EngineJob,
  EngineSink,
  WorkerLostError,
} from '../caption-engine';
import { ModelDtype } from '../model/model-spec';
import { Fidelity, PreparedModel } from '../prepared-model';
import { startWorker } from '../worker-entry';
import { HostMessage, WorkerInit, WorkerMessage } from './worker-protocol';

export interface OnnxEngineOptions {
  /** Resolves the model folder (may download it first). */
  locateModel: () => Promise<string>;
  /** The hub commit the located folder holds ("local" when unknown). */
  revisionOf: (modelDir: string) => string;
  /** Finds or builds the prepared graphs of a model folder (the prepare side, injected). */
  prepare: (modelDir: string) => Promise<PreparedModel>;
  dtype: ModelDtype;
  fidelity: Fidelity;
  workers: number;
  threadsPerWorker: number;
  /** Let idle intra-op threads spin (ONNX Runtime's default); off gives the CPU back at once. */
  spinning: boolean;
  /** Most decoder rows (images x beams) a worker runs per step; one job always fits an idle worker. */
  maxRows: number;
  /** Most images a worker decodes at once. */
  maxImages: number;
  /** See LoopBounds.joinBudgetMs. */
  joinBudgetMs: number;
  log: (message: string) => void;
  /**
   * First wait before starting a replacement again after one failed to start; doubled per
   * failure up to 30 s. Default 1000.
   */
  restartBackoffMs?: number;
  /** Lets the host crash a worker on purpose (specs of the failure paths only). */
  testHooks?: boolean;
}

interface Slot {
  worker: Worker;
  /** Lost (error or exit): answered and replaced once, whichever event came first. */
  lost: boolean;
  /** Jobs on this worker not answered yet, with the rows each takes per step. */
  pending: Map<string, { sink: EngineSink; rows: number }>;
  rows: number;
  /** Jobs submitted in this turn, posted together at its end. */
  outbox: EngineJob[];
}

const MAX_RESTART_BACKOFF_MS = 30_000;

/**
 * Runs the ONNX engine in worker threads: each worker loads its own sessions and runs a decode
 * loop with `threadsPerWorker` intra-op threads, jobs joining its running rows between steps.
 * This side routes messages and keeps each worker within its rows and images bounds (a job goes
 * to the worker with the fewest rows), so the HTTP event loop never waits on ONNX Runtime.
 *
 * A worker that dies (an uncaught error, a native abort, or an exit) is replaced once: its
 * unanswered jobs get WorkerLostError at once, capacity listeners hear of the loss and again
 * when the replacement is ready (the scheduler pumps its queue then), and a replacement that
 * fails to start is tried again with a growing pause, so capacity comes back when the cause
 * goes away (while none is ready, readiness reports it).
 */
export class OnnxEngine implements CaptionEngine {
  private readonly workerSlots: Slot[] = [];
  private readonly owner = new Map<string, Slot>();
  private readonly listeners: ((capacity: EngineCapacity) => void)[] = [];
  private starting = 0;
  private disposed = false;
  private prepared?: PreparedModel;

  constructor(private readonly options: OnnxEngineOptions) {}

  get inFlight(): number {
    return this.owner.size;
  }

  get capacity(): EngineCapacity {
    return { ready: this.workerSlots.length, starting: this.starting };
  }

  onCapacityChange(listener: (capacity: EngineCapacity) => void): void {
    this.listeners.push(listener);
  }

  async load(): Promise<EngineInfo> {
    const prepared = await this.options.prepare(await this.options.locateModel());
    this.prepared = prepared;
    await Promise.all(Array.from({ length: this.options.workers }, () => this.startWorker()));
    return {
      modelDir: prepared.modelDir,
      revision: this.options.revisionOf(prepared.modelDir),
      dtype: this.options.dtype,
      fidelity: this.options.dtype === 'fp32' ? 'exact' : this.options.fidelity,
      fingerprint: prepared.manifest.fingerprint,
      inputSize: prepared.spec.imageSize,
      workers: this.workerSlots.length,
      threadsPerWorker: this.options.threadsPerWorker,
    };
  }

  hasRoomFor(options: DecodingOptions): boolean {
    return this.slotFor(options.numBeams) !== undefined;
  }

  submit(job: EngineJob, sink: EngineSink): void {
    const rows = job.options.numBeams;
    const slot = this.slotFor(rows);
    if (!slot) throw new Error('no inference worker has room for this job');
    slot.pending.set(job.id, { sink, rows });
    slot.rows += rows;
    this.owner.set(job.id, slot);
    if (slot.outbox.push(job) === 1) queueMicrotask(() => this.post(slot));
  }

  private post(slot: Slot): void {
    const jobs = slot.outbox.splice(0);
    if (slot.lost || jobs.length === 0) return;
    slot.worker.postMessage(
      { type: 'jobs', jobs } satisfies HostMessage,
      jobs.map((j) => j.rgb.buffer as ArrayBuffer),
    );
  }

  /** The ready worker with the fewest rows that has room for `rows` more. */
  private slotFor(rows: number): Slot | undefined {
    const { maxRows, maxImages } = this.options;
    const fits = (s: Slot) =>
      s.pending.size === 0 || (s.rows + rows <= maxRows && s.pending.size < maxImages);
    return this.workerSlots.filter(fits).sort((a, b) => a.rows - b.rows)[0];
  }

  cancel(id: string): void {
    const slot = this.owner.get(id);
    if (slot) slot.worker.postMessage({ type: 'cancel', id } satisfies HostMessage);
  }

  /** Test hook: makes a ready worker fail as a crash would (options.testHooks only). */
  crashWorker(index: number, how: 'throw' | 'exit'): void {
    if (!this.options.testHooks) throw new Error('OnnxEngine test hooks are off');
    this.workerSlots[index].worker.postMessage({ type: 'test-crash', how } satisfies HostMessage);
  }

  /** Lets each worker release its sessions and end; terminates one that does not within 10 s. */
  async dispose(): Promise<void> {
    this.disposed = true;
    await Promise.all(
      this.workerSlots.map(async ({ worker }) => {
        const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
        worker.postMessage({ type: 'dispose' } satisfies HostMessage);
        const timer = setTimeout(() => void worker.terminate(), 10_000);
        await exited;
        clearTimeout(timer);
      }),
    );
    this.workerSlots.length = 0;
  }

  private startWorker(): Promise<void> {
    const init: WorkerInit = {
      prepared: this.prepared!,
      threads: this.options.threadsPerWorker,
      fidelity: this.options.fidelity,
      spinning: this.options.spinning,
      joinBudgetMs: this.options.joinBudgetMs,
      testHooks: this.options.testHooks ?? false,
    };
    const worker: Worker = startWorker(__dirname, 'inference.worker', init);
    const slot: Slot = { worker, lost: false, pending: new Map(), rows: 0, outbox: [] };
    this.starting++;
    this.announce();
    return new Promise<void>((resolve, reject) => {
      let ready = false;
      const failedToStart = (error: Error) => {
        if (ready || slot.lost) return;
        slot.lost = true;
        this.starting--;
        this.announce();
        void worker.terminate();
        reject(error);
      };
      worker.on('message', (message: WorkerMessage) => {
        if (message.type === 'ready') {
          ready = true;
          this.starting--;
          if (this.disposed) {
            // Disposed while it loaded: nobody will dispose it later.
            worker.postMessage({ type: 'dispose' } satisfies HostMessage);
          } else {
            this.workerSlots.push(slot);
          }
          this.announce();
          resolve();
          return;
        }
        this.handle(slot, message);
      });
      worker.on('error', (error) =>
        ready ? this.lose(slot, error.message) : failedToStart(error),
      );
      worker.on('exit', (code) => {
        const reason = `exit code ${code}`;
        if (!ready) failedToStart(new Error(`inference worker ${reason} while loading the model`));
        else if (!this.disposed) this.lose(slot, reason);
      });
    });
  }

  private handle(slot: Slot, message: WorkerMessage): void {
    switch (message.type) {
      case 'log':
        this.options.log(message.message);
        return;
      case 'result': {
        const { type: _type, id, ...result } = message;
        this.settle(slot, id)?.onResult(id, result);
        break;
      }
      case 'cancelled':
        this.settle(slot, message.id)?.onCancelled(message.id);
        break;
      case 'failed':
        for (const id of message.ids) {
          this.settle(slot, id)?.onError(id, new Error(message.message));
        }
        break;
      case 'ready':
      case 'disposed':
        return;
    }
    // Room freed: the scheduler may feed the next job.
    this.announce();
  }

  private settle(slot: Slot, id: string): EngineSink | undefined {
    const entry = slot.pending.get(id);
    if (!entry) return undefined;
    slot.pending.delete(id);
    slot.rows -= entry.rows;
    this.owner.delete(id);
    return entry.sink;
  }

  /** A ready worker is gone: answer its jobs, free its slot, replace it (once per worker). */
  private lose(slot: Slot, reason: string): void {
    if (slot.lost) return;
    slot.lost = true;
    this.options.log(`inference worker failed (${reason}); starting a replacement`);
    const error = new WorkerLostError(reason);
    const index = this.workerSlots.indexOf(slot);
    if (index >= 0) this.workerSlots.splice(index, 1);
    for (const id of [...slot.pending.keys()]) this.settle(slot, id)?.onError(id, error);
    void slot.worker.terminate();
    // Starting the replacement announces the new capacity (this worker gone, one starting).
    if (this.disposed) this.announce();
    else this.replace(0);
  }

  private replace(failures: number): void {
    this.startWorker().catch((error: Error) => {
      if (this.disposed) return;
      const base = this.options.restartBackoffMs ?? 1000;
      const waitMs = Math.min(MAX_RESTART_BACKOFF_MS, base * 2 ** failures);
      this.options.log(
        `could not start a replacement inference worker (${error.message}); trying again in ${waitMs} ms`,
      );
      setTimeout(() => {
        if (!this.disposed) this.replace(failures + 1);
      }, waitMs).unref();
    });
  }

  private announce(): void {
    const capacity = this.capacity;
    for (const listener of this.listeners) listener(capacity);
  }
}
