/**
 * Messages between the engine host (HTTP thread) and an inference worker thread, built from the
 * engine's own types (caption-engine.ts) so that a field added there reaches the wire.
 */
import { EngineJob, EngineResult } from '../caption-engine';
import { Fidelity, PreparedModel } from '../prepared-model';

export interface WorkerInit {
  prepared: PreparedModel;
  threads: number;
  fidelity: Fidelity;
  spinning: boolean;
  /** See LoopBounds.joinBudgetMs. */
  joinBudgetMs: number;
  /** Honour 'test-crash' (specs of the failure paths only). */
  testHooks: boolean;
}

export type HostMessage =
  /**
   * Captions to join the running rows (those submitted in one turn come together, so their
   * encoders run together); the host keeps the rows per worker within bounds.
   */
  | { type: 'jobs'; jobs: EngineJob[] }
  | { type: 'cancel'; id: string }
  | { type: 'dispose' }
  /** Fail as a crash would: an uncaught error ('throw') or the thread ending ('exit'). */
  | { type: 'test-crash'; how: 'throw' | 'exit' };

export type WorkerMessage =
  | { type: 'ready' }
  | { type: 'log'; message: string }
  | ({ type: 'result'; id: string } & EngineResult)
  | { type: 'cancelled'; id: string }
  | { type: 'failed'; ids: string[]; message: string }
  | { type: 'disposed' };
