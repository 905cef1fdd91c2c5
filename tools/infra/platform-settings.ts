// platform.yaml is the one place a fork makes the platform its own (repository, hosts, registry,
// project, load-balancer address, ACME e-mail, Jenkins subnet). Each value is copied into the files that use it;
// this table says where, so `npm run platform:configure` can write them and validate:infra
// (check platform-settings) can prove every copy still matches.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse, parseDocument } from 'yaml';

export interface PlatformSettings {
  repository: { owner: string; name: string };
  gcpProject: string;
  registry: string;
  ingressAddress: string;
  dnsDomain: string;
  hosts: {
    caption: string;
    captionStaging: string;
    grafana: string;
    prometheus: string;
    alertmanager: string;
  };
  acmeEmail: string;
  jenkinsSubnet: string;
}

/** One copy of a setting: how to read every occurrence in a file and how to write them. */
interface Place {
  file: string;
  /** Dotted YAML path (a number indexes a list), or a regex whose group 1 is the value. */
  at: string | RegExp;
  /** Which platform.yaml value it copies (for messages). */
  setting: string;
  value(s: PlatformSettings): string;
}

const repoUrl = (s: PlatformSettings) =>
  `https://github.com/${s.repository.owner}/${s.repository.name}.git`;
const REPO_URL = /(https:\/\/github\.com\/[^/\s"']+\/[^/\s"']+\.git)/g;
const HOST_PATCH = /path: \/spec\/(?:rules\/0\/host|tls\/0\/hosts\/0)\n\s+value: (\S+)/g;
const MONITORING = 'gitops/monitoring/values.yaml';

export const PLACES: Place[] = [
  ...[
    'gitops/bootstrap/root-app.yaml',
    'gitops/bootstrap/projects.yaml',
    'gitops/apps/caption-service-staging.yaml',
    'gitops/apps/caption-service-production.yaml',
    'gitops/ingress/application.yaml',
    'gitops/monitoring/application.yaml',
    'gitops/cert-manager/application.yaml',
    'gitops/ci-agents/application.yaml',
  ].map((file) => ({ file, at: REPO_URL, setting: 'repository', value: repoUrl })),
  {
    file: 'ansible/group_vars/jenkins/main.yml',
    at: /^jenkins_repo_owner: (\S+)$/gm,
    setting: 'repository.owner',
    value: (s) => s.repository.owner,
  },
  {
    file: 'ansible/group_vars/jenkins/main.yml',
    at: /^jenkins_repo_name: (\S+)$/gm,
    setting: 'repository.name',
    value: (s) => s.repository.name,
  },
  ...['staging', 'production'].map((env) => ({
    file: `gitops/apps/caption-service/overlays/${env}/kustomization.yaml`,
    at: /^ {4}newName: (\S+)$/gm,
    setting: 'registry',
    value: (s: PlatformSettings) => s.registry,
  })),
  ...['Jenkinsfile', 'jenkins/promote.Jenkinsfile'].map((file) => ({
    file,
    at: /IMAGE_REPO = '([^']+)'/g,
    setting: 'registry',
    value: (s: PlatformSettings) => s.registry,
  })),
  {
    file: 'gitops/cert-manager/values.yaml',
    at: /iam\.gke\.io\/gcp-service-account: cert-manager@([^.\s]+)\.iam\.gserviceaccount\.com/g,
    setting: 'gcpProject',
    value: (s) => s.gcpProject,
  },
  {
    file: 'gitops/cert-manager/issuers/cluster-issuer.yaml',
    at: 'spec.acme.solvers.0.dns01.cloudDNS.project',
    setting: 'gcpProject',
    value: (s) => s.gcpProject,
  },
  {
    file: 'gitops/cert-manager/issuers/cluster-issuer.yaml',
    at: 'spec.acme.email',
    setting: 'acmeEmail',
    value: (s) => s.acmeEmail,
  },
  {
    file: 'terraform/variables.tf',
    at: /variable "ci_subnet_cidr" \{[^}]*?default\s*=\s*"([^"]+)"/g,
    setting: 'jenkinsSubnet',
    value: (s) => s.jenkinsSubnet,
  },
  {
    file: 'gitops/ci-agents/namespace/networkpolicy.yaml',
    at: 'spec.egress.1.to.0.ipBlock.cidr',
    setting: 'jenkinsSubnet',
    value: (s) => s.jenkinsSubnet,
  },
  {
    file: 'gitops/ingress/values.yaml',
    at: 'controller.service.loadBalancerIP',
    setting: 'ingressAddress',
    value: (s) => s.ingressAddress,
  },
  {
    file: 'gitops/apps/caption-service/overlays/production/kustomization.yaml',
    at: HOST_PATCH,
    setting: 'hosts.caption',
    value: (s) => s.hosts.caption,
  },
  {
    file: 'gitops/apps/caption-service/overlays/staging/kustomization.yaml',
    at: HOST_PATCH,
    setting: 'hosts.captionStaging',
    value: (s) => s.hosts.captionStaging,
  },
  ...(['grafana', 'prometheus', 'alertmanager'] as const).flatMap((ui) => {
    const host = (s: PlatformSettings) => s.hosts[ui];
    const url = (s: PlatformSettings) => `https://${s.hosts[ui]}/`;
    const spec = ui === 'prometheus' ? 'prometheusSpec' : 'alertmanagerSpec';
    return [
      { file: MONITORING, at: `${ui}.ingress.hosts.0`, setting: `hosts.${ui}`, value: host },
      { file: MONITORING, at: `${ui}.ingress.tls.0.hosts.0`, setting: `hosts.${ui}`, value: host },
      ...(ui === 'grafana'
        ? [
            {
              file: MONITORING,
              at: 'grafana.grafana\\.ini.server.domain',
              setting: 'hosts.grafana',
              value: host,
            },
            {
              file: MONITORING,
              at: 'grafana.grafana\\.ini.server.root_url',
              setting: 'hosts.grafana',
              value: url,
            },
          ]
        : [
            {
              file: MONITORING,
              at: `${ui}.${spec}.externalUrl`,
              setting: `hosts.${ui}`,
              value: url,
            },
          ]),
    ];
  }),
];

/** A dotted path with "\." for a dot inside a key ("grafana\.ini"), numbers as list indexes. */
function yamlPath(at: string): Array<string | number> {
  return at
    .split(/(?<!\\)\./)
    .map((k) => k.replace(/\\\./g, '.'))
    .map((k) => (/^\d+$/.test(k) ? Number(k) : k));
}

export function readSettings(root: string): PlatformSettings {
  const s = parse(readFileSync(join(root, 'platform.yaml'), 'utf8')) as PlatformSettings;
  for (const key of [
    'gcpProject',
    'registry',
    'ingressAddress',
    'dnsDomain',
    'acmeEmail',
    'jenkinsSubnet',
  ] as const) {
    if (typeof s?.[key] !== 'string' || !s[key]) {
      throw new Error(`platform.yaml: ${key} is not set`);
    }
  }
  for (const h of Object.values(s.hosts ?? {})) {
    if (!String(h).endsWith(`.${s.dnsDomain}`)) {
      throw new Error(`platform.yaml: host ${h} is not inside dnsDomain ${s.dnsDomain}`);
    }
  }
  return s;
}

/** Every occurrence of a place's setting in its file's text. */
function occurrences(place: Place, text: string): string[] {
  if (place.at instanceof RegExp) return [...text.matchAll(place.at)].map((m) => m[1]);
  const v = parseDocument(text).getIn(yamlPath(place.at));
  return v === undefined ? [] : [String(v)];
}

/** Copies that differ from platform.yaml ("file: what is there, what should be"). */
export function settingsProblems(root: string): string[] {
  const settings = readSettings(root);
  const problems: string[] = [];
  for (const place of PLACES) {
    const path = join(root, place.file);
    if (!existsSync(path)) {
      problems.push(`${place.file}: missing (platform.yaml's values are written there)`);
      continue;
    }
    const want = place.value(settings);
    const found = occurrences(place, readFileSync(path, 'utf8'));
    const where = place.at instanceof RegExp ? place.setting : place.at;
    if (!found.length) {
      problems.push(
        `${place.file}: no ${where} to hold platform.yaml's ${place.setting} "${want}"`,
      );
    }
    for (const f of found.filter((x) => x !== want)) {
      problems.push(
        `${place.file}: has "${f}" where platform.yaml's ${place.setting} says "${want}" (${where}); run npm run platform:configure`,
      );
    }
  }
  return problems;
}

/** Writes platform.yaml's values into every place; returns the files it changed. */
export function applySettings(root: string): string[] {
  const settings = readSettings(root);
  const changed = new Set<string>();
  for (const place of PLACES) {
    const path = join(root, place.file);
    const text = readFileSync(path, 'utf8');
    const want = place.value(settings);
    if (occurrences(place, text).every((v) => v === want)) continue;
    let next: string;
    if (place.at instanceof RegExp) {
      next = text.replace(place.at, (whole: string, value: string) => whole.replace(value, want));
    } else {
      const doc = parseDocument(text);
      doc.setIn(yamlPath(place.at), want);
      next = doc.toString();
    }
    if (next !== text) {
      writeFileSync(path, next);
      changed.add(place.file);
    }
  }
  return [...changed];
}

if (require.main === module) {
  try {
    const root = join(__dirname, '..', '..');
    const changed = applySettings(root);
    console.log(
      changed.length
        ? `updated: ${changed.join(', ')}`
        : 'every file already matches platform.yaml',
    );
  } catch (e) {
    console.error(`platform:configure: ${(e as Error).message}`);
    process.exit(1);
  }
}
