/**
 * Inference worker thread: owns the ONNX Runtime sessions and the tokenizer, runs one batch at
 * a time, and never shares the HTTP thread's event loop, so health checks and metrics answer
 * while it computes.
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { parentPort, workerData } from 'node:worker_threads';
import { Gpt2Decoder } from '../model/gpt2-decoder';
import { optionsProblem } from '../decoding/sequence-search';
import { normalizePixels } from '../model/pixels';
import { generateBatch } from './batch-generator';
import { OnnxCaptionModel, gatherRows } from './onnx-caption-model';
import { EngineJob } from '../caption-engine';
import { HostMessage, WorkerInit, WorkerMessage } from './worker-protocol';

const port = parentPort;
if (!port) throw new Error('inference.worker must run as a worker thread');

const init = workerData as WorkerInit;

/**
 * Every decoder step hands back new output buffers (scores, the grown key/value cache) and the
 * previous ones become garbage at once, tens of MB a step. V8 collects them only when its own
 * small heap asks for it, so resident memory would climb by hundreds of MB within one batch.
 * A young-generation collection whenever the buffers outgrow a bound frees them (about 2 ms; a
 * full collection would take 25).
 */
setFlagsFromString('--expose-gc');
const collectGarbage = runInNewContext('gc') as (options?: { type: 'minor' | 'major' }) => void;
const GARBAGE_BOUND_BYTES = 64 * 1024 * 1024;
const boundGarbage = () => {
  if (process.memoryUsage().arrayBuffers > GARBAGE_BOUND_BYTES) collectGarbage({ type: 'minor' });
};
const send = (message: WorkerMessage, transfer: ArrayBuffer[] = []) =>
  port.postMessage(message, transfer);
const cancelled = new Set<string>();
const queue: EngineJob[][] = [];
let model: OnnxCaptionModel | undefined;
let tokenizer: Gpt2Decoder | undefined;
let running = false;

port.on('message', (message: HostMessage) => {
  switch (message.type) {
    case 'cancel':
      cancelled.add(message.id);
      return;
    case 'batch':
      queue.push(message.jobs);
      void drain();
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

/** Releases the native sessions before the thread ends; terminating under them aborts the process. */
async function dispose(): Promise<void> {
  queue.length = 0;
  while (running) await new Promise((resolve) => setTimeout(resolve, 5));
  await model?.release();
  model = undefined;
  send({ type: 'disposed' });
  port!.close();
}

async function start(): Promise<void> {
  model = await OnnxCaptionModel.load(init.prepared, init.threads);
  tokenizer = Gpt2Decoder.fromModelDir(init.prepared.modelDir);
  send({ type: 'ready' });
}

async function drain(): Promise<void> {
  if (running || !model || !tokenizer) return;
  running = true;
  try {
    for (let jobs = queue.shift(); jobs; jobs = queue.shift()) {
      await runBatch(model, tokenizer, jobs);
    }
  } finally {
    running = false;
  }
}

async function runBatch(
  loaded: OnnxCaptionModel,
  words: Gpt2Decoder,
  jobs: EngineJob[],
): Promise<void> {
  const live = jobs.filter((job) => {
    const problem = optionsProblem(job.options);
    if (problem) send({ type: 'failed', ids: [job.id], message: problem });
    else if (cancelled.delete(job.id)) send({ type: 'cancelled', id: job.id });
    else return true;
    return false;
  });
  try {
    if (live.length > 0) {
      const items = live.map((job) => ({
        id: job.id,
        pixels: normalizePixels(job.rgb, loaded.spec),
        options: job.options,
      }));
      await generateBatch(
        loaded,
        items,
        {
          isCancelled: (id) => cancelled.has(id),
          onCancelled: (id) => {
            cancelled.delete(id);
            send({ type: 'cancelled', id });
          },
          onResult: ({ id, sequences, ...timings }) => {
            cancelled.delete(id);
            const captions = sequences.map((s) => ({ ...s, text: words.decode(s.tokenIds) }));
            send({ type: 'result', id, ...captions[0], sequences: captions, ...timings });
          },
          // A macrotask turn, so that queued 'cancel' messages are handled between steps.
          yieldToEvents: () =>
            new Promise((resolve) => {
              boundGarbage();
              setImmediate(resolve);
            }),
        },
        gatherRows,
      );
    }
  } catch (error) {
    send({ type: 'failed', ids: live.map((j) => j.id), message: (error as Error).message });
  } finally {
    boundGarbage();
    send({ type: 'batch-done', images: live.length });
  }
}

start().catch((error: Error) => {
  // Surfaces as the worker's 'error' event on the host, with this message.
  throw error;
});
