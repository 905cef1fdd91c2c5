import { format as hclFormat } from '@cdktf/hcl-tools';
import { readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { lines, sh, walk, type InfraCheck } from '../support';

export const terraformFmtCheck: InfraCheck = {
  id: 'terraform-fmt',
  title: 'terraform fmt -check (hclwrite formatting)',
  async run(root) {
    const tfDir = join(root, 'terraform');
    const r = sh('terraform', ['fmt', '-check', '-recursive', '-diff', '-no-color'], tfDir, {
      TF_CLI_CONFIG_FILE: '/dev/null',
    });
    if (!r.missing) {
      return r.ok
        ? []
        : [
            `terraform fmt would change:`,
            ...lines(r.out, /^(terraform\/|[^\s].*\.tf$|[-+] )/),
            'run: terraform -chdir=terraform fmt -recursive',
          ];
    }
    // No terraform binary (it is not packaged for Debian): the same hclwrite formatter via wasm.
    const errors: string[] = [];
    for (const f of walk(tfDir, (p) => p.endsWith('.tf'))) {
      const text = readFileSync(f, 'utf8');
      if ((await hclFormat(text)) !== text) {
        errors.push(`${relative(root, f)} is not formatted (terraform fmt would change it)`);
      }
    }
    return errors;
  },
};
