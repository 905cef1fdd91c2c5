import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { walk, type InfraCheck } from '../support';

export const ansiblePolicyCheck: InfraCheck = {
  id: 'ansible-policy',
  title: 'Ansible role layout, pinned versions, no secrets or default passwords in git',
  async run(root) {
    const errors: string[] = [];
    const role = join(root, 'ansible/roles/jenkins');
    for (const part of ['defaults', 'tasks', 'handlers', 'meta']) {
      if (!existsSync(join(role, part, 'main.yml'))) {
        errors.push(`ansible/roles/jenkins/${part}/main.yml is missing`);
      }
    }
    if (!existsSync(join(role, 'templates')) || !readdirSync(join(role, 'templates')).length) {
      errors.push('ansible/roles/jenkins/templates is missing');
    }
    if (errors.length) return errors;
    const defaults = parseYaml(readFileSync(join(role, 'defaults/main.yml'), 'utf8')) as Record<
      string,
      unknown
    >;
    if (!/^\d+\.\d+(\.\d+)?$/.test(String(defaults.jenkins_version))) {
      errors.push(
        `jenkins_version "${defaults.jenkins_version}" is not a pinned release (e.g. 2.504.1)`,
      );
    }
    const plugins = defaults.jenkins_plugins;
    if (!Array.isArray(plugins) || !plugins.length) errors.push('jenkins_plugins is empty');
    for (const p of Array.isArray(plugins) ? plugins : []) {
      if (!/^[a-z0-9-]+:[0-9][\w.-]*$/.test(String(p)) || /:latest$/.test(String(p))) {
        errors.push(`plugin "${p}" is not pinned as name:version`);
      }
    }
    for (const [k, v] of Object.entries(defaults)) {
      if (/password|secret|private_key|token/.test(k) && v !== '' && v !== null) {
        errors.push(`defaults/main.yml gives ${k} a default value: secrets have no defaults`);
      }
    }
    for (const f of walk(
      join(root, 'ansible'),
      (p) => /vault[^/]*\.ya?ml$/.test(p) && !/\.example\.ya?ml$/.test(p),
    )) {
      if (!readFileSync(f, 'utf8').startsWith('$ANSIBLE_VAULT;')) {
        errors.push(
          `${relative(root, f)} is a plaintext vault file: encrypt it with ansible-vault (or keep only the .example)`,
        );
      }
    }
    const casc = readFileSync(join(role, 'templates/jenkins.yaml.j2'), 'utf8');
    if (!/securityRealm:/.test(casc)) errors.push('jenkins.yaml.j2 has no securityRealm');
    if (/password:\s*["']?(?!\$\{)[^"'\s$]+/.test(casc)) {
      errors.push('jenkins.yaml.j2 has a literal password (use ${secret} from /run/secrets)');
    }
    const tasks = walk(join(role, 'tasks'), (p) => p.endsWith('.yml'))
      .map((f) => readFileSync(f, 'utf8'))
      .join('\n');
    if (!tasks.includes('runSetupWizard=false')) {
      errors.push(
        'the controller does not disable the setup wizard (-Djenkins.install.runSetupWizard=false)',
      );
    }
    return errors;
  },
};
