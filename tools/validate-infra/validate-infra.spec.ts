// Each check of `npm run validate:infra` must pass on the real tree and fail, with a message that
// names the problem, on a copy with exactly one planted mistake.
import { spawnSync } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runChecks } from '../validate-common/check-runner';
import { CHECKS } from './checks';
import { copyTree, failuresIn, plantIn, REPO } from './helpers.spec-util';

let root: string;
const plant = (file: string, from: string | RegExp, to: string) => plantIn(root, file, from, to);
const failures = (id: string) => failuresIn(root, id);

beforeEach(() => {
  root = copyTree();
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

describe('validate:infra on the real tree', () => {
  it('passes every check', async () => {
    const results = await runChecks(CHECKS, REPO);
    expect(results.map((r) => r.id)).toEqual([
      'terraform-fmt',
      'terraform-policy',
      'terraform-upstream',
      'ansible-syntax',
      'ansible-lint',
      'yamllint',
      'ansible-policy',
      'ansible-upstream',
      'jenkins-upstream',
      'jenkins-isolation',
      'groovy-lint',
      'dockerfile',
      'image-scripts',
      'platform-settings',
    ]);
    expect(results.filter((r) => r.problems.length)).toEqual([]);
  }, 300000);
});

describe('npm run validate:infra (CLI)', () => {
  const cli = (args: string[]) =>
    spawnSync(
      process.execPath,
      [
        require.resolve('ts-node/dist/bin'),
        '--transpile-only',
        join(__dirname, 'validate-infra.ts'),
        ...args,
      ],
      { cwd: REPO, encoding: 'utf8' },
    );

  it('lists its checks with --list and refuses an unknown --only id with exit 2', () => {
    const list = cli(['--list']);
    expect(list.status).toBe(0);
    expect(
      list.stdout
        .split('\n')
        .filter(Boolean)
        .map((l) => l.split(/\s+/)[0]),
    ).toEqual(CHECKS.map((c) => c.id));
    const bad = cli(['--only', 'terraform-fmt,no-such-check']);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/validate:infra: unknown check\(s\): no-such-check/);
  });

  it('runs the named checks and reports in the shared format', () => {
    const r = cli(['--root', root, '--only', 'yamllint']);
    expect(r.stdout).toMatch(
      /^ok {3}yamllint: .*\nvalidate:infra took [\d.]+s\nvalidate:infra: 1 passed, 0 failed\n$/,
    );
    expect(r.status).toBe(0);
  });
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
      'a service account that does not wait for the IAM API',
      'terraform/main.tf',
      /(display_name = "Jenkins VM of \$\{var.cluster_name\}"\n)\n {2}depends_on = \[google_project_service.apis\]\n/,
      '$1',
      /google_service_account\.jenkins does not wait for google_project_service \(iam\.googleapis\.com\)/,
    ],
    [
      'an API the resources need left out of the enabled list',
      'terraform/main.tf',
      '    "dns.googleapis.com",\n',
      '',
      /google_dns_managed_zone\.platform needs dns\.googleapis\.com, which no google_project_service enables/,
    ],
    [
      'a node pool that starts empty',
      'terraform/variables.tf',
      /(variable "node_initial_count_per_zone" \{[\s\S]*?default\s+=\s*)1/,
      '$10',
      /google_container_node_pool\.inference: starts with no nodes/,
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
