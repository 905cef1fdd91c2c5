import { selectorMatches, type GitopsCheck } from '../context';
import { ofKind } from '../lookups';
import { describe } from '../schema';

export const availabilityCheck: GitopsCheck = {
  id: 'availability',
  title:
    'HorizontalPodAutoscaler (min 2) owns the replicas, PodDisruptionBudget lets drains proceed',
  run(ctx) {
    const problems: string[] = [];
    for (const d of ctx.deployables) {
      for (const dep of ofKind(d.objects, 'Deployment')) {
        const id = `${d.dir}: ${describe(dep)}`;
        const hpa = ofKind(d.objects, 'HorizontalPodAutoscaler').find(
          (h) =>
            h.spec?.scaleTargetRef?.kind === 'Deployment' &&
            h.spec?.scaleTargetRef?.name === dep.metadata.name,
        );
        if (!hpa) {
          problems.push(`${id}: no HorizontalPodAutoscaler targets it`);
        } else {
          if (!((hpa.spec?.minReplicas ?? 1) >= 2)) {
            problems.push(`${id}: HPA minReplicas ${hpa.spec?.minReplicas ?? 1} is below 2`);
          }
          if (!(hpa.spec?.maxReplicas >= (hpa.spec?.minReplicas ?? 1))) {
            problems.push(`${id}: HPA maxReplicas below minReplicas`);
          }
          if (dep.spec?.replicas !== undefined) {
            problems.push(
              `${id}: sets spec.replicas while an HPA scales it; Argo CD self-heal would reset every scale-out`,
            );
          }
        }
        const labels = dep.spec?.template?.metadata?.labels;
        const pdb = ofKind(d.objects, 'PodDisruptionBudget').find((p) =>
          selectorMatches(p.spec?.selector, labels),
        );
        if (!pdb) {
          problems.push(`${id}: no PodDisruptionBudget selects its pods`);
        } else {
          const min = hpa?.spec?.minReplicas ?? 1;
          const { maxUnavailable, minAvailable } = pdb.spec ?? {};
          if (maxUnavailable !== undefined && (maxUnavailable === 0 || maxUnavailable === '0%')) {
            problems.push(`${id}: PodDisruptionBudget maxUnavailable 0 blocks every node drain`);
          }
          if (typeof minAvailable === 'number' && minAvailable >= min) {
            problems.push(
              `${id}: PodDisruptionBudget minAvailable ${minAvailable} >= HPA minReplicas ${min} blocks node drains at minimum scale`,
            );
          }
          if (maxUnavailable === undefined && minAvailable === undefined) {
            problems.push(
              `${id}: PodDisruptionBudget sets neither maxUnavailable nor minAvailable`,
            );
          }
        }
      }
    }
    return problems;
  },
};
