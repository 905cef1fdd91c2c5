// The offline checks behind `npm run validate:infra`. Each check looks at one concern of the
// delivery tree (terraform/, ansible/, Jenkinsfiles, Dockerfile, image scripts) under a root
// folder, so the specs can run the same check on a copy with one planted mistake.
// A check returns its problems; an empty list is a pass. A missing tool is a failure, never a skip.
import { format as hclFormat } from '@cdktf/hcl-tools';
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { DockerfileParser } from 'dockerfile-ast';
import { validate as validateDockerfile, ValidationSeverity } from 'dockerfile-utils';
import { parse as parseYaml } from 'yaml';
import { loadModule, terraformPolicy } from './terraform-policy';

export interface Check {
  id: string;
  title: string;
  run(root: string): Promise<string[]>;
}

const REPO = join(__dirname, '../..');

function sh(cmd: string, args: string[], cwd: string, env: Record<string, string> = {}) {
  const r = spawnSync(cmd, args, {
    cwd,
    encoding: 'utf8',
    env: { ...process.env, NO_COLOR: '1', ...env },
    maxBuffer: 64 << 20,
  });
  if (r.error && (r.error as NodeJS.ErrnoException).code === 'ENOENT') {
    return {
      ok: false,
      missing: true,
      out: `${cmd} is not installed (apt packages: .ci/apt-infra.txt)`,
    };
  }
  const out = `${r.stdout ?? ''}${r.stderr ?? ''}`.replace(/\x1b\[[0-9;]*m/g, '').trim(); // eslint-disable-line no-control-regex
  return { ok: r.status === 0, missing: false, out };
}

const lines = (text: string, keep: RegExp, max = 30) =>
  text
    .split('\n')
    .filter((l) => keep.test(l))
    .slice(0, max)
    .map((l) => l.trim());

function walk(dir: string, pred: (f: string) => boolean): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    if (n === '.terraform' || n === 'node_modules') return [];
    return statSync(p).isDirectory() ? walk(p, pred) : pred(p) ? [p] : [];
  });
}

const TF_DIRS = ['terraform', 'terraform/bootstrap'];

// ---------------------------------------------------------------------------------------------

const terraformFmt: Check = {
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

const terraformPolicyCheck: Check = {
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

const ansibleSyntax: Check = {
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

const ansibleLint: Check = {
  id: 'ansible-lint',
  title: 'ansible-lint --profile production',
  async run(root) {
    const r = sh(
      'ansible-lint',
      ['--offline', '--profile', 'production', '-p', '--nocolor'],
      join(root, 'ansible'),
      { ANSIBLE_NOCOLOR: '1' },
    );
    return r.ok
      ? []
      : lines(
          r.out,
          /^(roles|site|group_vars|inventory|[a-z_./-]+\.ya?ml)[:\s]|Failed|not installed/,
        );
  },
};

const yamllint: Check = {
  id: 'yamllint',
  title: 'yamllint (strict) on ansible/',
  async run(root) {
    const r = sh('yamllint', ['-s', '-f', 'parsable', '.'], join(root, 'ansible'));
    return r.ok ? [] : lines(r.out, /\S/);
  },
};

const ansiblePolicy: Check = {
  id: 'ansible-policy',
  title: 'Ansible role layout, pinned versions, no secrets or default passwords in git',
  async run(root) {
    const errors: string[] = [];
    const role = join(root, 'ansible/roles/jenkins');
    for (const part of ['defaults', 'tasks', 'handlers', 'meta']) {
      if (!existsSync(join(role, part, 'main.yml'))) {
        errors.push(`ansible/roles/jenkins/${part}/main.yml is missing`);
      }
    }
    if (!existsSync(join(role, 'templates')) || !readdirSync(join(role, 'templates')).length) {
      errors.push('ansible/roles/jenkins/templates is missing');
    }
    if (errors.length) return errors;
    const defaults = parseYaml(readFileSync(join(role, 'defaults/main.yml'), 'utf8')) as Record<
      string,
      unknown
    >;
    if (!/^\d+\.\d+(\.\d+)?$/.test(String(defaults.jenkins_version))) {
      errors.push(
        `jenkins_version "${defaults.jenkins_version}" is not a pinned release (e.g. 2.504.1)`,
      );
    }
    const plugins = defaults.jenkins_plugins;
    if (!Array.isArray(plugins) || !plugins.length) errors.push('jenkins_plugins is empty');
    for (const p of Array.isArray(plugins) ? plugins : []) {
      if (!/^[a-z0-9-]+:[0-9][\w.-]*$/.test(String(p)) || /:latest$/.test(String(p))) {
        errors.push(`plugin "${p}" is not pinned as name:version`);
      }
    }
    for (const [k, v] of Object.entries(defaults)) {
      if (/password|secret|private_key|token/.test(k) && v !== '' && v !== null) {
        errors.push(`defaults/main.yml gives ${k} a default value: secrets have no defaults`);
      }
    }
    for (const f of walk(
      join(root, 'ansible'),
      (p) => /vault[^/]*\.ya?ml$/.test(p) && !/\.example\.ya?ml$/.test(p),
    )) {
      if (!readFileSync(f, 'utf8').startsWith('$ANSIBLE_VAULT;')) {
        errors.push(
          `${relative(root, f)} is a plaintext vault file: encrypt it with ansible-vault (or keep only the .example)`,
        );
      }
    }
    const casc = readFileSync(join(role, 'templates/jenkins.yaml.j2'), 'utf8');
    if (!/securityRealm:/.test(casc)) errors.push('jenkins.yaml.j2 has no securityRealm');
    if (/password:\s*["']?(?!\$\{)[^"'\s$]+/.test(casc)) {
      errors.push('jenkins.yaml.j2 has a literal password (use ${secret} from /run/secrets)');
    }
    const tasks = walk(join(role, 'tasks'), (p) => p.endsWith('.yml'))
      .map((f) => readFileSync(f, 'utf8'))
      .join('\n');
    if (!tasks.includes('runSetupWizard=false')) {
      errors.push(
        'the controller does not disable the setup wizard (-Djenkins.install.runSetupWizard=false)',
      );
    }
    return errors;
  },
};

const groovyLint: Check = {
  id: 'groovy-lint',
  title: 'npm-groovy-lint on the Jenkinsfiles (CodeNarc, Java)',
  async run(root) {
    const files = [
      'Jenkinsfile',
      ...walk(join(root, 'jenkins'), (p) => p.endsWith('Jenkinsfile')).map((f) =>
        relative(root, f),
      ),
    ];
    const bin = join(REPO, 'node_modules/.bin/npm-groovy-lint');
    const r = sh(
      bin,
      [
        '--noserver',
        '--failon',
        'warning',
        '--output',
        'txt',
        '--config',
        join(root, '.groovylintrc.json'),
        ...files,
      ],
      root,
    );
    if (r.ok) return [];
    if (/java|JAVA/.test(r.out) && !/warning|error/.test(r.out)) {
      return [`npm-groovy-lint could not run Java: ${r.out.slice(0, 300)}`];
    }
    return lines(r.out, /^\s*\d+\s+(error|warning)|^\S*Jenkinsfile|Parse|parse/);
  },
};

// ---------------------------------------------------------------------------------------------
// Dockerfile: the generic linter of dockerfile-utils (the VS Code Docker extension's validator)
// plus this image's policy on the parsed instructions.

export function dockerfilePolicy(text: string, dockerignore: string | undefined): string[] {
  const errors: string[] = [];
  const df = DockerfileParser.parse(text);
  const argDefaults = new Map<string, string>();
  for (const a of df.getARGs()) {
    const p = a.getProperty();
    if (p?.getName()) argDefaults.set(p.getName(), p.getValue() ?? '');
  }
  const froms = df.getFROMs();
  if (!froms.length) return ['Dockerfile has no FROM'];
  const stageNames = new Set<string>();
  for (const from of froms) {
    const raw = from.getImage() ?? '';
    const image = raw.replace(/^\$\{?(\w+)\}?$/, (_, n: string) => argDefaults.get(n) ?? raw);
    if (stageNames.has(image)) {
      // an earlier stage
    } else if (!/@sha256:[0-9a-f]{64}$/.test(image)) {
      errors.push(
        `FROM ${raw} (line ${from.getRange().start.line + 1}): base image not pinned by digest (@sha256:...)`,
      );
    }
    if (/:latest(@|$)/.test(image)) errors.push(`FROM ${raw}: uses the latest tag`);
    const name = from.getBuildStage();
    if (name) stageNames.add(name);
  }
  const finalFrom = froms[froms.length - 1];
  const finalLine = finalFrom.getRange().start.line;
  const inFinal = df.getInstructions().filter((i) => i.getRange().start.line > finalLine);
  const finals = (kw: string) => inFinal.filter((i) => i.getKeyword() === kw);
  const user = finals('USER').pop();
  const userArg = user?.getArgumentsContent()?.trim() ?? '';
  if (!user) {
    errors.push('final stage has no USER: the service would run as root');
  } else if (/^(root|0)(:|$)/.test(userArg)) {
    errors.push(`final stage runs as ${userArg}: use a non-root user`);
  }
  const hc = finals('HEALTHCHECK').pop();
  if (!hc || /^NONE$/i.test(hc.getArgumentsContent()?.trim() ?? '')) {
    errors.push('final stage has no HEALTHCHECK');
  }
  const env = finals('ENV')
    .map((i) => i.getArgumentsContent() ?? '')
    .join(' ');
  if (!/MODEL_DIR=\/opt\/model/.test(env)) {
    errors.push('final stage does not set MODEL_DIR=/opt/model');
  }
  if (!/NODE_ENV=production/.test(env)) errors.push('final stage does not set NODE_ENV=production');
  const runs = df
    .getInstructions()
    .filter((i) => i.getKeyword() === 'RUN')
    .map((i) => i.getArgumentsContent() ?? '');
  if (runs.some((r) => /\bnpm\s+(install|i)\b/.test(r))) {
    errors.push('RUN npm install: use npm ci (the lock file decides)');
  }
  if (!runs.some((r) => /\bnpm\s+ci\b/.test(r))) errors.push('no RUN npm ci');
  if (!runs.some((r) => /--omit[= ]dev|--production\b/.test(r))) {
    errors.push('dev dependencies are never pruned (npm prune/ci --omit=dev) for the runtime');
  }
  if (
    finals('RUN').some(
      (i) =>
        /\bnpm\s+ci\b/.test(i.getArgumentsContent() ?? '') &&
        !/--omit[= ]dev/.test(i.getArgumentsContent() ?? ''),
    )
  ) {
    errors.push('final stage installs dev dependencies');
  }
  const copies = df
    .getInstructions()
    .filter((i) => i.getKeyword() === 'COPY')
    .map((i) => i.getArgumentsContent() ?? '');
  if (!copies.some((c) => /\.npmrc/.test(c)) && !/ONNXRUNTIME_NODE_INSTALL=skip/.test(text)) {
    errors.push(
      'npm ci runs without the project .npmrc or ONNXRUNTIME_NODE_INSTALL=skip (onnxruntime-node would try a CUDA download)',
    );
  }
  if (
    finals('COPY').some(
      (i) =>
        /--chown=(1000|node)/.test(i.getArgumentsContent() ?? '') &&
        /\/opt\/model/.test(i.getArgumentsContent() ?? ''),
    )
  ) {
    errors.push(
      'the model is copied owned by the service user: it must stay read-only (root-owned)',
    );
  }
  if (dockerignore === undefined) {
    errors.push('.dockerignore is missing');
  } else {
    const entries = dockerignore.split('\n').map((l) => l.trim());
    for (const must of ['.git', 'node_modules', '*.tfstate', '*.tfvars']) {
      const covered = entries.some((e) => {
        const n = e.replace(/^\*\*\//, '').replace(/\/$/, '');
        return n === must || n === `${must}*`;
      });
      if (!covered) {
        errors.push(`.dockerignore does not exclude ${must}`);
      }
    }
  }
  return errors;
}

const dockerfile: Check = {
  id: 'dockerfile',
  title: 'Dockerfile lint (dockerfile-utils) and image policy',
  async run(root) {
    const path = join(root, 'Dockerfile');
    if (!existsSync(path)) return ['Dockerfile is missing'];
    const text = readFileSync(path, 'utf8');
    const errors = validateDockerfile(text)
      .filter(
        (d) => d.severity === ValidationSeverity.ERROR || d.severity === ValidationSeverity.WARNING,
      )
      .map((d) => `Dockerfile:${d.range.start.line + 1}: ${d.message}`);
    const ignore = existsSync(join(root, '.dockerignore'))
      ? readFileSync(join(root, '.dockerignore'), 'utf8')
      : undefined;
    return [...errors, ...dockerfilePolicy(text, ignore).map((e) => `Dockerfile: ${e}`)];
  },
};

const imageScripts: Check = {
  id: 'image-scripts',
  title: 'shellcheck on the image build scripts',
  async run(root) {
    const scripts = walk(join(root, 'tools/image'), (p) => p.endsWith('.sh')).map((f) =>
      relative(root, f),
    );
    if (!scripts.length) return ['tools/image has no build script'];
    const r = sh('shellcheck', ['-f', 'gcc', '-S', 'warning', ...scripts], root);
    const errors = r.ok ? [] : lines(r.out, /\S/);
    const build = join(root, 'tools/image/build-local.sh');
    if (existsSync(build)) {
      const text = readFileSync(build, 'utf8');
      if (!/build --isolation chroot/.test(text)) {
        errors.push(
          'tools/image/build-local.sh: buildah must build with --isolation chroot (no daemon, no user namespaces here)',
        );
      }
      if (!/NODE_IMAGE=/.test(text)) {
        errors.push('tools/image/build-local.sh: does not pass the local base as NODE_IMAGE');
      }
    }
    return errors;
  },
};

export const CHECKS: Check[] = [
  terraformFmt,
  terraformPolicyCheck,
  ansibleSyntax,
  ansibleLint,
  yamllint,
  ansiblePolicy,
  groovyLint,
  dockerfile,
  imageScripts,
];

export async function runChecks(
  root: string,
  ids?: string[],
): Promise<{ id: string; title: string; errors: string[]; ms: number }[]> {
  const selected = ids?.length ? CHECKS.filter((c) => ids.includes(c.id)) : CHECKS;
  const unknown = (ids ?? []).filter((id) => !CHECKS.some((c) => c.id === id));
  if (unknown.length) throw new Error(`unknown check(s): ${unknown.join(', ')}`);
  const results = [];
  for (const c of selected) {
    const start = Date.now();
    let errors: string[];
    try {
      errors = await c.run(root);
    } catch (err) {
      errors = [`check crashed: ${(err as Error).message}`];
    }
    results.push({ id: c.id, title: c.title, errors, ms: Date.now() - start });
  }
  return results;
}
