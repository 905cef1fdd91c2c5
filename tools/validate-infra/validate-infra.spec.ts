// Each check of `npm run validate:infra` must pass on the real tree and fail, with a message that
// names the problem, on a copy with exactly one planted mistake.
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runChecks } from './checks';

const REPO = join(__dirname, '../..');
const TREE = [
  'terraform',
  'ansible',
  'Jenkinsfile',
  'jenkins',
  '.groovylintrc.json',
  'Dockerfile',
  '.dockerignore',
  'tools/image',
];

let root: string;

function copyTree(): string {
  const dir = mkdtempSync(join(tmpdir(), 'validate-infra-'));
  for (const p of TREE) {
    cpSync(join(REPO, p), join(dir, p), {
      recursive: true,
      filter: (src) =>
        !/\.terraform(\/|$)|tfstate|terraform\.tfvars$|hosts\.yml$|vault\.yml$/.test(src),
    });
  }
  return dir;
}

/** Replaces `from` (which must be present) with `to` in a file of the copy. */
function plant(file: string, from: string | RegExp, to: string): void {
  const path = join(root, file);
  const text = readFileSync(path, 'utf8');
  const next = text.replace(from, to);
  if (next === text) throw new Error(`planting failed: ${String(from)} not found in ${file}`);
  writeFileSync(path, next);
}

async function failures(id: string): Promise<string> {
  const [result] = await runChecks(root, [id]);
  return result.errors.join('\n');
}

beforeEach(() => {
  root = copyTree();
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

describe('validate:infra on the real tree', () => {
  it('passes every check', async () => {
    const results = await runChecks(REPO);
    expect(results.map((r) => r.id)).toEqual([
      'terraform-fmt',
      'terraform-policy',
      'ansible-syntax',
      'ansible-lint',
      'yamllint',
      'ansible-policy',
      'groovy-lint',
      'dockerfile',
      'image-scripts',
    ]);
    expect(results.filter((r) => r.errors.length)).toEqual([]);
  }, 180000);
});

describe('terraform-fmt', () => {
  it('fails on a misaligned attribute', async () => {
    plant(
      'terraform/main.tf',
      'remove_default_node_pool = true',
      'remove_default_node_pool   = true',
    );
    expect(await failures('terraform-fmt')).toMatch(/main\.tf/);
  });
});

describe('terraform-policy', () => {
  const cases: [string, string, string | RegExp, string, RegExp][] = [
    [
      'private nodes off',
      'terraform/main.tf',
      'enable_private_nodes    = true',
      'enable_private_nodes    = false',
      /google_container_cluster\.primary: private nodes are off/,
    ],
    [
      'no Workload Identity',
      'terraform/main.tf',
      / {2}workload_identity_config \{\n.*\n {2}\}\n/,
      '',
      /Workload Identity is off/,
    ],
    [
      'no release channel',
      'terraform/main.tf',
      / {2}release_channel \{[^}]*\}\n/,
      '',
      /no release channel/,
    ],
    [
      'deletion protection off by default',
      'terraform/variables.tf',
      /(variable "deletion_protection" \{[\s\S]*?default\s+=\s*)true/,
      '$1false',
      /deletion_protection is not true by default \(var\.deletion_protection defaults to false\)/,
    ],
    [
      'Jenkins admin ports open to the world',
      'terraform/network.tf',
      'source_ranges = var.jenkins_admin_cidrs',
      'source_ranges = ["0.0.0.0/0"]',
      /jenkins_admin: opens 22, 8080 to 0\.0\.0\.0\/0/,
    ],
    [
      'admin CIDR variable defaulting to the world',
      'terraform/variables.tf',
      /(No default: name your office or VPN ranges\.")/,
      '$1\n  default     = ["0.0.0.0/0"]',
      /opens 22, 8080 to 0\.0\.0\.0\/0 \(default of var\.jenkins_admin_cidrs\)/,
    ],
    [
      'unpinned provider',
      'terraform/versions.tf',
      'version = "~> 6.14"',
      'version = ">= 5.0"',
      /provider "google" version ">= 5\.0" is not pinned/,
    ],
    [
      'variable without description',
      'terraform/variables.tf',
      'description = "Region for the regional cluster, the subnets, the registry and Cloud NAT."\n',
      '',
      /variable "region" has no description/,
    ],
    [
      'variable without type',
      'terraform/bootstrap/main.tf',
      /(variable "location" \{\n) {2}type {8}= string\n/,
      '$1',
      /bootstrap\/main\.tf: variable "location" has no type/,
    ],
    [
      'no 8443 rule for the admission webhook',
      'terraform/network.tf',
      'ports    = ["8443"]',
      'ports    = ["9443"]',
      /tcp 8443/,
    ],
    [
      'endpoint output not sensitive',
      'terraform/outputs.tf',
      /(value\s+= google_container_cluster\.primary\.endpoint\n)\s+sensitive\s+= true\n/,
      '$1',
      /output "cluster_endpoint" must be marked sensitive/,
    ],
    [
      'primitive role',
      'terraform/main.tf',
      '"roles/monitoring.viewer"',
      '"roles/editor"',
      /grants primitive role roles\/editor/,
    ],
    [
      'no remote state',
      'terraform/versions.tf',
      / {2}backend "gcs" \{[^}]*\}\n/,
      '',
      /no backend "gcs"/,
    ],
    [
      'HCL syntax error',
      'terraform/network.tf',
      'resource "google_compute_network" "vpc" {',
      'resource "google_compute_network" "vpc" {{',
      /network\.tf: HCL parse error/,
    ],
  ];
  it.each(cases)('fails on: %s', async (_name, file, from, to, expected) => {
    plant(file, from, to);
    expect(await failures('terraform-policy')).toMatch(expected);
  });
});

describe('ansible checks', () => {
  it('ansible-syntax fails on a role that does not exist', async () => {
    plant('ansible/site.yml', '- role: jenkins', '- role: jenkinz');
    expect(await failures('ansible-syntax')).toMatch(/jenkinz/);
  });

  it('ansible-lint (production) fails on a module without its FQCN', async () => {
    plant('ansible/roles/jenkins/tasks/docker.yml', 'ansible.builtin.apt:', 'apt:');
    expect(await failures('ansible-lint')).toMatch(/fqcn/);
  }, 60000);

  it('yamllint fails on a yes/no truthy value', async () => {
    plant('ansible/roles/jenkins/tasks/docker.yml', 'enabled: true', 'enabled: yes');
    expect(await failures('yamllint')).toMatch(
      /docker\.yml:\d+:\d+: \[(warning|error)\] truthy value/,
    );
  });

  it('ansible-policy fails on an unpinned plugin', async () => {
    plant('ansible/roles/jenkins/defaults/main.yml', '  - job-dsl:1.93', '  - job-dsl');
    expect(await failures('ansible-policy')).toMatch(/plugin "job-dsl" is not pinned/);
  });

  it('ansible-policy fails on a default password', async () => {
    plant(
      'ansible/roles/jenkins/defaults/main.yml',
      'jenkins_admin_password: ""',
      'jenkins_admin_password: "admin"',
    );
    expect(await failures('ansible-policy')).toMatch(
      /gives jenkins_admin_password a default value/,
    );
  });

  it('ansible-policy fails on a plaintext vault file', async () => {
    writeFileSync(
      join(root, 'ansible/group_vars/jenkins/vault.yml'),
      'vault_jenkins_admin_password: hunter2hunter2hunter2\n',
    );
    expect(await failures('ansible-policy')).toMatch(
      /group_vars\/jenkins\/vault\.yml is a plaintext vault file/,
    );
  });
});

describe('groovy-lint', () => {
  it('fails on a Jenkinsfile that does not parse', async () => {
    plant('Jenkinsfile', /\}\s*$/, '');
    expect(await failures('groovy-lint')).toMatch(/Jenkinsfile[\s\S]*error\s+Unexpected input/);
  }, 120000);
});

describe('dockerfile', () => {
  const cases: [string, string | RegExp, string, RegExp][] = [
    [
      'base without digest',
      /node:20-bookworm-slim@sha256:[0-9a-f]{64}/,
      'node:20-bookworm-slim',
      /not pinned by digest/,
    ],
    [
      'latest tag',
      /node:20-bookworm-slim@sha256:[0-9a-f]{64}/,
      'node:latest',
      /uses the latest tag/,
    ],
    ['no USER', /^USER 1000:1000\n/m, '', /final stage has no USER/],
    ['root USER', /^USER 1000:1000$/m, 'USER root', /final stage runs as root/],
    ['no HEALTHCHECK', /^HEALTHCHECK[^\n]*\\\n[^\n]*\n/m, '', /final stage has no HEALTHCHECK/],
    ['npm install', 'npm ci --ignore-scripts', 'npm install --ignore-scripts', /use npm ci/],
    [
      'dev dependencies kept',
      'npm prune --omit=dev',
      'npm prune',
      /dev dependencies are never pruned/,
    ],
    [
      'invalid instruction (linter)',
      /^EXPOSE 3000$/m,
      'EXPOSE 3000/tcpx',
      /Dockerfile:\d+: Invalid proto: tcpx/,
    ],
  ];
  it.each(cases)('fails on: %s', async (_name, from, to, expected) => {
    plant('Dockerfile', from, to);
    expect(await failures('dockerfile')).toMatch(expected);
  });

  it('fails when .dockerignore lets the git history and Terraform state in', async () => {
    plant('.dockerignore', /^\.git$/m, '');
    plant('.dockerignore', /^\*\*\/\*\.tfstate\*$/m, '');
    const out = await failures('dockerfile');
    expect(out).toMatch(/does not exclude \.git/);
    expect(out).toMatch(/does not exclude \*\.tfstate/);
  });
});

describe('image-scripts', () => {
  it('shellcheck fails on an unassigned variable', async () => {
    plant(
      'tools/image/build-local.sh',
      'set -euo pipefail\n',
      'set -euo pipefail\necho "$undefined_thing"\n',
    );
    expect(await failures('image-scripts')).toMatch(
      /build-local\.sh:\d+:\d+: warning: undefined_thing is referenced but not assigned/,
    );
  });

  it('fails when the build no longer uses chroot isolation', async () => {
    plant('tools/image/build-local.sh', /build --isolation chroot/, 'build');
    expect(await failures('image-scripts')).toMatch(/--isolation chroot/);
  });
});
