/**
 * The pod's memory limit imposed on a process here, the way the kubelet imposes it: a child
 * cgroup of our own with a hard limit, so exceeding it is an OOM kill, as in the cluster.
 * cgroup v2 (memory.max) when the unified hierarchy has the memory controller, else cgroup v1
 * (memory.limit_in_bytes); without either the run says the limit was not imposed.
 * (systemd-run --scope -p MemoryMax= does the same through systemd, which needs systemd as
 * init; writing the cgroup directly works wherever we may create one.)
 */
import { existsSync, mkdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { memoryBudget, ownCgroups } from '../engine-api';

export interface MemoryCage {
  kind: 'cgroup v2' | 'cgroup v1' | 'none';
  path?: string;
  limitBytes: number;
  /** Why there is no cage, when there is none. */
  reason?: string;
  /** Command and arguments that run `cmd args` inside the cage. */
  wrap(cmd: string, args: string[]): { cmd: string; args: string[] };
  /** The cgroup's own peak charge (page cache included), when the kernel keeps one. */
  peakBytes(): number | undefined;
  oomKills(): number | undefined;
  dispose(): void;
}

function read(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

/** Our own cgroup in a hierarchy (the service's parser of /proc/self/cgroup). */
function ownCgroup(version: 'v2' | 'v1'): string | undefined {
  return ownCgroups(read('/proc/self/cgroup') ?? '').find(({ controllers }) =>
    version === 'v2' ? controllers.length === 0 : controllers.includes('memory'),
  )?.path;
}

function inside(path: string) {
  return (cmd: string, args: string[]) => ({
    cmd: 'sh',
    // The shell moves itself into the cgroup, then becomes the command: every thread it starts
    // is charged there from its first allocation.
    args: ['-c', `echo $$ > '${join(path, 'cgroup.procs')}' && exec "$@"`, 'sh', cmd, ...args],
  });
}

function tryV2(name: string, limitBytes: number): MemoryCage | undefined {
  const root = '/sys/fs/cgroup';
  const own = ownCgroup('v2');
  if (own === undefined || !existsSync(join(root, 'cgroup.controllers'))) return undefined;
  const parent = join(root, own);
  if (!(read(join(parent, 'cgroup.subtree_control')) ?? '').split(/\s/).includes('memory')) {
    return undefined;
  }
  const path = join(parent, name);
  try {
    mkdirSync(path);
    writeFileSync(join(path, 'memory.max'), String(limitBytes));
    writeFileSync(join(path, 'memory.swap.max'), '0');
  } catch {
    return undefined;
  }
  const events = () => read(join(path, 'memory.events')) ?? '';
  return {
    kind: 'cgroup v2',
    path,
    limitBytes,
    wrap: inside(path),
    peakBytes: () => Number(read(join(path, 'memory.peak'))) || undefined,
    oomKills: () => Number(/^oom_kill (\d+)$/m.exec(events())?.[1] ?? NaN),
    dispose: () => rmdirSync(path),
  };
}

function tryV1(name: string, limitBytes: number): MemoryCage | undefined {
  const root = '/sys/fs/cgroup/memory';
  const own = ownCgroup('v1');
  if (own === undefined || !existsSync(join(root, 'memory.limit_in_bytes'))) return undefined;
  const path = join(root, own, name);
  try {
    mkdirSync(path);
    writeFileSync(join(path, 'memory.limit_in_bytes'), String(limitBytes));
    // Swap counts too where the kernel accounts it (no swap: the pod has none either).
    if (existsSync(join(path, 'memory.memsw.limit_in_bytes'))) {
      writeFileSync(join(path, 'memory.memsw.limit_in_bytes'), String(limitBytes));
    }
  } catch {
    return undefined;
  }
  return {
    kind: 'cgroup v1',
    path,
    limitBytes,
    wrap: inside(path),
    peakBytes: () => Number(read(join(path, 'memory.max_usage_in_bytes'))) || undefined,
    oomKills: () =>
      Number(/^oom_kill (\d+)$/m.exec(read(join(path, 'memory.oom_control')) ?? '')?.[1] ?? NaN),
    dispose: () => rmdirSync(path),
  };
}

/** `disabled`: run without a limit (BENCH_STRESS_MEMORY_LIMIT=none). */
export function createMemoryCage(limitBytes: number, disabled = false): MemoryCage {
  const name = `caption-stress-${process.pid}`;
  const cage = disabled ? undefined : (tryV2(name, limitBytes) ?? tryV1(name, limitBytes));
  if (cage) return cage;
  return {
    kind: 'none',
    limitBytes,
    reason: disabled
      ? 'disabled with BENCH_STRESS_MEMORY_LIMIT=none'
      : 'no writable cgroup with the memory controller here (needs root or a delegated cgroup)',
    wrap: (cmd, args) => ({ cmd, args }),
    peakBytes: () => undefined,
    oomKills: () => undefined,
    dispose: () => undefined,
  };
}

/**
 * The memory budget the service derives for itself (its own code, reading the service process's
 * /proc/<pid>/cgroup in place of /proc/self/cgroup), so the report shows whether the service saw
 * the cage's limit or sized its buffers for the whole machine.
 */
export function budgetSeenByService(pid: number): string {
  const bytes = memoryBudget((path) =>
    readFileSync(path === '/proc/self/cgroup' ? `/proc/${pid}/cgroup` : path, 'utf8'),
  );
  return `${(bytes / 2 ** 30).toFixed(2)} GiB`;
}
