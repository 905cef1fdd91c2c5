// The checks of `npm run validate:gitops`, one per file, in report order.
// tools/validate-gitops/planted.spec.ts shows each failing on a planted mistake.
import type { GitopsCheck } from '../context';
import { crdFieldsCheck } from './crd-fields';
import { capacityCheck } from './capacity';
import { chartValuesCheck } from './chart-values';
import { ingressAnnotationsCheck } from './ingress-annotations';
import { ingressHostsCheck } from './ingress-hosts';
import { kustomizeBuildCheck } from './kustomize-build';
import { upstreamPinsCheck } from './upstream-pins';
import { schemaCheck } from './schema';
import { argocdApplicationsCheck } from './argocd-applications';
import { argocdProjectsCheck } from './argocd-projects';
import { pinnedVersionsCheck } from './pinned-versions';
import { syncOrderCheck } from './sync-order';
import { workloadResourcesCheck } from './workload-resources';
import { workloadProbesCheck } from './workload-probes';
import { workloadSecurityCheck } from './workload-security';
import { workloadDrainCheck } from './workload-drain';
import { ingressCheck } from './ingress';
import { availabilityCheck } from './availability';
import { networkPolicyCheck } from './network-policy';
import { monitoringWiringCheck } from './monitoring-wiring';
import { opsUisCheck } from './ops-uis';
import { alertRulesCheck } from './alert-rules';
import { alertmanagerRoutingCheck } from './alertmanager-routing';
import { alertTestsCheck } from './alert-tests';
import { dashboardCheck } from './dashboard';
import { queriedMetricsCheck } from './queried-metrics';

export const CHECKS: readonly GitopsCheck[] = [
  kustomizeBuildCheck,
  schemaCheck,
  argocdApplicationsCheck,
  argocdProjectsCheck,
  crdFieldsCheck,
  pinnedVersionsCheck,
  upstreamPinsCheck,
  chartValuesCheck,
  syncOrderCheck,
  workloadResourcesCheck,
  workloadProbesCheck,
  workloadSecurityCheck,
  workloadDrainCheck,
  ingressCheck,
  ingressAnnotationsCheck,
  ingressHostsCheck,
  availabilityCheck,
  capacityCheck,
  networkPolicyCheck,
  monitoringWiringCheck,
  opsUisCheck,
  alertRulesCheck,
  alertTestsCheck,
  alertmanagerRoutingCheck,
  dashboardCheck,
  queriedMetricsCheck,
];
