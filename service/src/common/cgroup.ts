/**
 * Where a process's cgroup limits live. In a pod the cgroup namespace makes the container's cgroup
 * the root, so the root files (/sys/fs/cgroup/memory.max, …) are its own; outside one (a systemd
 * slice, the stress benchmark's cgroup) a limit sits at the path /proc/self/cgroup names, or on a
 * cgroup above it, and the root files show the machine's. The memory and CPU budgets read every
 * one of these folders and keep the tightest limit.
 */
const V2_ROOT = '/sys/fs/cgroup';

/** This process's cgroup per hierarchy: "0::/x" (v2, no controllers), "4:memory:/x" (v1). */
export function ownCgroups(procSelfCgroup: string): { controllers: string[]; path: string }[] {
  return procSelfCgroup
    .split('\n')
    .map((line) => {
      // The path may itself hold colons.
      const [, controllers, ...rest] = line.split(':');
      return { controllers: controllers ? controllers.split(',') : [], path: rest.join(':') };
    })
    .filter((cgroup) => cgroup.path.startsWith('/'));
}

/**
 * The folders whose limits bind this process for a v1 `controller` (and for v2, which has one
 * hierarchy): the root, then the own cgroup and each one above it.
 */
export function cgroupFolders(
  readFile: (path: string) => string,
  controller: string,
): { v2: string[]; v1: string[] } {
  const folders = { v2: [V2_ROOT], v1: [`${V2_ROOT}/${controller}`] };
  let own: string;
  try {
    own = readFile('/proc/self/cgroup');
  } catch {
    return folders;
  }
  for (const { controllers, path } of ownCgroups(own)) {
    const v1 = controllers.includes(controller);
    if (!v1 && controllers.length > 0) continue;
    const root = v1 ? `${V2_ROOT}/${controller}` : V2_ROOT;
    for (let dir = path; dir !== '/' && dir !== ''; dir = dir.slice(0, dir.lastIndexOf('/'))) {
      (v1 ? folders.v1 : folders.v2).push(`${root}${dir}`);
    }
  }
  return folders;
}
