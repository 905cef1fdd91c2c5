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

  it('reads cgroup v1 quotas', () => {
    const v1 = {
      '/sys/fs/cgroup/cpu/cpu.cfs_quota_us': '100000',
      '/sys/fs/cgroup/cpu/cpu.cfs_period_us': '100000',
    };
    expect(cpuBudget(files(v1))).toBe(1);
    expect(cpuBudget(files({ ...v1, '/sys/fs/cgroup/cpu/cpu.cfs_quota_us': '-1' }))).toBe(cpus);
  });
});
