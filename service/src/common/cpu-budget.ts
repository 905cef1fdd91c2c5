import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';

/**
 * CPUs this process may use: the affinity mask (os.availableParallelism) capped by the cgroup
 * CPU quota a container limit sets. Node 20's availableParallelism does not read the quota, and
 * oversubscribing ONNX Runtime threads under a CFS quota costs throttled, stalled steps.
 */
export function cpuBudget(
  readFile: (path: string) => string = (p) => readFileSync(p, 'utf8'),
): number {
  const cpus = availableParallelism();
  const quota = cgroupQuota(readFile);
  return quota === undefined ? cpus : Math.max(1, Math.min(cpus, Math.floor(quota)));
}

function cgroupQuota(readFile: (path: string) => string): number | undefined {
  try {
    const [max, period] = readFile('/sys/fs/cgroup/cpu.max').trim().split(/\s+/);
    if (max !== 'max') return Number(max) / Number(period);
    return undefined;
  } catch {
    // cgroup v1
  }
  try {
    const quota = Number(readFile('/sys/fs/cgroup/cpu/cpu.cfs_quota_us').trim());
    const period = Number(readFile('/sys/fs/cgroup/cpu/cpu.cfs_period_us').trim());
    return quota > 0 && period > 0 ? quota / period : undefined;
  } catch {
    return undefined;
  }
}
