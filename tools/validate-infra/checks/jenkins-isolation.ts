import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { walk, type InfraCheck } from '../support';

type Json = any; // eslint-disable-line @typescript-eslint/no-explicit-any

/** The brace-delimited blocks of `stage('name') { ... }`, with their text. */
function stages(text: string): Array<{ name: string; start: number; end: number; body: string }> {
  const out = [];
  for (const m of text.matchAll(/stage\(\s*'([^']+)'\s*\)\s*\{/g)) {
    let depth = 0;
    let i = m.index! + m[0].length - 1;
    for (; i < text.length; i++) {
      if (text[i] === '{') depth++;
      else if (text[i] === '}' && --depth === 0) break;
    }
    out.push({ name: m[1], start: m.index!, end: i, body: text.slice(m.index!, i) });
  }
  return out;
}

/** Problems with where a Jenkinsfile binds credentials: only in stages that run on main alone. */
export function credentialStages(file: string, text: string): string[] {
  const problems: string[] = [];
  const all = stages(text);
  for (const m of text.matchAll(/withCredentials\s*\(/g)) {
    const stage = all.filter((s) => s.start < m.index! && m.index! < s.end).pop();
    if (!stage) {
      problems.push(
        `${file}: withCredentials outside any stage; it would run for pull requests too`,
      );
      continue;
    }
    const when = /when\s*\{([\s\S]*?)\n\s{12}\}/.exec(stage.body)?.[1] ?? '';
    const onMain = /branch\s+'main'/.test(when) && !/not\s*\{\s*branch\s+'main'/.test(when);
    if (!onMain) {
      problems.push(
        `${file}: stage '${stage.name}' binds credentials but does not run on main alone (when { branch 'main' }); a pull request's build could read them`,
      );
    }
  }
  return problems;
}

export const jenkinsIsolationCheck: InfraCheck = {
  id: 'jenkins-isolation',
  title:
    'builds run on ephemeral agent pods without credentials or host access, the controller runs none (0 executors, no Docker socket), credentials bound only in main-branch stages',
  run(root) {
    const problems: string[] = [];
    const role = join(root, 'ansible/roles/jenkins');
    const defaults = parseYaml(readFileSync(join(role, 'defaults/main.yml'), 'utf8'));
    if (defaults.jenkins_num_executors !== 0) {
      problems.push(
        `jenkins_num_executors is ${defaults.jenkins_num_executors}: builds would run on the controller, beside /run/secrets`,
      );
    }
    const casc = readFileSync(join(role, 'templates/jenkins.yaml.j2'), 'utf8');
    if (!/numExecutors:\s*\{\{\s*jenkins_num_executors\s*\}\}/.test(casc)) {
      problems.push('jenkins.yaml.j2 does not take numExecutors from jenkins_num_executors');
    }
    if (!/clouds:\s*\n\s*-\s*kubernetes:/.test(casc)) {
      problems.push(
        'jenkins.yaml.j2 configures no Kubernetes cloud: builds have no agent to run on',
      );
    }
    for (const f of walk(join(role, 'tasks'), (p) => p.endsWith('.yml'))) {
      if (readFileSync(f, 'utf8').includes('docker.sock')) {
        problems.push(
          `${f.slice(root.length + 1)}: mounts the Docker socket into the controller (root on the VM)`,
        );
      }
    }
    const podFile = join(root, 'jenkins/agent-pod.yaml');
    const pod: Json = existsSync(podFile) ? parseYaml(readFileSync(podFile, 'utf8')) : undefined;
    if (!pod) {
      problems.push('jenkins/agent-pod.yaml is missing');
    } else {
      const spec = pod.spec ?? {};
      if (spec.automountServiceAccountToken !== false) {
        problems.push(
          'jenkins/agent-pod.yaml: automountServiceAccountToken must be false (a build could use the token)',
        );
      }
      if ((spec.volumes ?? []).some((v: Json) => v.hostPath)) {
        problems.push('jenkins/agent-pod.yaml: hostPath volumes give builds the node');
      }
      for (const c of spec.containers ?? []) {
        if (c.securityContext?.privileged) {
          problems.push(`jenkins/agent-pod.yaml: container ${c.name} is privileged`);
        }
        if (c.securityContext?.allowPrivilegeEscalation !== false) {
          problems.push(
            `jenkins/agent-pod.yaml: container ${c.name} must set allowPrivilegeEscalation: false`,
          );
        }
        if (JSON.stringify(c).includes('docker.sock')) {
          problems.push(`jenkins/agent-pod.yaml: container ${c.name} reaches the Docker socket`);
        }
      }
      const tolerated = (spec.tolerations ?? []).some(
        (t: Json) => t.key === 'dedicated' && t.value === 'ci',
      );
      if (spec.nodeSelector?.workload !== 'ci' || !tolerated) {
        problems.push(
          'jenkins/agent-pod.yaml: builds must run on the ci node pool only (nodeSelector workload: ci and its taint tolerated)',
        );
      }
    }
    const files = [
      'Jenkinsfile',
      ...walk(join(root, 'jenkins'), (p) => p.endsWith('Jenkinsfile')).map((f) =>
        f.slice(root.length + 1),
      ),
    ];
    for (const file of files) {
      const text = readFileSync(join(root, file), 'utf8');
      if (!/agent\s*\{\s*kubernetes\s*\{[^}]*yamlFile\s+'jenkins\/agent-pod\.yaml'/.test(text)) {
        problems.push(
          `${file}: the pipeline's agent must be the kubernetes pod of jenkins/agent-pod.yaml`,
        );
      }
      if (/agent\s+any\b|agent\s*\{\s*label\b/.test(text)) {
        problems.push(`${file}: "agent any/label" could run on the controller`);
      }
      // The promotion job is built from main only (the seed's branch('*/main')); the multibranch
      // Jenkinsfile also builds pull requests, so there credentials belong to main-only stages.
      if (file === 'Jenkinsfile') problems.push(...credentialStages(file, text));
    }
    const seed = readFileSync(join(role, 'templates/seed.groovy.j2'), 'utf8');
    if (
      !/scriptPath\('jenkins\/promote\.Jenkinsfile'\)/.test(seed) ||
      !/branch\('\*\/main'\)/.test(seed)
    ) {
      problems.push(
        'seed.groovy.j2: the promotion job must build jenkins/promote.Jenkinsfile from main only',
      );
    }
    return Promise.resolve(problems);
  },
};
