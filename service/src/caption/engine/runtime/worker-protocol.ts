/**
 * Messages between the engine host (HTTP thread) and an inference worker thread, built from the
 * engine's own types (caption-engine.ts) so that a field added there reaches the wire.
 */
import { EngineJob, EngineResult } from '../caption-engine';
import { PreparedModel } from '../prepared-model';

export interface WorkerInit {
  prepared: PreparedModel;
  threads: number;
}

export type HostMessage =
  { type: 'batch'; jobs: EngineJob[] } | { type: 'cancel'; id: string } | { type: 'dispose' };

export type WorkerMessage =
  | { type: 'ready' }
  | { type: 'log'; message: string }
  | ({ type: 'result'; id: string } & EngineResult)
  | { type: 'cancelled'; id: string }
  | { type: 'failed'; ids: string[]; message: string }
  | { type: 'batch-done'; images: number }
  | { type: 'disposed' };
