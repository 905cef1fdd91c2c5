import { Worker } from 'node:worker_threads';
import { CaptionEngine, EngineInfo, EngineJob, EngineSink } from '../caption-engine';
import { ModelDtype } from '../model/model-spec';
import { PreparedModel } from '../prepared-model';
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
  workers: number;
  threadsPerWorker: number;
  log: (message: string) => void;
}

interface Slot {
  worker: Worker;
  busy: boolean;
  pending: Map<string, EngineSink>;
  batchDone?: () => void;
}

/**
 * Runs the ONNX engine in worker threads: each worker loads its own sessions and runs one batch
 * at a time with `threadsPerWorker` intra-op threads. This side only routes messages, so the
 * HTTP event loop never waits on ONNX Runtime.
 */
export class OnnxEngine implements CaptionEngine {
  private readonly workerSlots: Slot[] = [];
  private readonly owner = new Map<string, Slot>();
  private disposed = false;
  private prepared?: PreparedModel;

  constructor(private readonly options: OnnxEngineOptions) {}

  get slots(): number {
    return this.workerSlots.length;
  }

  async load(): Promise<EngineInfo> {
    const prepared = await this.options.prepare(await this.options.locateModel());
    this.prepared = prepared;
    await Promise.all(Array.from({ length: this.options.workers }, () => this.startWorker()));
    return {
      modelDir: prepared.modelDir,
      revision: this.options.revisionOf(prepared.modelDir),
      dtype: this.options.dtype,
      fingerprint: prepared.manifest.fingerprint,
      inputSize: prepared.spec.imageSize,
      workers: this.workerSlots.length,
      threadsPerWorker: this.options.threadsPerWorker,
    };
  }

  runBatch(jobs: EngineJob[], sink: EngineSink): Promise<void> {
    const slot = this.workerSlots.find((s) => !s.busy);
    if (!slot) return Promise.reject(new Error('no idle inference worker'));
    slot.busy = true;
    for (const job of jobs) {
      slot.pending.set(job.id, sink);
      this.owner.set(job.id, slot);
    }
    const done = new Promise<void>((resolve) => (slot.batchDone = resolve));
    const message: HostMessage = { type: 'batch', jobs };
    slot.worker.postMessage(
      message,
      jobs.map((j) => j.rgb.buffer as ArrayBuffer),
    );
    return done;
  }

  cancel(id: string): void {
    const slot = this.owner.get(id);
    if (slot) slot.worker.postMessage({ type: 'cancel', id } satisfies HostMessage);
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
    const init: WorkerInit = { prepared: this.prepared!, threads: this.options.threadsPerWorker };
    const worker: Worker = startWorker(__dirname, 'inference.worker', init);
    const slot: Slot = { worker, busy: false, pending: new Map() };
    return new Promise<void>((resolve, reject) => {
      let ready = false;
      worker.on('message', (message: WorkerMessage) => {
        if (message.type === 'ready') {
          ready = true;
          this.workerSlots.push(slot);
          resolve();
          return;
        }
        this.handle(slot, message);
      });
      worker.on('error', (error) => {
        if (!ready) reject(error);
        else this.failWorker(slot, error);
      });
      worker.on('exit', (code) => {
        if (!ready) {
          reject(new Error(`inference worker exited with code ${code} while loading the model`));
        } else if (!this.disposed) {
          this.failWorker(slot, new Error(`inference worker exited with code ${code}`));
        }
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
        return;
      }
      case 'cancelled':
        this.settle(slot, message.id)?.onCancelled(message.id);
        return;
      case 'failed':
        for (const id of message.ids) {
          this.settle(slot, id)?.onError(id, new Error(message.message));
        }
        return;
      case 'ready':
      case 'disposed':
        return;
      case 'batch-done':
        // Anything still pending was neither answered nor failed: a bug, not a silent loss.
        for (const id of [...slot.pending.keys()]) {
          this.settle(slot, id)?.onError(
            id,
            new Error('inference worker finished the batch without an answer'),
          );
        }
        slot.busy = false;
        slot.batchDone?.();
        return;
    }
  }

  private settle(slot: Slot, id: string): EngineSink | undefined {
    const sink = slot.pending.get(id);
    slot.pending.delete(id);
    this.owner.delete(id);
    return sink;
  }

  private failWorker(slot: Slot, error: Error): void {
    this.options.log(`inference worker failed: ${error.message}`);
    for (const id of [...slot.pending.keys()]) this.settle(slot, id)?.onError(id, error);
    const index = this.workerSlots.indexOf(slot);
    if (index >= 0) this.workerSlots.splice(index, 1);
    slot.busy = false;
    slot.batchDone?.();
    if (this.disposed) return;
    // Replace the lost worker so capacity recovers; if that fails too the engine has no slots
    // and readiness reports it.
    this.startWorker().catch((e: Error) =>
      this.options.log(`could not restart inference worker: ${e.message}`),
    );
  }
}
