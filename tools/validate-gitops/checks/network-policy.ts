import { selectorMatches, type GitopsCheck } from '../context';
import {
  containerPortNames,
  ingressController,
  monitoringStack,
  namespaceOf,
  ofKind,
} from '../lookups';
import { describe } from '../schema';

export const networkPolicyCheck: GitopsCheck = {
  id: 'network-policy',
  title: 'NetworkPolicy: only the ingress controller and Prometheus reach the pods',
  run(ctx) {
    const problems: string[] = [];
    const ingressNs = ingressController(ctx) && namespaceOf(ingressController(ctx)!.app);
    const monitoringNs = monitoringStack(ctx) && namespaceOf(monitoringStack(ctx)!.app);
    for (const d of ctx.deployables) {
      for (const dep of ofKind(d.objects, 'Deployment')) {
        const id = `${d.dir}: ${describe(dep)}`;
        const labels = dep.spec?.template?.metadata?.labels;
        const policies = ofKind(d.objects, 'NetworkPolicy').filter(
          (n) =>
            selectorMatches(n.spec?.podSelector, labels) &&
            (n.spec?.policyTypes ?? ['Ingress']).includes('Ingress'),
        );
        if (!policies.length) {
          problems.push(`${id}: no NetworkPolicy restricts ingress to its pods`);
          continue;
        }
        const ports = containerPortNames(dep);
        const reached = new Set<string>();
        for (const np of policies) {
          for (const [i, rule] of (np.spec?.ingress ?? []).entries()) {
            const rid = `${d.dir}: ${describe(np)} ingress[${i}]`;
            if (!rule.from?.length) {
              problems.push(`${rid}: has no "from", which admits traffic from anywhere`);
              continue;
            }
            for (const peer of rule.from) {
              if (peer.ipBlock) {
                problems.push(`${rid}: ipBlock peers admit traffic from outside the cluster`);
              }
              const ns = peer.namespaceSelector?.matchLabels?.['kubernetes.io/metadata.name'];
              if (!ns) {
                problems.push(
                  `${rid}: every peer must name its namespace (namespaceSelector on kubernetes.io/metadata.name)`,
                );
              } else if (ns !== ingressNs && ns !== monitoringNs) {
                problems.push(
                  `${rid}: admits namespace "${ns}", which is neither the ingress controller's (${ingressNs}) nor Prometheus' (${monitoringNs})`,
                );
              }
              if (!peer.podSelector || !Object.keys(peer.podSelector.matchLabels ?? {}).length) {
                problems.push(
                  `${rid}: peer in namespace ${ns} must also select the pods (podSelector), not the whole namespace`,
                );
              }
              if (ns) reached.add(ns);
            }
            for (const p of rule.ports ?? []) {
              if (!ports.includes(p.port)) {
                problems.push(`${rid}: port ${p.port} is not a port of ${describe(dep)}`);
              }
            }
          }
        }
        if (ingressNs && !reached.has(ingressNs)) {
          problems.push(
            `${id}: the NetworkPolicy does not admit the ingress controller (namespace ${ingressNs}); user traffic would be dropped`,
          );
        }
        if (monitoringNs && !reached.has(monitoringNs)) {
          problems.push(
            `${id}: the NetworkPolicy does not admit Prometheus (namespace ${monitoringNs}); scrapes would fail`,
          );
        }
      }
    }
    return problems;
  },
};
