/**
 * Inference worker thread: owns the ONNX Runtime sessions and the tokenizer, runs the decode
 * loop (images join and leave between steps), and never shares the HTTP thread's event loop, so
 * health checks and metrics answer while it computes.
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { parentPort, workerData } from 'node:worker_threads';
import { EngineJob } from '../caption-engine';
import { optionsProblem } from '../decoding/sequence-search';
import { Gpt2Decoder } from '../model/gpt2-decoder';
import { normalizePixels } from '../model/pixels';
import { DecodeLoop } from './decode-loop';
import { OnnxCaptionModel } from './onnx-caption-model';
import { HostMessage, WorkerInit, WorkerMessage } from './worker-protocol';

const port = parentPort;
if (!port) throw new Error('inference.worker must run as a worker thread');

const init = workerData as WorkerInit;

/**
 * Every decoder step hands back new output buffers (scores, the grown key/value cache) and the
 * previous ones become garbage at once, tens of MB a step. V8 collects them only when its own
 * small heap asks for it, so resident memory would climb by hundreds of MB within one caption.
 * A young-generation collection whenever the buffers outgrow a bound frees them (about 2 ms; a
 * full collection would take 25).
 */
setFlagsFromString('--expose-gc');
const collectGarbage = runInNewContext('gc') as (options?: { type: 'minor' | 'major' }) => void;
const GARBAGE_BOUND_BYTES = 64 * 1024 * 1024;
const boundGarbage = () => {
  if (process.memoryUsage().arrayBuffers > GARBAGE_BOUND_BYTES) collectGarbage({ type: 'minor' });
};
const send = (message: WorkerMessage) => port.postMessage(message);
const cancelled = new Set<string>();
const early: EngineJob[] = [];
let model: OnnxCaptionModel | undefined;
let loop: DecodeLoop | undefined;
let running = false;
let disposing = false;

port.on('message', (message: HostMessage) => {
  switch (message.type) {
    case 'cancel':
      cancelled.add(message.id);
      return;
    case 'jobs':
      message.jobs.forEach(accept);
      void drive();
      return;
    case 'dispose':
      void dispose();
      return;
    case 'test-crash':
      if (!init.testHooks) return;
      if (message.how === 'exit') process.exit(70);
      // Thrown from a timer, outside any handler: what an uncaught bug looks like.
      setTimeout(() => {
        throw new Error('test crash');
      });
      return;
  }
});

function accept(job: EngineJob): void {
  if (!loop || !model) {
    early.push(job);
    return;
  }
  const problem = optionsProblem(job.options);
  if (problem) {
    send({ type: 'failed', ids: [job.id], message: problem });
    return;
  }
  loop.add({ id: job.id, pixels: normalizePixels(job.rgb, model.spec), options: job.options });
}

/** Steps while there is work; a macrotask turn between steps lets 'job' and 'cancel' in. */
async function drive(): Promise<void> {
  if (running || !loop) return;
  running = true;
  try {
    while (!loop.idle && !disposing) {
      await loop.runOnce();
      boundGarbage();
      await new Promise((resolve) => setImmediate(resolve));
    }
  } finally {
    running = false;
  }
}

/** Releases the native sessions before the thread ends; terminating under them aborts the process. */
async function dispose(): Promise<void> {
  disposing = true;
  while (running) await new Promise((resolve) => setTimeout(resolve, 5));
  await model?.release();
  model = undefined;
  send({ type: 'disposed' });
  port!.close();
}

async function start(): Promise<void> {
  const loaded = await OnnxCaptionModel.load(init.prepared, {
    threads: init.threads,
    fidelity: init.fidelity,
    spinning: init.spinning,
  });
  const words = Gpt2Decoder.fromModelDir(init.prepared.modelDir);
  model = loaded;
  loop = new DecodeLoop(
    loaded,
    {
      isCancelled: (id) => cancelled.has(id),
      onCancelled: (id) => {
        cancelled.delete(id);
        send({ type: 'cancelled', id });
      },
      onFailed: (ids, error) => {
        ids.forEach((id) => cancelled.delete(id));
        send({ type: 'failed', ids, message: error.message });
      },
      onResult: ({ id, sequences, ...timings }) => {
        cancelled.delete(id);
        const captions = sequences.map((s) => ({ ...s, text: words.decode(s.tokenIds) }));
        send({ type: 'result', id, ...captions[0], sequences: captions, ...timings });
      },
    },
    { joinBudgetMs: init.joinBudgetMs },
  );
  send({ type: 'ready' });
  early.splice(0).forEach(accept);
  void drive();
}

start().catch((error: Error) => {
  // Surfaces as the worker's 'error' event on the host, with this message.
  throw error;
});
