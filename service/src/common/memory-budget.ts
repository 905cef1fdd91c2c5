import { readFileSync } from 'node:fs';
import { totalmem } from 'node:os';
import { cgroupFolders } from './cgroup';

/** cgroup v1 reports "no limit" as a page-rounded 2^63; anything this large is no limit. */
const UNLIMITED = 2 ** 60;

/**
 * Bytes of memory this process may use: the smallest cgroup memory limit over its own cgroup and
 * the cgroups above it (v2 memory.max, v1 memory.limit_in_bytes; see cgroupFolders), capped by
 * the machine's RAM. The same reading the CPU budget does for the CPU quota: without it a pod
 * limited to 2 GiB on a 64 GiB node would size its buffers for 64 GiB and be OOM-killed. The
 * stress run found the service sizing its buffers for the machine's 24 GiB inside a 2 GiB cgroup
 * when only the root files were read.
 */
export function memoryBudget(
  readFile: (path: string) => string = (p) => readFileSync(p, 'utf8'),
  ram = totalmem(),
): number {
  const { v2, v1 } = cgroupFolders(readFile, 'memory');
  const limits = [
    ...v2.map((dir) => `${dir}/memory.max`),
    ...v1.map((dir) => `${dir}/memory.limit_in_bytes`),
  ]
    .map((path) => limitAt(path, readFile))
    .filter((bytes): bytes is number => bytes !== undefined);
  return Math.min(ram, ...limits);
}

function limitAt(path: string, readFile: (path: string) => string): number | undefined {
  try {
    const value = readFile(path).trim();
    if (value === 'max') return undefined;
    const bytes = Number(value);
    return Number.isFinite(bytes) && bytes > 0 && bytes < UNLIMITED ? bytes : undefined;
  } catch {
    return undefined; // not this cgroup version, or not visible here
  }
}
