import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BumpOptions, bumpImage, defaults, SKIP_MARKER } from './bump-image';
import { getImage, setImage } from './set-image';

const REGISTRY = 'europe-west1-docker.pkg.dev/caption-platform/caption/caption-service';
const STAGING = 'gitops/apps/caption-service/overlays/staging';
const PRODUCTION = 'gitops/apps/caption-service/overlays/production';

const overlay = (env: string, tag: string) => `# ${env}: Argo CD syncs this; CI moves newTag.
apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
namespace: caption-${env}
resources:
  - ../../base
images:
  - name: busybox # a second image that must stay as it is
    newTag: "1.36"
  - name: caption-service
    newName: ${REGISTRY}
    newTag: ${tag} # moved by tools/gitops/bump-image.ts
`;

function git(cwd: string, ...args: string[]): string {
  return execFileSync('git', args, {
    cwd,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  }).trim();
}

function commitAll(cwd: string, message: string): string {
  git(cwd, 'add', '-A');
  git(
    cwd,
    '-c',
    'user.name=dev',
    '-c',
    'user.email=dev@example.com',
    'commit',
    '-q',
    '-m',
    message,
  );
  return git(cwd, 'rev-parse', 'HEAD');
}

describe('set-image (kustomize edit set image semantics)', () => {
  const text = overlay('staging', 'aaaaaaa');

  it('moves newTag of the named entry only, keeping comments and the other images', () => {
    const out = setImage(text, 'caption-service', REGISTRY, 'bbbbbbbbbbbb');
    expect(out).toBe(text.replace('newTag: aaaaaaa #', 'newTag: bbbbbbbbbbbb #'));
    expect(getImage(out, 'busybox')).toEqual({
      name: 'busybox',
      newName: undefined,
      newTag: '1.36',
      digest: undefined,
    });
  });

  it('drops a digest and sets newName, as kustomize does for NAME=NEW:TAG', () => {
    const withDigest = text.replace(
      `newName: ${REGISTRY}`,
      `newName: old/name\n    digest: sha256:${'0'.repeat(64)}`,
    );
    const ref = getImage(
      setImage(withDigest, 'caption-service', REGISTRY, 'ccccccc'),
      'caption-service',
    );
    expect(ref).toEqual({
      name: 'caption-service',
      newName: REGISTRY,
      newTag: 'ccccccc',
      digest: undefined,
    });
  });

  it('creates the entry and the images list when missing', () => {
    const bare =
      'apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n  - ../../base\n';
    const out = setImage(bare, 'caption-service', REGISTRY, 'ddddddd');
    expect(getImage(out, 'caption-service')?.newTag).toBe('ddddddd');
    expect(out.startsWith(bare)).toBe(true);
  });

  it('refuses mutable tags and names that carry a tag', () => {
    expect(() => setImage(text, 'caption-service', REGISTRY, 'latest')).toThrow(
      /refusing tag "latest"/,
    );
    expect(() => setImage(text, 'caption-service', REGISTRY, 'v1.2.3')).toThrow(/immutable/);
    expect(() => setImage(text, 'caption-service', `${REGISTRY}:latest`, 'ddddddd')).toThrow(
      /invalid image name/,
    );
    expect(
      setImage(text, 'caption-service', 'localhost:5000/caption-service', 'ddddddd'),
    ).toContain('localhost:5000/caption-service');
  });
});

describe('bump-image against a temporary git remote', () => {
  let root: string;
  let remote: string;
  let work: string;
  let other: string;
  let c1: string;
  let c2: string;
  let c3: string;

  const opts = (o: Partial<BumpOptions>): BumpOptions => ({
    repoDir: work,
    overlay: STAGING,
    push: true,
    commit: true,
    allowRollback: false,
    ...defaults,
    ...o,
  });
  const remoteFile = (path: string) => git(remote, 'show', `main:${path}/kustomization.yaml`);
  const remoteTag = (path: string) => getImage(remoteFile(path), 'caption-service')?.newTag;

  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'bump-image-'));
    remote = join(root, 'remote.git');
    git(root, 'init', '-q', '--bare', '-b', 'main', remote);
    const seed = join(root, 'seed');
    git(root, 'clone', '-q', remote, seed);
    git(seed, 'checkout', '-q', '-b', 'main');
    writeFileSync(join(seed, 'app.txt'), '1\n');
    c1 = commitAll(seed, 'app 1');
    writeFileSync(join(seed, 'app.txt'), '2\n');
    c2 = commitAll(seed, 'app 2');
    writeFileSync(join(seed, 'app.txt'), '3\n');
    c3 = commitAll(seed, 'app 3');
    for (const env of ['staging', 'production']) {
      mkdirSync(join(seed, 'gitops/apps/caption-service/overlays', env), { recursive: true });
      writeFileSync(
        join(seed, 'gitops/apps/caption-service/overlays', env, 'kustomization.yaml'),
        overlay(env, c1),
      );
    }
    commitAll(seed, 'gitops overlays at app 1');
    git(seed, 'push', '-q', 'origin', 'main');
    work = join(root, 'work');
    other = join(root, 'other');
    git(root, 'clone', '-q', remote, work);
    git(root, 'clone', '-q', remote, other);
  });

  afterEach(() => rmSync(root, { recursive: true, force: true }));

  it('commits the new tag as the bot with the skip marker and pushes it', () => {
    const out = bumpImage(opts({ tag: c3 }));
    expect(out).toMatchObject({ status: 'pushed', tag: c3, previous: c1, attempts: 1 });
    expect(remoteTag(STAGING)).toBe(c3);
    expect(remoteTag(PRODUCTION)).toBe(c1);
    expect(git(remote, 'log', '-1', '--format=%an <%ae>%n%s', 'main')).toBe(
      `${defaults.authorName} <${defaults.authorEmail}>\ngitops(staging): caption-service ${c3.slice(0, 12)} (was ${c1.slice(0, 12)}) ${SKIP_MARKER}`,
    );
    expect(git(remote, 'diff', '--name-only', 'main~1', 'main')).toBe(
      `${STAGING}/kustomization.yaml`,
    );
    expect(git(remote, 'diff', '--numstat', 'main~1', 'main')).toBe(
      `1\t1\t${STAGING}/kustomization.yaml`,
    );
  });

  it('does nothing when the overlay already has the tag', () => {
    const head = git(remote, 'rev-parse', 'main');
    expect(bumpImage(opts({ tag: c1 }))).toEqual({ status: 'unchanged', tag: c1 });
    expect(git(remote, 'rev-parse', 'main')).toBe(head);
  });

  it('rebases and retries when another commit lands between its fetch and its push', () => {
    // The pre-push hook plays the other committer: it lands an unrelated commit once.
    const hook = join(work, '.git/hooks/pre-push');
    writeFileSync(
      hook,
      `#!/bin/sh
[ -f "${root}/raced" ] && exit 0
touch "${root}/raced"
cd "${other}" && echo docs > README.md && git add README.md &&
  git -c user.name=dev -c user.email=dev@example.com commit -q -m "docs" && git push -q origin HEAD:main
`,
    );
    chmodSync(hook, 0o755);
    const logs: string[] = [];
    const out = bumpImage(opts({ tag: c2, log: (l) => logs.push(l) }));
    expect(out).toMatchObject({ status: 'pushed', attempts: 2 });
    expect(logs.join('\n')).toMatch(/push rejected \(attempt 1\)/);
    expect(remoteTag(STAGING)).toBe(c2);
    expect(git(remote, 'log', '--format=%s', '-2', 'main').split('\n')).toEqual([
      expect.stringContaining(`gitops(staging): caption-service ${c2.slice(0, 12)}`),
      'docs',
    ]);
  });

  it('does not roll back when a newer bump wins the race on the same line', () => {
    const hook = join(work, '.git/hooks/pre-push');
    // The competing build (newer commit c3) bumps staging first.
    writeFileSync(
      hook,
      `#!/bin/sh
[ -f "${root}/raced" ] && exit 0
touch "${root}/raced"
cd "${other}" && sed -i "s/newTag: ${c1}/newTag: ${c3}/" ${STAGING}/kustomization.yaml &&
  git -c user.name=bot -c user.email=bot@example.com commit -qam "bump c3" && git push -q origin HEAD:main
`,
    );
    chmodSync(hook, 0o755);
    const out = bumpImage(opts({ tag: c2 }));
    expect(out).toEqual({ status: 'skipped-older', tag: c2, current: c3 });
    expect(remoteTag(STAGING)).toBe(c3);
  });

  it('only moves forward unless a rollback is asked for', () => {
    bumpImage(opts({ tag: c3 }));
    expect(bumpImage(opts({ tag: c2 }))).toEqual({ status: 'skipped-older', tag: c2, current: c3 });
    expect(remoteTag(STAGING)).toBe(c3);
    expect(bumpImage(opts({ tag: c2, allowRollback: true }))).toMatchObject({
      status: 'pushed',
      tag: c2,
    });
    expect(remoteTag(STAGING)).toBe(c2);
  });

  it('promotes production to the tag staging runs', () => {
    bumpImage(opts({ tag: c2 }));
    const out = bumpImage(opts({ overlay: PRODUCTION, fromOverlay: STAGING }));
    expect(out).toMatchObject({ status: 'pushed', tag: c2, previous: c1 });
    expect(getImage(remoteFile(PRODUCTION), 'caption-service')).toMatchObject({
      newName: REGISTRY,
      newTag: c2,
    });
    expect(git(remote, 'log', '-1', '--format=%s', 'main')).toContain('gitops(production)');
  });

  it('CLI: edits in place without --push, and exits 1 with a reason on a mutable tag', () => {
    const cli = (args: string[]) =>
      spawnSync(
        process.execPath,
        [
          '-r',
          require.resolve('ts-node/register/transpile-only'),
          join(__dirname, 'bump-image.ts'),
          ...args,
        ],
        {
          cwd: work,
          encoding: 'utf8',
          env: { ...process.env, TS_NODE_PROJECT: join(__dirname, '../../tsconfig.json') },
        },
      );
    const bad = cli(['--overlay', STAGING, '--tag', 'latest']);
    expect(bad.status).toBe(1);
    expect(bad.stderr).toContain('refusing tag "latest"');
    const ok = cli(['--overlay', STAGING, '--tag', c2]);
    expect(ok.status).toBe(0);
    expect(ok.stdout).toContain('working tree only');
    expect(
      getImage(readFileSync(join(work, STAGING, 'kustomization.yaml'), 'utf8'), 'caption-service')
        ?.newTag,
    ).toBe(c2);
    expect(git(work, 'status', '--porcelain')).toBe(`M ${STAGING}/kustomization.yaml`);
    const printed = cli(['--overlay', PRODUCTION, '--print-tag']);
    expect(printed.stdout).toBe(`${c1}\n`);
  });
});
