import { memoryBudget } from './memory-budget';

const files = (map: Record<string, string>) => (path: string) => {
  if (path in map) return map[path];
  throw new Error(`ENOENT ${path}`);
};
const GiB = 1024 ** 3;

describe('memoryBudget', () => {
  it('is the machine RAM without a limit', () => {
    expect(memoryBudget(files({}), 8 * GiB)).toBe(8 * GiB);
    expect(memoryBudget(files({ '/sys/fs/cgroup/memory.max': 'max\n' }), 8 * GiB)).toBe(8 * GiB);
  });

  it('is the cgroup v2 limit, never above RAM', () => {
    expect(memoryBudget(files({ '/sys/fs/cgroup/memory.max': `${2 * GiB}\n` }), 8 * GiB)).toBe(
      2 * GiB,
    );
    expect(memoryBudget(files({ '/sys/fs/cgroup/memory.max': `${16 * GiB}` }), 8 * GiB)).toBe(
      8 * GiB,
    );
  });

  it('reads cgroup v1, where no limit is a huge number', () => {
    const v1 = '/sys/fs/cgroup/memory/memory.limit_in_bytes';
    expect(memoryBudget(files({ [v1]: `${GiB}` }), 8 * GiB)).toBe(GiB);
    expect(memoryBudget(files({ [v1]: '9223372036854771712' }), 8 * GiB)).toBe(8 * GiB);
  });

  it("reads the process's own cgroup and those above it, outside a cgroup namespace", () => {
    const v1 = {
      '/proc/self/cgroup': '12:cpu,cpuacct:/jobs/7\n4:memory:/jobs/7/caption\n0::/\n',
      '/sys/fs/cgroup/memory/memory.limit_in_bytes': '9223372036854771712',
      '/sys/fs/cgroup/memory/jobs/7/caption/memory.limit_in_bytes': `${2 * GiB}\n`,
    };
    expect(memoryBudget(files(v1), 24 * GiB)).toBe(2 * GiB);
    // v2: the tighter of the process's own slice and its parent's
    const v2 = {
      '/proc/self/cgroup': '0::/system.slice/caption.service\n',
      '/sys/fs/cgroup/system.slice/memory.max': `${3 * GiB}`,
      '/sys/fs/cgroup/system.slice/caption.service/memory.max': 'max',
    };
    expect(memoryBudget(files(v2), 24 * GiB)).toBe(3 * GiB);
    // a pod: the cgroup namespace makes the container's cgroup the root
    const pod = { '/proc/self/cgroup': '0::/\n', '/sys/fs/cgroup/memory.max': `${2 * GiB}` };
    expect(memoryBudget(files(pod), 64 * GiB)).toBe(2 * GiB);
  });

  it('reads this machine without throwing', () => {
    expect(memoryBudget()).toBeGreaterThan(0);
  });
});
