import { TF_DIRS, type InfraCheck } from '../support';
import { loadModule } from '../terraform-module';
import { terraformPolicy } from '../terraform-policy';

export const terraformPolicyCheck: InfraCheck = {
  id: 'terraform-policy',
  title: 'Terraform parses (hcl2json) and meets the platform policy',
  async run(root) {
    const errors: string[] = [];
    for (const dir of TF_DIRS) {
      try {
        errors.push(...terraformPolicy(await loadModule(root, dir), dir === 'terraform'));
      } catch (err) {
        errors.push((err as Error).message);
      }
    }
    return errors;
  },
};
