/**
 * A CaptionScheduler on a FakeEngine for the scheduler's specs: the config overridden where a test
 * says, the metrics it records kept in `calls`, the model ready. Call stopSchedulers() after each
 * test so that no deadline timer outlives it.
 */
import { AppConfig } from '../../src/config/app-config';
import { CaptionMetrics } from '../../src/metrics/caption-metrics.service';
import { ModelStatusService } from '../../src/caption/model-status.service';
import { CaptionScheduler } from '../../src/caption/scheduler/caption-scheduler.service';
import { decodingOptions } from './decoding-options';
import { FakeEngine, engineInfo } from './fake-engine';

/** What a request that sets nothing gets. */
export const OPTIONS = decodingOptions();

/** An image's pixels as the engine takes them. */
export const rgb = () => new Uint8Array(224 * 224 * 3);

/** The signal of a client that never goes away. */
export const never = () => new AbortController().signal;

function metricsSpy() {
  const calls: Record<string, unknown[][]> = {};
  const record =
    (name: string) =>
    (...args: unknown[]) =>
      (calls[name] ??= []).push(args);
  const metrics = {
    queue: record('queue'),
    rejected: record('rejected'),
    batch: record('batch'),
    ready: record('ready'),
  } as unknown as CaptionMetrics;
  return { metrics, calls };
}

const schedulers: CaptionScheduler[] = [];

export function newScheduler(
  overrides: {
    queueMax?: number;
    maxBatch?: number;
    maxWaitMs?: number;
    timeoutMs?: number;
    room?: number;
    shutdownMs?: number;
  } = {},
) {
  const config = {
    queue: { max: overrides.queueMax ?? 4, requestTimeoutMs: overrides.timeoutMs ?? 10_000 },
    engine: { maxBatch: overrides.maxBatch ?? 8, maxWaitMs: overrides.maxWaitMs ?? 0 },
    shutdownTimeoutMs: overrides.shutdownMs ?? 0,
  } as AppConfig;
  const engine = new FakeEngine(overrides.room ?? 1);
  const { metrics, calls } = metricsSpy();
  const status = new ModelStatusService(metrics);
  status.setWarming({ ...engineInfo({ modelDir: '/m', revision: 'r' }), modelId: 'm' });
  status.setReady();
  const scheduler = new CaptionScheduler(config, engine, status, metrics);
  schedulers.push(scheduler);
  /** Submits without awaiting; the eventual answer is observed elsewhere or not at all. */
  const fire = (): void => void scheduler.submit(rgb(), OPTIONS, never()).catch(() => undefined);
  return { scheduler, engine, status, calls, config, fire };
}

/** Answers whatever the schedulers set up so far left waiting, and forgets them. */
export async function stopSchedulers(): Promise<void> {
  for (const scheduler of schedulers.splice(0)) {
    (scheduler as unknown as { config: AppConfig }).config.shutdownTimeoutMs = 0;
    await scheduler.onModuleDestroy();
  }
}
