import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';

/**
 * Starts `<dir>/<name>.js` as a worker thread, or the TypeScript source under ts-node/ts-jest
 * (tests and `ts-node` scripts run the sources; the build runs the compiled files).
 */
export function startWorker(dir: string, name: string, workerData: unknown): Worker {
  const js = join(dir, `${name}.js`);
  if (existsSync(js)) return new Worker(js, { workerData });
  return new Worker(join(dir, `${name}.ts`), {
    workerData,
    execArgv: ['--require', 'ts-node/register/transpile-only'],
  });
}
