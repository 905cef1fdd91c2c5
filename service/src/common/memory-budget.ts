import { readFileSync } from 'node:fs';
import { totalmem } from 'node:os';

/** cgroup v1 reports "no limit" as a page-rounded 2^63; anything this large is no limit. */
const UNLIMITED = 2 ** 60;

/**
 * Bytes of memory this process may use: the cgroup memory limit a container sets (v2
 * memory.max, else v1 memory.limit_in_bytes), capped by the machine's RAM. The same reading the
 * CPU budget does for the CPU quota: without it a pod limited to 2 GiB on a 64 GiB node would
 * size its buffers for 64 GiB and be OOM-killed.
 */
export function memoryBudget(
  readFile: (path: string) => string = (p) => readFileSync(p, 'utf8'),
  ram = totalmem(),
): number {
  const limit = cgroupLimit(readFile);
  return limit === undefined ? ram : Math.min(ram, limit);
}

function cgroupLimit(readFile: (path: string) => string): number | undefined {
  for (const path of ['/sys/fs/cgroup/memory.max', '/sys/fs/cgroup/memory/memory.limit_in_bytes']) {
    try {
      const value = readFile(path).trim();
      if (value === 'max') return undefined;
      const bytes = Number(value);
      return Number.isFinite(bytes) && bytes > 0 && bytes < UNLIMITED ? bytes : undefined;
    } catch {
      // not this cgroup version
    }
  }
  return undefined;
}
