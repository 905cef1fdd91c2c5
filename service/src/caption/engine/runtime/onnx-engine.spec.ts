/**
 * OnnxEngine with real worker threads on the tiny model: results travel back with their ranked
 * sequences, and a worker that dies is answered for and replaced exactly once, also when
 * starting the replacement fails for a while.
 */
import { renameSync, rmSync } from 'node:fs';
import { decodingOptions } from '../../../../test/support/decoding-options';
import { TINY_MODEL, copyModel, referencePixels } from '../../../../test/support/fixtures';
import {
  EngineCapacity,
  EngineJob,
  EngineResult,
  EngineSink,
  WorkerLostError,
} from '../caption-engine';
import { DecodingOptions } from '../decoding/decoding-options';
import { findOrPrepare } from '../prepare/model-preparer';
import { OnnxEngine } from './onnx-engine';

const OPTIONS = decodingOptions({ maxNewTokens: 64, minNewTokens: 64, numBeams: 4 });

type Outcome = { result: EngineResult } | { error: Error } | { cancelled: true };

/** Collects how each job was answered (each must be answered exactly once). */
function collector() {
  const outcomes = new Map<string, Outcome[]>();
  const waiters: (() => void)[] = [];
  const add = (id: string, outcome: Outcome) => {
    outcomes.set(id, [...(outcomes.get(id) ?? []), outcome]);
    waiters.splice(0).forEach((wake) => wake());
  };
  const sink: EngineSink = {
    onResult: (id, result) => add(id, { result }),
    onError: (id, error) => add(id, { error }),
    onCancelled: (id) => add(id, { cancelled: true }),
  };
  /** Submits the jobs and resolves once every one of them is answered. */
  const run = async (engine: OnnxEngine, jobs: EngineJob[]) => {
    for (const job of jobs) engine.submit(job, sink);
    while (!jobs.every((j) => outcomes.has(j.id))) {
      await new Promise<void>((wake) => waiters.push(wake));
    }
  };
  return { outcomes, sink, run };
}

async function job(id: string, options: Partial<DecodingOptions> = {}): Promise<EngineJob> {
  return { id, rgb: (await referencePixels('china')).slice(), options: { ...OPTIONS, ...options } };
}

async function until(condition: () => boolean, timeoutMs = 30_000): Promise<void> {
  const started = Date.now();
  while (!condition()) {
    if (Date.now() - started > timeoutMs) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('OnnxEngine (worker threads, tiny model)', () => {
  let dir: string;
  let engine: OnnxEngine;
  let stepPath: string;
  const events: EngineCapacity[] = [];
  const logs: string[] = [];

  beforeAll(async () => {
    dir = copyModel(TINY_MODEL);
    engine = new OnnxEngine({
      locateModel: () => Promise.resolve(dir),
      revisionOf: () => 'local',
      prepare: async (modelDir) => {
        const prepared = await findOrPrepare(modelDir, 'fp32', dir, () => undefined);
        stepPath = prepared.stepPath;
        return prepared;
      },
      dtype: 'fp32',
      fidelity: 'exact',
      workers: 1,
      threadsPerWorker: 1,
      spinning: false,
      maxRows: 64,
      maxImages: 8,
      joinBudgetMs: 100,
      log: (m) => logs.push(m),
      restartBackoffMs: 50,
      testHooks: true,
    });
    engine.onCapacityChange((c) => events.push(c));
    await engine.load();
  });

  afterAll(async () => {
    await engine?.dispose();
    rmSync(dir, { recursive: true, force: true });
  });

  beforeEach(() => {
    events.length = 0;
    logs.length = 0;
  });

  it('answers with the ranked sequences, their text and confidence', async () => {
    const { outcomes, run } = collector();
    await run(engine, [
      await job('a', { maxNewTokens: 8, minNewTokens: 0, numReturnSequences: 3 }),
    ]);
    const [outcome] = outcomes.get('a')!;
    expect(outcome).toHaveProperty('result');
    const { result } = outcome as { result: EngineResult };
    expect(result.sequences).toHaveLength(3);
    expect(result.sequences[0]).toEqual({
      text: result.text,
      tokenIds: result.tokenIds,
      confidence: result.confidence,
    });
    for (const s of result.sequences) {
      expect(s.text.length).toBeGreaterThan(0);
      expect(s.confidence).toBeGreaterThan(0);
      expect(s.confidence).toBeLessThanOrEqual(1);
    }
  });

  it('fails only the job whose options no search accepts', async () => {
    const { outcomes, run } = collector();
    const jobs = [
      await job('bad', { numBeams: 2, numReturnSequences: 3 }),
      await job('good', { maxNewTokens: 4, minNewTokens: 0 }),
    ];
    await run(engine, jobs);
    expect((outcomes.get('bad')![0] as { error: Error }).error.message).toMatch(
      /numReturnSequences must be an integer from 1 to numBeams \(2\), got 3/,
    );
    expect(outcomes.get('good')![0]).toHaveProperty('result');
  });

  it.each(['throw', 'exit'] as const)(
    'a worker that dies mid-batch (%s): its jobs get WorkerLostError, one replacement starts',
    async (how) => {
      const { outcomes, run } = collector();
      const answered = run(engine, [await job('x'), await job('y')]);
      engine.crashWorker(0, how);
      await answered; // at once, not at some deadline
      for (const id of ['x', 'y']) {
        expect(outcomes.get(id)).toHaveLength(1);
        expect((outcomes.get(id)![0] as { error: Error }).error).toBeInstanceOf(WorkerLostError);
      }
      expect(engine.capacity).toEqual({ ready: 0, starting: 1 });
      await until(() => engine.capacity.ready === 1);
      // Give a second replacement (the bug: one per 'error' and one per 'exit') time to show.
      await new Promise((resolve) => setTimeout(resolve, 1500));
      expect(engine.capacity).toEqual({ ready: 1, starting: 0 });
      expect(events.filter((e) => e.starting > 0)).toHaveLength(1);
      expect(events[events.length - 1]).toEqual({ ready: 1, starting: 0 });
      const after = collector();
      await after.run(engine, [await job('z', { maxNewTokens: 3, minNewTokens: 0 })]);
      expect(after.outcomes.get('z')![0]).toHaveProperty('result');
    },
  );

  it('keeps trying to start a replacement that fails, and recovers when the cause goes away', async () => {
    renameSync(stepPath, `${stepPath}.away`);
    try {
      engine.crashWorker(0, 'exit');
      await until(
        () => logs.filter((m) => m.includes('could not start a replacement')).length >= 2,
      );
      expect(engine.capacity.ready).toBe(0);
      expect(events.some((e) => e.ready === 0 && e.starting === 0)).toBe(true);
    } finally {
      renameSync(`${stepPath}.away`, stepPath);
    }
    await until(() => engine.capacity.ready === 1);
    const { outcomes, run } = collector();
    await run(engine, [await job('after', { maxNewTokens: 3, minNewTokens: 0 })]);
    expect(outcomes.get('after')![0]).toHaveProperty('result');
  });
});
