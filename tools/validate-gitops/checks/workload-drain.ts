import { type GitopsCheck } from '../context';
import { containersOf, envValue } from '../lookups';

export const workloadDrainCheck: GitopsCheck = {
  id: 'workload-drain',
  title:
    'containers: a preStop pause, and a grace period above the pause plus the service drain timeout (SHUTDOWN_TIMEOUT_MS)',
  run(ctx) {
    const problems: string[] = [];
    for (const { id, container: c, podSpec: ps } of containersOf(ctx)) {
      const pre = c.lifecycle?.preStop;
      const preStopSeconds =
        pre?.sleep?.seconds ??
        Number(/sleep\s+(\d+)/.exec((pre?.exec?.command ?? []).join(' '))?.[1] ?? NaN);
      if (!pre) {
        problems.push(
          `${id}: no lifecycle.preStop pause; endpoints may still route to the pod after SIGTERM`,
        );
      } else if (!Number.isFinite(preStopSeconds)) {
        problems.push(`${id}: lifecycle.preStop must be a sleep of a known length`);
      }
      const shutdownS = Number(envValue(c, 'SHUTDOWN_TIMEOUT_MS')) / 1000;
      const grace = ps.terminationGracePeriodSeconds ?? 30;
      const needed = shutdownS + (Number.isFinite(preStopSeconds) ? preStopSeconds : 0);
      if (!(grace > needed)) {
        problems.push(
          `${id}: terminationGracePeriodSeconds ${grace} must exceed preStop (${preStopSeconds || 0}s) + SHUTDOWN_TIMEOUT_MS (${shutdownS}s) = ${needed}s`,
        );
      }
    }
    return problems;
  },
};
