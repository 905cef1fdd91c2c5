/**
 * /health/live polled from a thread of its own, as a kubelet probes from outside the pod: the
 * stress run's main thread is busy writing 112 uploads of up to 18.8 MB, and a probe on that
 * event loop measures the client's own delays along with the service's.
 */
import { Worker } from 'node:worker_threads';

// Plain JavaScript for the worker (no ts-node in the thread): poll every 20 ms until told to stop.
const PROBE = `
const { parentPort, workerData } = require('node:worker_threads');
const samples = [];
let running = true;
parentPort.on('message', () => { running = false; });
(async () => {
  while (running) {
    const started = performance.now();
    try {
      const response = await fetch(workerData.url);
      await response.arrayBuffer();
      samples.push(performance.now() - started);
    } catch {
      samples.push(Infinity);
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  parentPort.postMessage(samples);
})();
`;

/** Starts polling `url`; stop() resolves with every probe's milliseconds (Infinity: failed). */
export function probeLivenessOffThread(url: string): { stop(): Promise<number[]> } {
  const worker = new Worker(PROBE, { eval: true, workerData: { url } });
  const done = new Promise<number[]>((resolve, reject) => {
    worker.once('message', (samples: number[]) => resolve(samples));
    worker.once('error', reject);
  });
  return {
    async stop() {
      worker.postMessage('stop');
      const samples = await done;
      await worker.terminate();
      return samples;
    },
  };
}
