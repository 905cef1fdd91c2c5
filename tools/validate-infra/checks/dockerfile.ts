import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { validate as validateDockerfile, ValidationSeverity } from 'dockerfile-utils';
import { dockerfilePolicy } from '../dockerfile-policy';
import { type InfraCheck } from '../support';

export const dockerfileCheck: InfraCheck = {
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
