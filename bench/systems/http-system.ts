/** The load profile every HTTP system gets: closed loop at 1/4/16 clients, then open loop. */
import {
  ClosedLoopResult,
  ImageFile,
  Latency,
  OpenLoopResult,
  Target,
  closedLoop,
  openLoop,
  percentile,
  probeLiveness,
  singleStream,
} from '../http/load';
import { log } from '../processes';
import { CONCURRENCY, OPEN_LOOP_FRACTIONS } from '../settings';

export interface HttpSystemResult extends LoadProfile {
  name: string;
  /** What the system said about itself (e.g. the dtype it serves). */
  detail: string;
  coldStartSeconds: number;
  peakRssMb: number;
  single: { beams4: Latency; greedy: Latency };
  overload?: OpenLoopResult;
}

export interface LoadProfile {
  closedLoop: ClosedLoopResult[];
  /** Best closed-loop throughput (captions/s, 4 beams): the open-loop rates are fractions of it. */
  capacity: number;
  livenessP99Ms: number;
  livenessMaxMs: number;
  openLoop: { fraction: number; result: OpenLoopResult }[];
  /** What went differently from the plan (printed with the results). */
  notes: string[];
}

/**
 * Waits until the system is idle again after a closed-loop phase: requests the load generator
 * left in flight keep a server that does not cancel them (the seed) busy, and would otherwise
 * be billed to the next phase. Idle = one caption answered within 1.5x the single-stream p50.
 */
async function settle(target: Target, images: ImageFile[], p50: number): Promise<boolean> {
  const started = performance.now();
  // Bounded so that a machine too busy to ever look idle still ends the run (and says so).
  while (performance.now() - started < SETTLE_LIMIT_SECONDS * 1000) {
    const one = await singleStream(target, images, 4, 1);
    if (one.p50 <= 1.5 * p50 + 0.2) return true;
  }
  return false;
}

const SETTLE_LIMIT_SECONDS = 300;

export async function loadProfile(
  target: Target,
  images: ImageFile[],
  seconds: { closed: number; open: number },
  singleStreamP50: number,
): Promise<LoadProfile> {
  const results: ClosedLoopResult[] = [];
  const notes: string[] = [];
  let liveness: number[] = [];
  for (const connections of CONCURRENCY) {
    const busiest = connections === Math.max(...CONCURRENCY);
    const probe = busiest ? probeLiveness(target) : undefined;
    const result = await closedLoop(target, images, 4, { connections, seconds: seconds.closed });
    if (probe) liveness = await probe.stop();
    log(
      `${target.name}: ${connections} clients: ${result.throughput.toFixed(2)} captions/s, ` +
        `statuses ${JSON.stringify(result.statuses)}, errors ${result.errors}`,
    );
    results.push(result);
    if (!(await settle(target, images, singleStreamP50))) {
      notes.push(
        `still busy ${SETTLE_LIMIT_SECONDS} s after the ${connections}-client phase: the next phase started anyway`,
      );
      log(`${target.name}: ${notes[notes.length - 1]}`);
    }
  }
  const capacity = Math.max(...results.map((r) => r.throughput));
  const open: LoadProfile['openLoop'] = [];
  for (const fraction of OPEN_LOOP_FRACTIONS) {
    if (!(capacity > 0)) {
      log(
        `${target.name}: no caption completed in the closed loop: no capacity to offer a fraction of`,
      );
      break;
    }
    const result = await openLoop(target, images, 4, {
      rate: fraction * capacity,
      seconds: seconds.open,
      arrivals: 'poisson',
    });
    log(
      `${target.name}: open loop at ${(fraction * 100).toFixed(0)}% of capacity ` +
        `(${result.offeredRate.toFixed(2)}/s, ${result.sent} sent): p50 ${result.latency.p50.toFixed(2)} s, ` +
        `p95 ${result.latency.p95.toFixed(2)} s, p99 ${result.latency.p99.toFixed(2)} s, ` +
        `statuses ${JSON.stringify(result.statuses)}, socket errors ${result.socketErrors}`,
    );
    open.push({ fraction, result });
  }
  return {
    closedLoop: results,
    capacity,
    livenessP99Ms: percentile(liveness, 99),
    livenessMaxMs: Math.max(...liveness),
    openLoop: open,
    notes,
  };
}
