import { readFileSync } from 'node:fs';
import { totalmem } from 'node:os';

/** cgroup v1 reports "no limit" as a page-rounded 2^63; anything this large is no limit. */
const UNLIMITED = 2 ** 60;

/**
 * Bytes of memory this process may use: the smallest cgroup memory limit over its own cgroup and
 * the cgroups above it (v2 memory.max, v1 memory.limit_in_bytes), capped by the machine's RAM.
 * The same reading the CPU budget does for the CPU quota: without it a pod limited to 2 GiB on a
 * 64 GiB node would size its buffers for 64 GiB and be OOM-killed. In a pod the cgroup namespace
 * makes the container's cgroup the root (/sys/fs/cgroup/memory.max); outside one (a systemd
 * slice, or the stress benchmark's cgroup) the limit sits at the path /proc/self/cgroup names,
 * which the root files do not show: the stress run found the service sizing its buffers for the
 * machine's 24 GiB inside a 2 GiB cgroup.
 */
export function memoryBudget(
  readFile: (path: string) => string = (p) => readFileSync(p, 'utf8'),
  ram = totalmem(),
): number {
  const limits = limitFiles(readFile)
    .map((path) => limitAt(path, readFile))
    .filter((bytes): bytes is number => bytes !== undefined);
  return Math.min(ram, ...limits);
}

const V2_ROOT = '/sys/fs/cgroup';
const V1_ROOT = '/sys/fs/cgroup/memory';

/** Every file that may hold a limit on this process: its own cgroup's, its ancestors', the root's. */
function limitFiles(readFile: (path: string) => string): string[] {
  const files = [`${V2_ROOT}/memory.max`, `${V1_ROOT}/memory.limit_in_bytes`];
  let own = '';
  try {
    own = readFile('/proc/self/cgroup');
  } catch {
    return files;
  }
  // Lines are "0::/path" (v2) or "4:memory:/path" (v1); the path may itself hold colons.
  for (const line of own.split('\n')) {
    const [, controllers, ...rest] = line.split(':');
    const path = rest.join(':');
    if (!path.startsWith('/')) continue;
    const v1 = controllers.split(',').includes('memory');
    if (!v1 && controllers !== '') continue;
    const [root, file] = v1 ? [V1_ROOT, 'memory.limit_in_bytes'] : [V2_ROOT, 'memory.max'];
    for (let dir = path; dir !== '/' && dir !== ''; dir = dir.slice(0, dir.lastIndexOf('/'))) {
      files.push(`${root}${dir}/${file}`);
    }
  }
  return files;
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
