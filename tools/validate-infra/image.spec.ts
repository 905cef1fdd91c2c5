// validate:infra's image checks (the Dockerfile and the build scripts), each shown failing on one
// planted mistake in a copy of the tree.
import { rmSync } from 'node:fs';
import { copyTree, failuresIn, plantIn } from './helpers.spec-util';

let root: string;
const plant = (file: string, from: string | RegExp, to: string) => plantIn(root, file, from, to);
const failures = (id: string) => failuresIn(root, id);

beforeEach(() => {
  root = copyTree();
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

describe('dockerfile', () => {
  const cases: [string, string | RegExp, string, RegExp][] = [
    [
      'base without digest',
      /node:20-bookworm-slim@sha256:[0-9a-f]{64}/,
      'node:20-bookworm-slim',
      /not pinned by digest/,
    ],
    [
      'latest tag',
      /node:20-bookworm-slim@sha256:[0-9a-f]{64}/,
      'node:latest',
      /uses the latest tag/,
    ],
    ['no USER', /^USER 1000:1000\n/m, '', /final stage has no USER/],
    ['root USER', /^USER 1000:1000$/m, 'USER root', /final stage runs as root/],
    ['no HEALTHCHECK', /^HEALTHCHECK[^\n]*\\\n[^\n]*\n/m, '', /final stage has no HEALTHCHECK/],
    ['npm install', 'npm ci --ignore-scripts', 'npm install --ignore-scripts', /use npm ci/],
    [
      'dev dependencies kept',
      'npm prune --omit=dev',
      'npm prune',
      /dev dependencies are never pruned/,
    ],
    [
      'invalid instruction (linter)',
      /^EXPOSE 3000$/m,
      'EXPOSE 3000/tcpx',
      /Dockerfile:\d+: Invalid proto: tcpx/,
    ],
  ];
  it.each(cases)('fails on: %s', async (_name, from, to, expected) => {
    plant('Dockerfile', from, to);
    expect(await failures('dockerfile')).toMatch(expected);
  });

  it('fails when .dockerignore lets the git history and Terraform state in', async () => {
    plant('.dockerignore', /^\.git$/m, '');
    plant('.dockerignore', /^\*\*\/\*\.tfstate\*$/m, '');
    const out = await failures('dockerfile');
    expect(out).toMatch(/does not exclude \.git/);
    expect(out).toMatch(/does not exclude \*\.tfstate/);
  });
});

describe('image-scripts', () => {
  it('shellcheck fails on an unassigned variable', async () => {
    plant(
      'tools/image/build-local.sh',
      'set -euo pipefail\n',
      'set -euo pipefail\necho "$undefined_thing"\n',
    );
    expect(await failures('image-scripts')).toMatch(
      /build-local\.sh:\d+:\d+: warning: undefined_thing is referenced but not assigned/,
    );
  });

  it('fails when the build no longer uses chroot isolation', async () => {
    plant('tools/image/build-local.sh', /build --isolation chroot/, 'build');
    expect(await failures('image-scripts')).toMatch(/--isolation chroot/);
  });
});
