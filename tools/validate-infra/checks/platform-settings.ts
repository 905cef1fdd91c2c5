import { settingsProblems } from '../../infra/platform-settings';
import { type InfraCheck } from '../support';

export const platformSettingsCheck: InfraCheck = {
  id: 'platform-settings',
  title:
    'every copy of a platform.yaml value (repository, hosts, registry, project, address, e-mail, Jenkins subnet) in gitops/, terraform/, the Jenkinsfiles and ansible/ matches it',
  run: (root) => Promise.resolve(settingsProblems(root)),
};
