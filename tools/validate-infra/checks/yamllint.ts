import { join } from 'node:path';
import { lines, sh, type InfraCheck } from '../support';

export const yamllintCheck: InfraCheck = {
  id: 'yamllint',
  title: 'yamllint (strict) on ansible/',
  async run(root) {
    const r = sh('yamllint', ['-s', '-f', 'parsable', '.'], join(root, 'ansible'));
    return r.ok ? [] : lines(r.out, /\S/);
  },
};
