import { join } from 'node:path';
import { lines, sh, type InfraCheck } from '../support';

export const ansibleLintCheck: InfraCheck = {
  id: 'ansible-lint',
  title: 'ansible-lint --profile production',
  async run(root) {
    const r = sh(
      'ansible-lint',
      ['--offline', '--profile', 'production', '-p', '--nocolor'],
      join(root, 'ansible'),
      { ANSIBLE_NOCOLOR: '1' },
    );
    return r.ok
      ? []
      : lines(
          r.out,
          /^(roles|site|group_vars|inventory|[a-z_./-]+\.ya?ml)[:\s]|Failed|not installed/,
        );
  },
};
