import { getEventListeners } from 'node:events';
import { Attempt, Captioner } from './captioner';
import { CaptionRecord } from './caption-output';
import { captionFiles, isRetryable, retryWaitSeconds } from './caption-runner';

const ok = (caption: string): Attempt => ({ ok: true, body: { caption } });
const refused = (status: number, code: string, retryAfterSeconds?: number): Attempt => ({
  ok: false,
  problem: { status, code, detail: code },
  retryAfterSeconds,
});

/** Answers each file from a script of attempts, and records how many were in flight. */
class ScriptedCaptioner implements Captioner {
  calls: string[] = [];
  inFlight = 0;
  maxInFlight = 0;

  constructor(private readonly script: Record<string, Attempt[]>) {}

  async open(): Promise<void> {}
  async close(): Promise<void> {}

  async caption(file: string): Promise<Attempt> {
    this.calls.push(file);
    this.inFlight++;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    await new Promise((r) => setTimeout(r, 5));
    this.inFlight--;
    const next = this.script[file].shift();
    if (!next) throw new Error(`${file}: no more scripted answers`);
    return next;
  }
}

async function run(
  captioner: Captioner,
  files: string[],
  settings = { concurrency: 2, retries: 3 },
): Promise<{ records: CaptionRecord[]; waits: number[]; totals: unknown }> {
  const records: CaptionRecord[] = [];
  const waits: number[] = [];
  const totals = await captionFiles(files, captioner, settings, {
    onRecord: (r) => void records.push(r),
    wait: async (s) => void waits.push(s),
  });
  return { records, waits, totals };
}

describe('captionFiles', () => {
  it('waits what Retry-After says on 429, backs off on 503 without it, and succeeds', async () => {
    const captioner = new ScriptedCaptioner({
      a: [refused(429, 'queue_full', 7), refused(503, 'not_ready'), ok('a caption')],
    });
    const { records, waits, totals } = await run(captioner, ['a']);
    expect(waits).toEqual([7, 2]); // Retry-After 7 s, then 1 s doubled on the second retry
    expect(records).toEqual([{ path: 'a', attempts: 3, answer: { caption: 'a caption' } }]);
    expect(totals).toEqual({ captioned: 1, failed: 0, retries: 2 });
  });

  it('gives up after the allowed retries and reports the last problem', async () => {
    const captioner = new ScriptedCaptioner({
      a: Array.from({ length: 4 }, () => refused(429, 'queue_full', 1)),
    });
    const { records, totals } = await run(captioner, ['a'], { concurrency: 1, retries: 3 });
    expect(captioner.calls).toHaveLength(4);
    expect(records[0]).toMatchObject({ attempts: 4, problem: { status: 429, code: 'queue_full' } });
    expect(totals).toEqual({ captioned: 0, failed: 1, retries: 3 });
  });

  it('never retries a problem of the file itself', async () => {
    const captioner = new ScriptedCaptioner({
      bad: [refused(415, 'unsupported_media_type')],
      good: [ok('fine')],
    });
    const { records, waits } = await run(captioner, ['bad', 'good']);
    expect(waits).toEqual([]);
    expect(records.map((r) => [r.path, r.attempts, r.problem?.code ?? r.answer?.caption])).toEqual(
      expect.arrayContaining([
        ['bad', 1, 'unsupported_media_type'],
        ['good', 1, 'fine'],
      ]),
    );
  });

  it('keeps at most `concurrency` images in flight and gives every image one record', async () => {
    const files = Array.from({ length: 10 }, (_, i) => `f${i}`);
    const captioner = new ScriptedCaptioner(Object.fromEntries(files.map((f) => [f, [ok(f)]])));
    const { records } = await run(captioner, files, { concurrency: 3, retries: 0 });
    expect(captioner.maxInFlight).toBe(3);
    expect(records.map((r) => r.path).sort()).toEqual([...files].sort());
  });

  it('turns a file that cannot be read into that file’s problem', async () => {
    const captioner: Captioner = {
      open: async () => undefined,
      close: async () => undefined,
      caption: async () => {
        throw Object.assign(new Error("EACCES: permission denied, open 'x.jpg'"), {
          code: 'EACCES',
        });
      },
    };
    const { records } = await run(captioner, ['x.jpg']);
    expect(records[0].problem).toMatchObject({ code: 'unreadable_file', detail: /EACCES/ });
  });

  it('gives each attempt a signal of its own, aborted with the run, leaving none of its listeners', async () => {
    const run = new AbortController();
    const given: AbortSignal[] = [];
    const captioner: Captioner = {
      open: async () => undefined,
      close: async () => undefined,
      caption: async (file, signal) => {
        given.push(signal);
        // As the stages of a caption do: each listens to the signal it is given.
        for (let i = 0; i < 5; i++) signal.addEventListener('abort', () => undefined);
        if (file === 'last') {
          run.abort();
          throw new Error('aborted');
        }
        return ok(file);
      },
    };
    const files = [...Array.from({ length: 8 }, (_, i) => `f${i}`), 'last'];
    await captionFiles(
      files,
      captioner,
      { concurrency: 4, retries: 0 },
      {
        signal: run.signal,
        onRecord: () => undefined,
      },
    );
    expect(given).toHaveLength(9);
    expect(given).not.toContain(run.signal);
    expect(given.at(-1)?.aborted).toBe(true);
    expect(given.slice(0, 8).every((s) => !s.aborted)).toBe(true);
    expect(getEventListeners(run.signal, 'abort')).toHaveLength(0);
  });

  it('stops taking images when aborted, without records for the unfinished', async () => {
    const files = ['a', 'b', 'c', 'd'];
    const abort = new AbortController();
    const captioner = new ScriptedCaptioner(Object.fromEntries(files.map((f) => [f, [ok(f)]])));
    const records: CaptionRecord[] = [];
    await captionFiles(
      files,
      captioner,
      { concurrency: 1, retries: 0 },
      {
        signal: abort.signal,
        onRecord: (r) => {
          records.push(r);
          abort.abort();
        },
      },
    );
    expect(records.map((r) => r.path)).toEqual(['a']);
  });
});

describe('retry policy', () => {
  it('retries only "later" answers: 429, 503 and lost connections', () => {
    expect(isRetryable(refused(429, 'queue_full'))).toBe(true);
    expect(isRetryable(refused(503, 'draining'))).toBe(true);
    expect(isRetryable(refused(0, 'connection_failed'))).toBe(true);
    for (const [status, code] of [
      [400, 'validation_failed'],
      [413, 'image_too_large'],
      [422, 'invalid_image'],
      [500, 'internal_error'],
      [504, 'request_timeout'],
    ] as const) {
      expect(isRetryable(refused(status, code))).toBe(false);
    }
    expect(isRetryable(ok('x'))).toBe(false);
  });

  it('caps every wait, Retry-After included', () => {
    const settings = { concurrency: 1, retries: 9, maxRetryWaitSeconds: 30 };
    expect(retryWaitSeconds(refused(429, 'queue_full', 3600), 0, settings)).toBe(30);
    expect(retryWaitSeconds(refused(503, 'not_ready'), 0, settings)).toBe(1);
    expect(retryWaitSeconds(refused(503, 'not_ready'), 3, settings)).toBe(8);
    expect(retryWaitSeconds(refused(503, 'not_ready'), 8, settings)).toBe(30);
  });
});
