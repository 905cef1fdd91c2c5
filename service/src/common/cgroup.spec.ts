import { cgroupFolders, ownCgroups } from './cgroup';

const files = (map: Record<string, string>) => (path: string) => {
  if (path in map) return map[path];
  throw new Error(`ENOENT ${path}`);
};

describe('cgroups', () => {
  it('reads the own cgroup of each hierarchy, colons in the path kept', () => {
    expect(ownCgroups('12:cpu,cpuacct:/a/b\n4:memory:/a:b\n0::/c\n\n')).toEqual([
      { controllers: ['cpu', 'cpuacct'], path: '/a/b' },
      { controllers: ['memory'], path: '/a:b' },
      { controllers: [], path: '/c' },
    ]);
  });

  it('lists the root, the own cgroup and those above it for the controller asked', () => {
    const proc = {
      '/proc/self/cgroup': '4:memory:/jobs/7/caption\n5:cpu:/other\n0::/slice/unit\n',
    };
    expect(cgroupFolders(files(proc), 'memory')).toEqual({
      v2: ['/sys/fs/cgroup', '/sys/fs/cgroup/slice/unit', '/sys/fs/cgroup/slice'],
      v1: [
        '/sys/fs/cgroup/memory',
        '/sys/fs/cgroup/memory/jobs/7/caption',
        '/sys/fs/cgroup/memory/jobs/7',
        '/sys/fs/cgroup/memory/jobs',
      ],
    });
  });

  it('is the roots alone in a pod (namespace root) or without /proc/self/cgroup', () => {
    const roots = { v2: ['/sys/fs/cgroup'], v1: ['/sys/fs/cgroup/cpu'] };
    expect(cgroupFolders(files({ '/proc/self/cgroup': '0::/\n' }), 'cpu')).toEqual(roots);
    expect(cgroupFolders(files({}), 'cpu')).toEqual(roots);
  });
});
