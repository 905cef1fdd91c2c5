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

  it('reads this machine without throwing', () => {
    expect(memoryBudget()).toBeGreaterThan(0);
  });
});
