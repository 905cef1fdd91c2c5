// The GitOps loop guard (tools/gitops/needs-build.sh) on a real temporary repository.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

const SCRIPT = join(__dirname, 'needs-build.sh');
const OVERLAY = 'gitops/apps/caption-service/overlays/staging/kustomization.yaml';
let repo: string;

const git = (...args: string[]) =>
  execFileSync('git', args, { cwd: repo, encoding: 'utf8' }).trim();

function commit(file: string, text: string, message: string): string {
  mkdirSync(dirname(join(repo, file)), { recursive: true });
  writeFileSync(join(repo, file), text);
  git('add', file);
  git('-c', 'user.name=t', '-c', 'user.email=t@t', 'commit', '-q', '-m', message);
  return git('rev-parse', 'HEAD');
}

function guard(last: string, head = 'HEAD') {
  const r = spawnSync('bash', [SCRIPT, last, head], { cwd: repo, encoding: 'utf8' });
  return { code: r.status, out: r.stdout.trim() + r.stderr.trim() };
}

beforeEach(() => {
  repo = mkdtempSync(join(tmpdir(), 'needs-build-'));
  git('init', '-q', '-b', 'main');
});
afterEach(() => rmSync(repo, { recursive: true, force: true }));

describe('needs-build.sh', () => {
  it('builds when nothing was built before, skips what was already built', () => {
    const a = commit('service/a.ts', '1', 'feat: a');
    expect(guard('')).toEqual({
      code: 0,
      out: 'build: no earlier successful build of this branch',
    });
    expect(guard(a)).toEqual({ code: 10, out: `skip: ${a} was already built` });
  });

  it('skips a range of bot bumps only', () => {
    const a = commit('service/a.ts', '1', 'feat: a');
    commit(OVERLAY, 'newTag: b', 'gitops(staging): caption-service b [skip ci]');
    commit(OVERLAY, 'newTag: c', 'gitops(staging): caption-service c [skip ci]');
    expect(guard(a)).toMatchObject({ code: 10 });
  });

  it("builds a person's commit even when a bump came after it (the last message says skip)", () => {
    const a = commit('service/a.ts', '1', 'feat: a');
    commit('service/a.ts', '2', 'fix: a');
    commit(OVERLAY, 'newTag: b', 'gitops(staging): caption-service b [skip ci]');
    const r = guard(a);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^build: changed since .*service\/a\.ts/);
  });

  it('builds an overlay edit made by hand (no marker), and a marker on other files', () => {
    const a = commit('service/a.ts', '1', 'feat: a');
    commit(OVERLAY, 'newTag: b', 'ops: pin staging by hand');
    expect(guard(a)).toMatchObject({
      code: 0,
      out: expect.stringMatching(/without the bot's marker/),
    });
    const b = git('rev-parse', 'HEAD');
    commit('README.md', 'x', 'docs [skip ci]');
    expect(guard(b)).toMatchObject({ code: 0, out: expect.stringMatching(/README\.md/) });
  });

  it('builds after a history rewrite and for a commit it does not know', () => {
    commit('service/a.ts', '1', 'feat: a');
    const gone = commit('service/a.ts', '2', 'wip');
    git('reset', '-q', '--hard', 'HEAD~1');
    commit('service/a.ts', '3', 'feat: b');
    expect(guard(gone)).toMatchObject({ code: 0, out: expect.stringMatching(/rewritten/) });
    expect(guard('0123456789abcdef0123456789abcdef01234567')).toMatchObject({
      code: 0,
      out: expect.stringMatching(/not in this clone/),
    });
  });
});
