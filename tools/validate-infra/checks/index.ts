// The checks of `npm run validate:infra`, one per file, in report order.
// tools/validate-infra/validate-infra.spec.ts shows each failing on a planted mistake.
import type { InfraCheck } from '../support';
import { terraformFmtCheck } from './terraform-fmt';
import { terraformPolicyCheck } from './terraform-policy';
import { terraformUpstreamCheck } from './terraform-upstream';
import { ansibleSyntaxCheck } from './ansible-syntax';
import { ansibleLintCheck } from './ansible-lint';
import { ansibleUpstreamCheck } from './ansible-upstream';
import { yamllintCheck } from './yamllint';
import { ansiblePolicyCheck } from './ansible-policy';
import { groovyLintCheck } from './groovy-lint';
import { jenkinsIsolationCheck } from './jenkins-isolation';
import { platformSettingsCheck } from './platform-settings';
import { jenkinsUpstreamCheck } from './jenkins-upstream';
import { dockerfileCheck } from './dockerfile';
import { imageScriptsCheck } from './image-scripts';

export const CHECKS: readonly InfraCheck[] = [
  terraformFmtCheck,
  terraformPolicyCheck,
  terraformUpstreamCheck,
  ansibleSyntaxCheck,
  ansibleLintCheck,
  yamllintCheck,
  ansiblePolicyCheck,
  ansibleUpstreamCheck,
  jenkinsUpstreamCheck,
  jenkinsIsolationCheck,
  groovyLintCheck,
  dockerfileCheck,
  imageScriptsCheck,
  platformSettingsCheck,
];
