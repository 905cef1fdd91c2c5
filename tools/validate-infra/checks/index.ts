// The checks of `npm run validate:infra`, one per file, in report order.
// tools/validate-infra/validate-infra.spec.ts shows each failing on a planted mistake.
import type { InfraCheck } from '../support';
import { terraformFmtCheck } from './terraform-fmt';
import { terraformPolicyCheck } from './terraform-policy';
import { ansibleSyntaxCheck } from './ansible-syntax';
import { ansibleLintCheck } from './ansible-lint';
import { yamllintCheck } from './yamllint';
import { ansiblePolicyCheck } from './ansible-policy';
import { groovyLintCheck } from './groovy-lint';
import { dockerfileCheck } from './dockerfile';
import { imageScriptsCheck } from './image-scripts';

export const CHECKS: readonly InfraCheck[] = [
  terraformFmtCheck,
  terraformPolicyCheck,
  ansibleSyntaxCheck,
  ansibleLintCheck,
  yamllintCheck,
  ansiblePolicyCheck,
  groovyLintCheck,
  dockerfileCheck,
  imageScriptsCheck,
];
