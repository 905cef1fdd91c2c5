// The audit-backed checks of validate:infra (upstream facts) and the Jenkins isolation policy,
// each shown failing on one planted mistake in a copy of the tree.
import { rmSync } from 'node:fs';
import { copyTree, failuresIn, plantIn } from './helpers.spec-util';

let root: string;
beforeEach(() => {
  root = copyTree();
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

type Case = [name: string, file: string, from: string | RegExp, to: string, expected: RegExp];

const run = (id: string, cases: Case[]) =>
  it.each(cases)('%s', async (_name, file, from, to, expected) => {
    plantIn(root, file, from, to);
    expect(await failuresIn(root, id)).toMatch(expected);
  });

describe('terraform-upstream', () => {
  run('terraform-upstream', [
    [
      'a misspelt argument',
      'terraform/main.tf',
      'enable_private_nodes    = true',
      'enable_privat_nodes     = true',
      /google_container_cluster\.primary sets "enable_privat_nodes", which provider 6\.14\.0 does not document/,
    ],
    [
      'an argument the provider deprecates',
      'terraform/network.tf',
      'private_ip_google_access = true\n\n  secondary_ip_range',
      'private_ip_google_access = true\n  enable_flow_logs         = true\n\n  secondary_ip_range',
      /google_compute_subnetwork\.gke sets "enable_flow_logs", which provider 6\.50\.0 deprecates/,
    ],
    [
      'a constraint that admits releases whose docs are not recorded',
      'terraform/versions.tf',
      'version = "~> 6.14"',
      'version = "~> 6.10"',
      /admits 6\.10\.0, whose resource docs are not recorded/,
    ],
  ]);
});

describe('jenkins-upstream', () => {
  run('jenkins-upstream', [
    [
      'a plugin version that was never released (the old junit pin)',
      'ansible/roles/jenkins/defaults/main.yml',
      'junit:1334.vd3b_b_2094e438',
      'junit:1333.vf209c24d8b_0f',
      /plugin junit:1333\.vf209c24d8b_0f has no upstream facts recorded at that version/,
    ],
    [
      'a Jenkins core other than the one the facts were recorded for',
      'ansible/roles/jenkins/defaults/main.yml',
      'jenkins_version: "2.504.3"',
      'jenkins_version: "2.504.1"',
      /jenkins_version 2\.504\.1 but the facts were recorded for 2\.504\.3/,
    ],
    [
      'a configuration-as-code key the plugin does not have',
      'ansible/roles/jenkins/templates/jenkins.yaml.j2',
      '        webSocket: true',
      '        websocket: true',
      /jenkins\.clouds\[0\]\.kubernetes: "websocket" is not an attribute of kubernetes@4423\.vb_59f230b_ce53/,
    ],
    [
      'a token restriction the pinned github-branch-source does not know',
      'ansible/roles/jenkins/templates/jenkins.yaml.j2',
      '              defaultPermissionsStrategy: CONTENTS_READ',
      '              tokenPermissions: CONTENTS_READ',
      /credentials\[0\]\.gitHubApp: "tokenPermissions" is not an attribute/,
    ],
    [
      'a kubernetes agent option the plugin does not have',
      'Jenkinsfile',
      "            defaultContainer 'build'",
      "            defaultContainer 'build'\n            podYaml 'x'",
      /Jenkinsfile: kubernetes agent option "podYaml" is not in the pinned kubernetes plugin/,
    ],
  ]);
});

describe('ansible-upstream', () => {
  run('ansible-upstream', [
    [
      'a module option the pinned collection does not document',
      'ansible/roles/jenkins/tasks/jenkins.yml',
      '    restart_policy: unless-stopped',
      '    restart_policy: unless-stopped\n    auto_remove_on_exit: true',
      /community\.docker\.docker_container has no option "auto_remove_on_exit" in community\.docker 3\.13\.1/,
    ],
    [
      'a collection version that was never released',
      'ansible/requirements.yml',
      'version: "3.13.1"',
      'version: "3.13.11"',
      /community\.docker 3\.13\.11 is not a released version/,
    ],
  ]);
});

describe('jenkins-isolation', () => {
  run('jenkins-isolation', [
    [
      'executors on the controller',
      'ansible/roles/jenkins/defaults/main.yml',
      'jenkins_num_executors: 0',
      'jenkins_num_executors: 2',
      /jenkins_num_executors is 2: builds would run on the controller/,
    ],
    [
      'the Docker socket mounted into the controller',
      'ansible/roles/jenkins/tasks/jenkins.yml',
      '      - "{{ jenkins_config_dir }}/secrets:/run/secrets:ro"\n',
      '      - "{{ jenkins_config_dir }}/secrets:/run/secrets:ro"\n      - /var/run/docker.sock:/var/run/docker.sock\n',
      /mounts the Docker socket into the controller/,
    ],
    [
      'registry credentials bound in a stage that pull requests run',
      'Jenkinsfile',
      "                container('kaniko') {\n                    sh '''\n                        /kaniko/executor --context \"dir://$WORKSPACE\" --dockerfile Dockerfile --no-push",
      "                withCredentials([usernamePassword(credentialsId: env.REGISTRY_CREDENTIALS,\n                        usernameVariable: 'U', passwordVariable: 'P')]) { echo 'x' }\n                container('kaniko') {\n                    sh '''\n                        /kaniko/executor --context \"dir://$WORKSPACE\" --dockerfile Dockerfile --no-push",
      /stage 'Image \(PR\)' binds credentials but does not run on main alone/,
    ],
    [
      'a service-account token mounted into build pods',
      'jenkins/agent-pod.yaml',
      'automountServiceAccountToken: false',
      'automountServiceAccountToken: true',
      /automountServiceAccountToken must be false/,
    ],
    [
      'builds allowed onto the service nodes',
      'jenkins/agent-pod.yaml',
      '  nodeSelector:\n    workload: ci\n',
      '',
      /builds must run on the ci node pool only/,
    ],
  ]);
});
