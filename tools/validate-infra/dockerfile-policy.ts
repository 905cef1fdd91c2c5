// This image's policy on the parsed Dockerfile instructions (dockerfile-ast, the parser of the
// VS Code Docker extension), beside the generic linter the dockerfile check also runs.
import { DockerfileParser } from 'dockerfile-ast';

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
