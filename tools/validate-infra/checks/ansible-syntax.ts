import { join } from 'node:path';
import { lines, sh, type InfraCheck } from '../support';

export const ansibleSyntaxCheck: InfraCheck = {
  id: 'ansible-syntax',
  title: 'ansible-playbook --syntax-check',
  async run(root) {
    const r = sh(
      'ansible-playbook',
      ['--syntax-check', '-i', 'inventory/hosts.example.yml', 'site.yml'],
      join(root, 'ansible'),
      { ANSIBLE_NOCOLOR: '1' },
    );
    return r.ok ? [] : lines(r.out, /\S/, 20);
  },
};
