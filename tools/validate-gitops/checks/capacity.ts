import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { loadModule } from '../../validate-infra/terraform-module';
import { type GitopsCheck, type Json } from '../context';
import { ofKind } from '../lookups';
import { cpuCores } from '../quantities';

/** vCPUs of the machine types the node pool may use (Compute Engine machine-type tables). */
const MACHINE_VCPUS: Record<string, number> = {
  'c2d-standard-4': 4,
  'c2d-standard-8': 8,
  'c2d-standard-16': 16,
  'c2-standard-4': 4,
  'c2-standard-8': 8,
  'n2-standard-4': 4,
  'n2-standard-8': 8,
  'e2-standard-4': 4,
  'e2-standard-8': 8,
};

/**
 * CPU a GKE node keeps for the kubelet and system: 6% of the first core, 1% of the second,
 * 0.5% of the next two, 0.25% of every core above four (GKE docs, "node allocatable").
 */
export function gkeAllocatableCores(vcpus: number): number {
  const reserved =
    0.06 * Math.min(vcpus, 1) +
    0.01 * Math.min(Math.max(vcpus - 1, 0), 1) +
    0.005 * Math.min(Math.max(vcpus - 2, 0), 2) +
    0.0025 * Math.max(vcpus - 4, 0);
  return vcpus - reserved;
}

/**
 * DaemonSets on every node (GKE's logging, metadata server, Dataplane V2, CSI driver, and the
 * stack's node-exporter) and the platform's pods whose requests are not in git (Argo CD,
 * Grafana, the operators): estimates, stated here because no offline source gives them; the
 * real numbers are on a real cluster (kubectl describe node).
 */
const DAEMONSET_CORES_PER_NODE = 0.4;
const UNLISTED_PLATFORM_CORES = 1.5;

export const capacityCheck: GitopsCheck = {
  id: 'capacity',
  title:
    "the inference node pool at its maximum (Terraform) holds the caption service at the HPA maxima of every environment, plus rollout surge and the platform's own pods",
  async run(ctx) {
    if (!existsSync(path.join(ctx.root, 'terraform'))) {
      return ['no terraform/ folder beside gitops/'];
    }
    const mod = await loadModule(ctx.root, 'terraform');
    const def = (name: string) => mod.variables[name]?.body.default;
    const machine = String(def('node_machine_type'));
    const maxNodes = Number(def('node_max_count'));
    const vcpus = MACHINE_VCPUS[machine];
    if (!vcpus) {
      return [`terraform: node_machine_type ${machine} is not in the capacity check's table`];
    }
    const perNode = gkeAllocatableCores(vcpus) - DAEMONSET_CORES_PER_NODE;
    const pods: Array<{ what: string; cores: number }> = [];
    for (const d of ctx.deployables) {
      for (const dep of ofKind(d.objects, 'Deployment')) {
        const hpa = ofKind(d.objects, 'HorizontalPodAutoscaler').find(
          (h) => h.spec?.scaleTargetRef?.name === dep.metadata.name,
        );
        const replicas = hpa?.spec?.maxReplicas ?? dep.spec?.replicas ?? 1;
        const surge = dep.spec?.strategy?.rollingUpdate?.maxSurge ?? '25%';
        const extra = /%$/.test(String(surge))
          ? Math.ceil((replicas * parseFloat(surge)) / 100)
          : Number(surge);
        const cores = (dep.spec?.template?.spec?.containers ?? []).reduce(
          (sum: number, c: Json) => sum + (cpuCores(c.resources?.requests?.cpu) ?? 0),
          0,
        );
        for (let i = 0; i < replicas + extra; i++) {
          pods.push({ what: `${d.dir} ${dep.metadata.name}`, cores });
        }
      }
    }
    for (const r of ctx.helmReleases) {
      const reqs: Array<[string, number]> = [];
      const walk = (v: Json, at: string) => {
        if (!v || typeof v !== 'object') return;
        const cpu = cpuCores(v.resources?.requests?.cpu);
        if (cpu) reqs.push([at, cpu * (Number(v.replicaCount) || 1)]);
        for (const [k, x] of Object.entries(v)) {
          if (k !== 'resources') walk(x, at ? `${at}.${k}` : k);
        }
      };
      walk(r.values, '');
      for (const [at, cores] of reqs) pods.push({ what: `${r.chart} ${at}`, cores });
    }
    pods.push({
      what: 'platform pods without requests in git (estimate)',
      cores: UNLISTED_PLATFORM_CORES,
    });
    // First fit, biggest first: the scheduler packs no better than this.
    const free = Array.from({ length: maxNodes }, () => perNode);
    const unplaced = pods
      .sort((a, b) => b.cores - a.cores)
      .filter((p) => {
        const i = free.findIndex((f) => f >= p.cores - 1e-9);
        if (i < 0) return true;
        free[i] -= p.cores;
        return false;
      });
    if (!unplaced.length) return [];
    return [
      `${maxNodes} x ${machine} (${perNode.toFixed(2)} schedulable cores each after GKE's reserve and daemonsets) cannot hold the ${pods.length} pods of the HPA maxima plus surge: ${unplaced.length} would stay Pending (${[...new Set(unplaced.map((p) => `${p.what} ${p.cores} CPU`))].join('; ')}). Lower maxReplicas or raise terraform node_max_count / node_machine_type`,
    ];
  },
};
