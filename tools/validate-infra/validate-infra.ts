// `npm run validate:infra`: the offline checks of the delivery tree (terraform/, ansible/,
// Jenkinsfiles, Dockerfile, image scripts) in checks/, one per file. No provider download, no
// cluster, no Jenkins; what only real infrastructure can check is listed in docs/delivery.md.
// The command line, report and exit codes are the shared ones of
// tools/validate-common/check-runner.ts:
//
//   npm run validate:infra -- [--root <repo>] [--only id,id] [--list]
import { mainValidator, type ValidatorCli } from '../validate-common/check-runner';
import { CHECKS } from './checks';
import { REPO } from './support';

export const INFRA_CLI: ValidatorCli<string> = {
  name: 'validate:infra',
  checks: CHECKS,
  defaultRoot: REPO,
  prepare: (opts) => Promise.resolve({ ctx: opts.root }),
};

if (require.main === module) mainValidator(INFRA_CLI);
