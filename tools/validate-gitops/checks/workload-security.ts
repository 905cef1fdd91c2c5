import { type GitopsCheck, type Json } from '../context';
import { containersOf } from '../lookups';

export const workloadSecurityCheck: GitopsCheck = {
  id: 'workload-security',
  title:
    'containers: non-root, read-only root filesystem with a writable /tmp, no privilege escalation, capabilities dropped, seccomp RuntimeDefault',
  run(ctx) {
    const problems: string[] = [];
    for (const { id, container: c, podSpec: ps } of containersOf(ctx)) {
      const sec = c.securityContext ?? {};
      const podSec = ps.securityContext ?? {};
      const runAsNonRoot = sec.runAsNonRoot ?? podSec.runAsNonRoot;
      const runAsUser = sec.runAsUser ?? podSec.runAsUser;
      if (runAsNonRoot !== true) problems.push(`${id}: runAsNonRoot must be true`);
      if (runAsUser === 0) problems.push(`${id}: runAsUser must not be 0`);
      if (sec.readOnlyRootFilesystem !== true) {
        problems.push(`${id}: securityContext.readOnlyRootFilesystem must be true`);
      }
      if (sec.allowPrivilegeEscalation !== false) {
        problems.push(`${id}: securityContext.allowPrivilegeEscalation must be false`);
      }
      if (!(sec.capabilities?.drop ?? []).map((x: string) => x.toUpperCase()).includes('ALL')) {
        problems.push(`${id}: securityContext.capabilities.drop must include ALL`);
      }
      if (sec.capabilities?.add?.length) {
        problems.push(`${id}: must not add capabilities (${sec.capabilities.add.join(', ')})`);
      }
      if ((sec.seccompProfile?.type ?? podSec.seccompProfile?.type) !== 'RuntimeDefault') {
        problems.push(`${id}: seccompProfile.type must be RuntimeDefault`);
      }
      if (sec.readOnlyRootFilesystem === true) {
        const tmp = (c.volumeMounts ?? []).find((m: Json) => m.mountPath === '/tmp');
        const vol = tmp && (ps.volumes ?? []).find((v: Json) => v.name === tmp.name);
        if (!vol?.emptyDir) {
          problems.push(
            `${id}: read-only root filesystem without a writable emptyDir at /tmp (the contract asks for one)`,
          );
        }
      }
    }
    return problems;
  },
};
