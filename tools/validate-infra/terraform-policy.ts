// Policy assertions on a parsed Terraform folder (terraform-module.ts). `terraform validate`
// needs the google provider, which cannot be downloaded here; these assertions cover what this
// platform promises instead.
import { type Json, type TfModule } from './terraform-module';

const VAR_REF = /^\$\{var\.([A-Za-z0-9_-]+)\}$/;

/** A literal, or the default of the variable an attribute is set to (undefined when neither). */
function resolve(
  mod: TfModule,
  value: unknown,
): { value: unknown; variable?: string; hasDefault: boolean } {
  if (typeof value === 'string') {
    const m = VAR_REF.exec(value);
    if (m) {
      const v = mod.variables[m[1]];
      const hasDefault = !!v && 'default' in v.body;
      return { value: hasDefault ? v.body.default : undefined, variable: m[1], hasDefault };
    }
  }
  return { value, hasDefault: true };
}

const first = (block: unknown): Json | undefined => (Array.isArray(block) ? block[0] : undefined);

export function terraformPolicy(mod: TfModule, isRoot: boolean): string[] {
  const errors: string[] = [];
  const where = (r: { type: string; name: string; file: string }) =>
    `${r.file}: ${r.type}.${r.name}`;

  // Every variable typed and described; every output described.
  for (const [name, { file, body }] of Object.entries(mod.variables)) {
    if (!body.type) errors.push(`${file}: variable "${name}" has no type`);
    if (typeof body.description !== 'string' || !body.description.trim()) {
      errors.push(`${file}: variable "${name}" has no description`);
    }
  }
  for (const [name, { file, body }] of Object.entries(mod.outputs)) {
    if (typeof body.description !== 'string' || !body.description.trim()) {
      errors.push(`${file}: output "${name}" has no description`);
    }
    if (/endpoint|certificate|password|token|key$/.test(name) && body.sensitive !== true) {
      errors.push(`${file}: output "${name}" must be marked sensitive = true`);
    }
  }

  // Pinned Terraform and provider versions (an upper bound, so a major release cannot slip in).
  const tf = mod.terraform;
  if (!tf.some((t) => typeof t.body.required_version === 'string')) {
    errors.push(`${mod.dir}: terraform { required_version } is not set`);
  }
  const providers = tf.flatMap((t) =>
    (t.body.required_providers ?? []).flatMap((p: Json) =>
      Object.entries<Json>(p).map(([n, v]) => ({ n, v, file: t.file })),
    ),
  );
  if (!providers.length) errors.push(`${mod.dir}: no required_providers block`);
  for (const { n, v, file } of providers) {
    const version = typeof v === 'string' ? v : v?.version;
    if (typeof v === 'string' || !v?.source) errors.push(`${file}: provider "${n}" has no source`);
    if (typeof version !== 'string' || !/(~>|<|^\s*=?\s*\d)/.test(version)) {
      errors.push(
        `${file}: provider "${n}" version "${version ?? ''}" is not pinned (use "~> X.Y" or an exact version)`,
      );
    }
  }

  if (!isRoot) return errors;

  // Remote state in GCS.
  if (
    !tf.some((t) => (Array.isArray(t.body.backend) ? first(t.body.backend) : t.body.backend)?.gcs)
  ) {
    errors.push(`${mod.dir}: no backend "gcs" (remote state) configured`);
  }

  // GKE cluster.
  const clusters = mod.resources.filter((r) => r.type === 'google_container_cluster');
  if (!clusters.length) errors.push(`${mod.dir}: no google_container_cluster`);
  for (const c of clusters) {
    const pcc = first(c.body.private_cluster_config);
    if (resolve(mod, pcc?.enable_private_nodes).value !== true) {
      errors.push(
        `${where(c)}: private nodes are off (private_cluster_config.enable_private_nodes must be true)`,
      );
    }
    if (!first(c.body.workload_identity_config)?.workload_pool) {
      errors.push(
        `${where(c)}: Workload Identity is off (workload_identity_config.workload_pool is not set)`,
      );
    }
    const channel = resolve(mod, first(c.body.release_channel)?.channel).value;
    if (!['RAPID', 'REGULAR', 'STABLE'].includes(String(channel))) {
      errors.push(
        `${where(c)}: no release channel (release_channel.channel resolves to "${channel ?? ''}")`,
      );
    }
    const dp = resolve(mod, c.body.deletion_protection);
    if (dp.value !== true) {
      errors.push(
        `${where(c)}: deletion_protection is not true by default${dp.variable ? ` (var.${dp.variable} defaults to ${JSON.stringify(dp.value)})` : ''}`,
      );
    }
    if (!first(c.body.master_authorized_networks_config)) {
      errors.push(`${where(c)}: the control plane has no master_authorized_networks_config`);
    }
  }

  // Node pools: autoscaling, GKE metadata server, a dedicated service account.
  const pools = mod.resources.filter((r) => r.type === 'google_container_node_pool');
  if (!pools.length) errors.push(`${mod.dir}: no google_container_node_pool`);
  for (const p of pools) {
    const as = first(p.body.autoscaling);
    if (!as || !('total_max_node_count' in as || 'max_node_count' in as)) {
      errors.push(`${where(p)}: no autoscaling with a maximum node count`);
    }
    const nc = first(p.body.node_config);
    if (first(nc?.workload_metadata_config)?.mode !== 'GKE_METADATA') {
      errors.push(
        `${where(p)}: node_config.workload_metadata_config.mode must be GKE_METADATA for Workload Identity`,
      );
    }
    if (!nc?.service_account) {
      errors.push(`${where(p)}: nodes use the Compute Engine default service account (Editor)`);
    }
    const initial = resolve(mod, p.body.initial_node_count ?? p.body.node_count).value;
    const min = resolve(mod, as?.total_min_node_count ?? as?.min_node_count ?? 0).value;
    if (Number(min) >= 1 && !(Number(initial) >= 1)) {
      errors.push(
        `${where(p)}: starts with no nodes (initial_node_count unset or 0): the autoscaler adds nodes only for pending pods, so the first sync would wait on an empty pool`,
      );
    }
  }

  // Least privilege: no primitive roles anywhere (roles are often listed in locals, so look at
  // every string of the module, not only at role attributes).
  for (const [file, json] of Object.entries(mod.files)) {
    for (const role of new Set(JSON.stringify(json).match(/roles\/(owner|editor)\b/g) ?? [])) {
      errors.push(`${file}: grants primitive role ${role}`);
    }
  }

  // Firewall: Jenkins admin ports never open to the world.
  const firewalls = mod.resources.filter((r) => r.type === 'google_compute_firewall');
  const allowsPort = (fw: Json, port: string) =>
    (fw.allow ?? []).some(
      (a: Json) =>
        a.protocol === 'all' ||
        (a.protocol === 'tcp' &&
          (!a.ports ||
            a.ports.some(
              (p: string) =>
                p === port ||
                (p.includes('-') && +p.split('-')[0] <= +port && +port <= +p.split('-')[1]),
            ))),
    );
  for (const fw of firewalls) {
    const adminPorts = ['22', '8080'].filter((p) => allowsPort(fw.body, p));
    if (!adminPorts.length || fw.body.direction === 'EGRESS') continue;
    const src = fw.body.source_ranges;
    const r = resolve(mod, src);
    const list = Array.isArray(r.value) ? r.value : [];
    if (list.includes('0.0.0.0/0') || (typeof src === 'string' && src.includes('0.0.0.0/0'))) {
      errors.push(
        `${where(fw)}: opens ${adminPorts.join(', ')} to 0.0.0.0/0${r.variable ? ` (default of var.${r.variable})` : ''}`,
      );
    } else if (r.variable && !r.hasDefault) {
      const validation = JSON.stringify(mod.variables[r.variable]?.body.validation ?? []);
      if (!validation.includes('0.0.0.0/0')) {
        errors.push(
          `${where(fw)}: var.${r.variable} (source of ${adminPorts.join(', ')}) has no validation rejecting 0.0.0.0/0`,
        );
      }
    } else if (!r.variable && !Array.isArray(src)) {
      errors.push(
        `${where(fw)}: source_ranges of admin ports ${adminPorts.join(', ')} are not a CIDR variable or list`,
      );
    }
  }

  errors.push(...apiDependencies(mod));

  // Jenkins VM with a static address.
  const vms = mod.resources.filter((r) => r.type === 'google_compute_instance');
  if (!vms.length) errors.push(`${mod.dir}: no google_compute_instance for Jenkins`);
  for (const vm of vms) {
    const ac = first(first(vm.body.network_interface)?.access_config);
    if (ac && !String(ac.nat_ip ?? '').includes('google_compute_address')) {
      errors.push(
        `${where(vm)}: external IP is ephemeral (access_config.nat_ip must be a google_compute_address)`,
      );
    }
    const sa = first(vm.body.service_account);
    if (!sa?.email) errors.push(`${where(vm)}: runs as the Compute Engine default service account`);
  }
  return errors;
}

/** The Google API each resource type needs enabled (google_project_service) before it is made. */
const API_OF: Array<[RegExp, string]> = [
  [/^google_compute_/, 'compute.googleapis.com'],
  [/^google_container_/, 'container.googleapis.com'],
  [/^google_service_account/, 'iam.googleapis.com'],
  [/^google_project_iam_/, 'cloudresourcemanager.googleapis.com'],
  [/^google_artifact_registry_/, 'artifactregistry.googleapis.com'],
  [/^google_dns_/, 'dns.googleapis.com'],
];

/**
 * On an empty project every API starts disabled: a resource that needs one must wait for the
 * google_project_service that enables it, directly (depends_on) or through a resource it
 * references that does; otherwise the first apply races the enablement and fails.
 */
function apiDependencies(mod: TfModule): string[] {
  const errors: string[] = [];
  const services = mod.resources.filter((r) => r.type === 'google_project_service');
  const enabled = new Set(
    services.flatMap((r) => JSON.stringify(r.body).match(/[a-z0-9-]+\.googleapis\.com/g) ?? []),
  );
  const id = (r: { type: string; name: string }) => `${r.type}.${r.name}`;
  const serviceIds = new Set(services.map(id));
  const refs = new Map(
    mod.resources.map((r) => [
      id(r),
      new Set(JSON.stringify(r.body).match(/\bgoogle_[a-z0-9_]+\.[A-Za-z0-9_-]+/g) ?? []),
    ]),
  );
  const waits = new Set<string>();
  for (let changed = true; changed;) {
    changed = false;
    for (const [r, rs] of refs) {
      if (waits.has(r)) continue;
      if ([...rs].some((x) => serviceIds.has(x) || waits.has(x))) {
        waits.add(r);
        changed = true;
      }
    }
  }
  for (const r of mod.resources) {
    const api = API_OF.find(([re]) => re.test(r.type))?.[1];
    if (!api) continue;
    if (!enabled.has(api)) {
      errors.push(`${r.file}: ${id(r)} needs ${api}, which no google_project_service enables`);
    } else if (!waits.has(id(r))) {
      errors.push(
        `${r.file}: ${id(r)} does not wait for google_project_service (${api}): on a new project the first apply fails with "API not enabled"; add depends_on`,
      );
    }
  }
  return errors;
}
