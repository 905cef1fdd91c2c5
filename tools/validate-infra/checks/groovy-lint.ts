import { join, relative } from 'node:path';
import { lines, REPO, sh, walk, type InfraCheck } from '../support';

export const groovyLintCheck: InfraCheck = {
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
