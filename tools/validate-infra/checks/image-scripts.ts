import { existsSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { lines, sh, walk, type InfraCheck } from '../support';

export const imageScriptsCheck: InfraCheck = {
  id: 'image-scripts',
  title: 'shellcheck on the image build scripts and the GitOps loop guard',
  async run(root) {
    const scripts = ['tools/image', 'tools/gitops'].flatMap((d) =>
      walk(join(root, d), (p) => p.endsWith('.sh')).map((f) => relative(root, f)),
    );
    if (!scripts.some((f) => f.startsWith('tools/image/'))) {
      return ['tools/image has no build script'];
    }
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
