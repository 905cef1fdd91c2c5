import { STARTUP_BUDGET_SECONDS, type GitopsCheck, type Json } from '../context';
import { containersOf } from '../lookups';

const PROBES: Array<[string, string]> = [
  ['startupProbe', '/health/startup'],
  ['readinessProbe', '/health/ready'],
  ['livenessProbe', '/health/live'],
];

export const workloadProbesCheck: GitopsCheck = {
  id: 'workload-probes',
  title:
    'containers: startup, readiness and liveness probes on the service health endpoints, timed for model warm-up and drain',
  run(ctx) {
    const problems: string[] = [];
    for (const { id, container: c, owner } of containersOf(ctx)) {
      const ports = [
        ...(c.ports ?? []).map((p: Json) => p.name),
        ...(c.ports ?? []).map((p: Json) => p.containerPort),
      ];
      for (const [kind, wantPath] of PROBES) {
        const p = c[kind];
        if (!p) {
          problems.push(`${id}: ${kind} is missing`);
          continue;
        }
        if (p.httpGet?.path !== wantPath) {
          problems.push(
            `${id}: ${kind} must probe ${wantPath}, not ${p.httpGet?.path ?? '(no httpGet)'}`,
          );
        }
        if (p.httpGet && !ports.includes(p.httpGet.port)) {
          problems.push(`${id}: ${kind} port ${p.httpGet.port} is not a port of the container`);
        }
      }
      const sp = c.startupProbe;
      const startupBudget = sp
        ? (sp.initialDelaySeconds ?? 0) + (sp.periodSeconds ?? 10) * (sp.failureThreshold ?? 3)
        : 0;
      if (sp && startupBudget < STARTUP_BUDGET_SECONDS) {
        problems.push(
          `${id}: startupProbe allows ${startupBudget}s (initialDelay + period x failureThreshold) but model load + warm-up may take ${STARTUP_BUDGET_SECONDS}s`,
        );
      }
      const rp = c.readinessProbe;
      if (rp && (rp.periodSeconds ?? 10) * (rp.failureThreshold ?? 3) > 30) {
        problems.push(
          `${id}: readinessProbe takes over 30s to notice a draining pod; traffic would keep arriving after SIGTERM`,
        );
      }
      const lp = c.livenessProbe;
      if (lp && (lp.timeoutSeconds ?? 1) < 2) {
        problems.push(
          `${id}: livenessProbe timeout below 2s restarts pods that are merely busy with inference`,
        );
      }
      const deadline = owner.spec?.progressDeadlineSeconds ?? 600;
      if (owner.kind === 'Deployment' && deadline <= startupBudget) {
        problems.push(
          `${id}: progressDeadlineSeconds ${deadline} is not above the startup budget ${startupBudget}s; rollouts would be marked failed while pods warm up`,
        );
      }
    }
    return problems;
  },
};
