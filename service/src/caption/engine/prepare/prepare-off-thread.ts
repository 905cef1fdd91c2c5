import { ModelDtype } from '../model/model-spec';
import { PreparedModel } from '../prepared-model';
import { startWorker } from '../worker-entry';
import { findQuickly } from './prepared-cache';

export interface PrepareRequest {
  modelDir: string;
  dtype: ModelDtype;
  /** Where prepared graphs go when the model folder is read-only. */
  fallbackCacheDir: string;
}

export type PrepareReply =
  | { type: 'log'; message: string }
  | { type: 'done'; prepared: PreparedModel }
  | { type: 'failed'; message: string };

/**
 * findOrPrepare without blocking the calling thread: the usual case (a valid set beside the
 * model, checked by size and mtime) is answered here; anything that needs hashing or preparing
 * runs in prepare.worker.
 */
export async function prepareOffThread(
  request: PrepareRequest,
  log: (message: string) => void,
): Promise<PreparedModel> {
  const quick = await findQuickly(request.modelDir, request.dtype);
  if (quick) return quick;
  const worker = startWorker(__dirname, 'prepare.worker', request);
  return new Promise<PreparedModel>((resolve, reject) => {
    let settled = false;
    worker.on('message', (reply: PrepareReply) => {
      switch (reply.type) {
        case 'log':
          log(reply.message);
          return;
        case 'done':
          settled = true;
          resolve(reply.prepared);
          return;
        case 'failed':
          settled = true;
          reject(new Error(reply.message));
          return;
      }
    });
    worker.on('error', (error) => {
      settled = true;
      reject(error);
    });
    worker.on('exit', (code) => {
      const why = `model preparation ended (exit code ${code}) without a result`;
      if (!settled) reject(new Error(why));
    });
  });
}
