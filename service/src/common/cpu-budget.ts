import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { cgroupFolders } from './cgroup';

/**
 * CPUs this process may use: the affinity mask (os.availableParallelism) capped by the tightest
 * cgroup CPU quota over its own cgroup and those above it (see cgroupFolders). Node 20's
 * availableParallelism does not read the quota, and oversubscribing ONNX Runtime threads under a
 * CFS quota costs throttled, stalled steps.
 */
export function cpuBudget(
  readFile: (path: string) => string = (p) => readFileSync(p, 'utf8'),
): number {
  const cpus = availableParallelism();
  const { v2, v1 } = cgroupFolders(readFile, 'cpu');
  const quotas = [
    ...v2.map((dir) => v2Quota(readFile, dir)),
    ...v1.map((dir) => v1Quota(readFile, dir)),
  ].filter((quota): quota is number => quota !== undefined);
  return quotas.length ? Math.max(1, Math.min(cpus, Math.floor(Math.min(...quotas)))) : cpus;
}

/** cpu.max: "<quota> <period>", or "max <period>" for none. */
function v2Quota(readFile: (path: string) => string, dir: string): number | undefined {
  try {
    const [max, period] = readFile(`${dir}/cpu.max`).trim().split(/\s+/);
    return max === 'max' ? undefined : Number(max) / Number(period);
  } catch {
    return undefined; // not cgroup v2, or not visible here
  }
}

/** cpu.cfs_quota_us / cpu.cfs_period_us; a quota of -1 is none. */
function v1Quota(readFile: (path: string) => string, dir: string): number | undefined {
  try {
    const quota = Number(readFile(`${dir}/cpu.cfs_quota_us`).trim());
    const period = Number(readFile(`${dir}/cpu.cfs_period_us`).trim());
    return quota > 0 && period > 0 ? quota / period : undefined;
  } catch {
    return undefined;
  }
}
