// The checks of `npm run validate:gitops`, one per file, in report order.
// tools/validate-gitops/planted.spec.ts shows each failing on a planted mistake.
import type { GitopsCheck } from '../context';
import { kustomizeBuildCheck } from './kustomize-build';
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
import { alertTestsCheck } from './alert-tests';
import { dashboardCheck } from './dashboard';
import { queriedMetricsCheck } from './queried-metrics';

export const CHECKS: readonly GitopsCheck[] = [
  kustomizeBuildCheck,
  schemaCheck,
  argocdApplicationsCheck,
  argocdProjectsCheck,
  pinnedVersionsCheck,
  syncOrderCheck,
  workloadResourcesCheck,
  workloadProbesCheck,
  workloadSecurityCheck,
  workloadDrainCheck,
  ingressCheck,
  availabilityCheck,
  networkPolicyCheck,
  monitoringWiringCheck,
  opsUisCheck,
  alertRulesCheck,
  alertTestsCheck,
  dashboardCheck,
  queriedMetricsCheck,
];
