import { availableParallelism } from 'node:os';
import { cpuBudget } from './cpu-budget';

const files = (map: Record<string, string>) => (path: string) => {
  if (path in map) return map[path];
  throw new Error(`ENOENT ${path}`);
};

describe('cpuBudget', () => {
  const cpus = availableParallelism();

  it('is the affinity CPU count without a quota', () => {
    expect(cpuBudget(files({ '/sys/fs/cgroup/cpu.max': 'max 100000\n' }))).toBe(cpus);
    expect(cpuBudget(files({}))).toBe(cpus);
  });

  it('is capped by a cgroup v2 quota, rounded down, at least 1', () => {
    expect(cpuBudget(files({ '/sys/fs/cgroup/cpu.max': '100000 100000' }))).toBe(1);
    expect(cpuBudget(files({ '/sys/fs/cgroup/cpu.max': '50000 100000' }))).toBe(1);
    expect(cpuBudget(files({ '/sys/fs/cgroup/cpu.max': `${cpus * 200000} 100000` }))).toBe(cpus);
  });

  it("reads the quota of the process's own cgroup and those above it, outside a namespace", () => {
    const v2 = {
      '/proc/self/cgroup': '0::/system.slice/caption.service\n',
      '/sys/fs/cgroup/cpu.max': 'max 100000',
      '/sys/fs/cgroup/system.slice/cpu.max': '100000 100000',
      '/sys/fs/cgroup/system.slice/caption.service/cpu.max': 'max 100000',
    };
    expect(cpuBudget(files(v2))).toBe(1);
    const v1 = {
      '/proc/self/cgroup': '5:cpu,cpuacct:/jobs/7\n4:memory:/jobs/7\n',
      '/sys/fs/cgroup/cpu/jobs/7/cpu.cfs_quota_us': '100000',
      '/sys/fs/cgroup/cpu/jobs/7/cpu.cfs_period_us': '100000',
    };
    expect(cpuBudget(files(v1))).toBe(1);
  });

  it('reads cgroup v1 quotas', () => {
    const v1 = {
      '/sys/fs/cgroup/cpu/cpu.cfs_quota_us': '100000',
      '/sys/fs/cgroup/cpu/cpu.cfs_period_us': '100000',
    };
    expect(cpuBudget(files(v1))).toBe(1);
    expect(cpuBudget(files({ ...v1, '/sys/fs/cgroup/cpu/cpu.cfs_quota_us': '-1' }))).toBe(cpus);
  });
});
