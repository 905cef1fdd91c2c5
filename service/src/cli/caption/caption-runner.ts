import { setMaxListeners } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import { Attempt, Captioner } from './captioner';
import { CaptionRecord } from './caption-output';

export interface RunSettings {
  concurrency: number;
  retries: number;
  /** Longest single wait between attempts, whatever Retry-After says (seconds). */
  maxRetryWaitSeconds?: number;
  /** First backoff when the service gives no Retry-After (seconds; doubles per retry). */
  backoffSeconds?: number;
}

export interface RunHooks {
  /** Each image's final record, in completion order. */
  onRecord(record: CaptionRecord): void | Promise<void>;
  /** Told before each wait, for progress output. */
  onRetry?(path: string, waitSeconds: number, attempt: Attempt): void;
  signal?: AbortSignal;
  /** Injected in tests to keep them fast without changing the waits computed. */
  wait?: (seconds: number, signal?: AbortSignal) => Promise<void>;
}

export interface RunTotals {
  captioned: number;
  failed: number;
  retries: number;
}

/** Refusals that say "later", not "never": a full queue, a loading or draining service, a lost
 * connection. Everything else (a bad file, a bad option, a timeout) is final for that image. */
export function isRetryable(attempt: Attempt): boolean {
  if (attempt.ok) return false;
  const { status, code } = attempt.problem;
  return status === 429 || status === 503 || code === 'connection_failed';
}

/**
 * The wait before the next attempt: the service's Retry-After when it gave one, else an
 * exponential backoff; both capped.
 */
export function retryWaitSeconds(attempt: Attempt, retry: number, settings: RunSettings): number {
  const cap = settings.maxRetryWaitSeconds ?? 60;
  const given = attempt.ok ? undefined : attempt.retryAfterSeconds;
  const seconds = given ?? (settings.backoffSeconds ?? 1) * 2 ** retry;
  return Math.min(cap, Math.max(0, seconds));
}

/**
 * Captions `files` with at most `concurrency` in flight, retrying what the service asks to
 * retry at most `retries` times per image. Every image ends in exactly one record unless the
 * run is aborted, in which case images not finished get no record (a --resume picks them up).
 */
export async function captionFiles(
  files: string[],
  captioner: Captioner,
  settings: RunSettings,
  hooks: RunHooks,
): Promise<RunTotals> {
  const totals: RunTotals = { captioned: 0, failed: 0, retries: 0 };
  const wait = hooks.wait ?? ((s, signal) => sleep(s * 1000, undefined, { signal }));
  const signal = hooks.signal ?? new AbortController().signal;
  let next = 0;

  // Each attempt gets a signal of its own, linked to the run's and unlinked when it ends: every
  // stage of a caption (decode gate, intake, queue) listens to the signal it is given, so one
  // shared signal collected concurrency x stages listeners (Node warned at 11 with 4 lanes).
  // The run's signal then holds one link and one retry wait per lane at most.
  setMaxListeners(2 * settings.concurrency + 4, signal);
  const attemptOnce = async (path: string): Promise<Attempt> => {
    const own = new AbortController();
    const forward = (): void => own.abort(signal.reason);
    if (signal.aborted) forward();
    signal.addEventListener('abort', forward, { once: true });
    try {
      return await captioner.caption(path, own.signal);
    } finally {
      signal.removeEventListener('abort', forward);
    }
  };

  const one = async (path: string): Promise<CaptionRecord> => {
    for (let attempts = 1; ; attempts++) {
      const attempt = await attemptOnce(path);
      if (attempt.ok) return { path, attempts, answer: attempt.body };
      if (attempts > settings.retries || !isRetryable(attempt)) {
        return { path, attempts, problem: attempt.problem };
      }
      const seconds = retryWaitSeconds(attempt, attempts - 1, settings);
      totals.retries++;
      hooks.onRetry?.(path, seconds, attempt);
      await wait(seconds, signal);
    }
  };

  const lane = async (): Promise<void> => {
    while (next < files.length && !signal.aborted) {
      const path = files[next++];
      let record: CaptionRecord;
      try {
        record = await one(path);
      } catch (error) {
        if (signal.aborted) return;
        // Unreadable file (permissions, removed meanwhile): that file's problem, not the run's.
        record = {
          path,
          attempts: 1,
          problem: { status: 0, code: 'unreadable_file', detail: (error as Error).message },
        };
      }
      if (record.answer) totals.captioned++;
      else totals.failed++;
      await hooks.onRecord(record);
    }
  };

  await Promise.all(Array.from({ length: Math.min(settings.concurrency, files.length) }, lane));
  return totals;
}
