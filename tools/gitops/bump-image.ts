// Points a kustomize overlay under gitops/apps at an image tag and, with --push, commits that
// as the bot and pushes it to the branch Argo CD watches.
//
//   # CI on main: staging gets the image just pushed
//   ts-node --transpile-only tools/gitops/bump-image.ts --overlay gitops/apps/caption-service/overlays/staging \
//     --new-name europe-west1-docker.pkg.dev/caption-platform/caption/caption-service --tag "$GIT_COMMIT" --push
//   # promotion: production gets whatever staging runs
//   ts-node --transpile-only tools/gitops/bump-image.ts --overlay gitops/apps/caption-service/overlays/production \
//     --from-overlay gitops/apps/caption-service/overlays/staging --push
//
// Guarantees:
//  - the commit carries SKIP_MARKER, which the Jenkinsfile honours, so a bump never builds again;
//  - a push race (another commit landed first) is resolved by rebasing onto the new tip, or, when
//    the other commit touched the same line, by redoing the edit on the new tip; then it retries;
//  - tags only move forward: when both the current and the new tag are commits of this repository
//    and the new one does not descend from the current one, nothing is changed (a slower, older
//    build finishing last must not roll staging back); --allow-rollback overrides that on purpose.
//
// One file, because the edit, the bot commit and the push-and-retry loop are one transaction over
// the same options, and the command line is only its front (as in the other tools).
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { assertImmutableTag, getImage, setImage } from './set-image';

export const SKIP_MARKER = '[skip ci]';

export interface BumpOptions {
  repoDir: string;
  overlay: string;
  image: string;
  newName?: string;
  tag?: string;
  fromOverlay?: string;
  push: boolean;
  commit: boolean;
  printTag?: boolean;
  remote: string;
  branch: string;
  retries: number;
  allowRollback: boolean;
  authorName: string;
  authorEmail: string;
  log?: (line: string) => void;
}

export type BumpOutcome =
  | { status: 'unchanged'; tag: string }
  | { status: 'skipped-older'; tag: string; current: string }
  | { status: 'written'; tag: string; previous?: string }
  | { status: 'committed'; tag: string; previous?: string; commit: string }
  | { status: 'pushed'; tag: string; previous?: string; commit: string; attempts: number };

export const defaults = {
  image: 'caption-service',
  remote: 'origin',
  branch: 'main',
  retries: 5,
  authorName: process.env.GITOPS_BOT_NAME || 'caption-platform-bot',
  authorEmail: process.env.GITOPS_BOT_EMAIL || 'caption-platform-bot@users.noreply.github.com',
};

function git(repoDir: string, args: string[], allowFail = false): { ok: boolean; out: string } {
  try {
    const out = execFileSync('git', args, {
      cwd: repoDir,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    return { ok: true, out: out.trim() };
  } catch (err) {
    const e = err as { stderr?: string; stdout?: string; message: string };
    if (!allowFail) {
      throw new Error(`git ${args.join(' ')} failed: ${(e.stderr || e.message).trim()}`);
    }
    return { ok: false, out: `${e.stdout || ''}${e.stderr || ''}`.trim() };
  }
}

function isCommit(repoDir: string, rev: string): boolean {
  return git(repoDir, ['cat-file', '-e', `${rev}^{commit}`], true).ok;
}

function kustomizationPath(repoDir: string, overlay: string): string {
  const file = join(repoDir, overlay, 'kustomization.yaml');
  if (!existsSync(file)) throw new Error(`no kustomization.yaml in ${overlay}`);
  return file;
}

/** Resolves the target newName/tag (from the options or from the source overlay). */
function target(opts: BumpOptions): { newName: string; tag: string } {
  let { newName, tag } = opts;
  if (opts.fromOverlay) {
    const src = getImage(
      readFileSync(kustomizationPath(opts.repoDir, opts.fromOverlay), 'utf8'),
      opts.image,
    );
    if (!src?.newTag) throw new Error(`${opts.fromOverlay} has no newTag for image ${opts.image}`);
    tag = tag || src.newTag;
    newName = newName || src.newName;
  }
  const current = getImage(
    readFileSync(kustomizationPath(opts.repoDir, opts.overlay), 'utf8'),
    opts.image,
  );
  newName = newName || current?.newName;
  if (!tag) throw new Error('no tag: pass --tag or --from-overlay');
  if (!newName) {
    throw new Error(
      `no image name: ${opts.overlay} has no newName for ${opts.image}; pass --new-name`,
    );
  }
  assertImmutableTag(tag);
  return { newName, tag };
}

/** Edits the overlay in the working tree. Returns the outcome without committing. */
function edit(opts: BumpOptions): BumpOutcome {
  const { newName, tag } = target(opts);
  const file = kustomizationPath(opts.repoDir, opts.overlay);
  const before = readFileSync(file, 'utf8');
  const current = getImage(before, opts.image);
  const previous = current?.newTag;
  if (previous === tag && current?.newName === newName && !current?.digest) {
    return { status: 'unchanged', tag };
  }
  if (
    previous &&
    previous !== tag &&
    !opts.allowRollback &&
    isCommit(opts.repoDir, previous) &&
    isCommit(opts.repoDir, tag)
  ) {
    if (!git(opts.repoDir, ['merge-base', '--is-ancestor', previous, tag], true).ok) {
      return { status: 'skipped-older', tag, current: previous };
    }
  }
  writeFileSync(file, setImage(before, opts.image, newName, tag));
  return { status: 'written', tag, previous };
}

function commitEdit(opts: BumpOptions, outcome: BumpOutcome & { status: 'written' }): BumpOutcome {
  const env = opts.overlay.split('/').filter(Boolean).pop();
  const from = outcome.previous ? ` (was ${outcome.previous.slice(0, 12)})` : '';
  const subject = `gitops(${env}): ${opts.image} ${outcome.tag.slice(0, 12)}${from} ${SKIP_MARKER}`;
  const body = `Image-Tag: ${outcome.tag}\nOverlay: ${opts.overlay}`;
  git(opts.repoDir, ['add', '--', join(opts.overlay, 'kustomization.yaml')]);
  git(opts.repoDir, [...asBot(opts), 'commit', '--no-verify', '-q', '-m', subject, '-m', body]);
  return { ...outcome, status: 'committed', commit: git(opts.repoDir, ['rev-parse', 'HEAD']).out };
}

/** `git -c` options that make the bot the author and committer. */
function asBot(opts: BumpOptions): string[] {
  return ['-c', `user.name=${opts.authorName}`, '-c', `user.email=${opts.authorEmail}`];
}

/** Fetches the watched branch; returns the remote-tracking ref of its tip. */
function fetchTip(opts: BumpOptions): string {
  const tip = `refs/remotes/${opts.remote}/${opts.branch}`;
  git(opts.repoDir, ['fetch', '-q', opts.remote, `+refs/heads/${opts.branch}:${tip}`]);
  return tip;
}

function checkoutTip(opts: BumpOptions): void {
  git(opts.repoDir, ['checkout', '-q', '--detach', fetchTip(opts)]);
}

export function bumpImage(opts: BumpOptions): BumpOutcome {
  const log = opts.log ?? (() => undefined);
  if (!opts.push) {
    const outcome = edit(opts);
    if (outcome.status !== 'written' || !opts.commit) return outcome;
    return commitEdit(opts, outcome);
  }

  checkoutTip(opts);
  let outcome = edit(opts);
  if (outcome.status !== 'written') return outcome;
  outcome = commitEdit(opts, outcome);
  for (let attempt = 1; ; attempt++) {
    const push = git(
      opts.repoDir,
      ['push', '--porcelain', opts.remote, `HEAD:refs/heads/${opts.branch}`],
      true,
    );
    if (push.ok) {
      const commit = git(opts.repoDir, ['rev-parse', 'HEAD']).out;
      return {
        status: 'pushed',
        tag: outcome.tag,
        previous: (outcome as { previous?: string }).previous,
        commit,
        attempts: attempt,
      };
    }
    if (!/rejected|non-fast-forward|fetch first/.test(push.out)) {
      throw new Error(`push failed: ${push.out}`);
    }
    if (attempt >= opts.retries) {
      throw new Error(`push still rejected after ${attempt} attempts: ${push.out}`);
    }
    log(`push rejected (attempt ${attempt}): ${opts.branch} moved; rebasing onto the new tip`);
    const rebase = git(opts.repoDir, [...asBot(opts), 'rebase', '-q', fetchTip(opts)], true);
    if (!rebase.ok) {
      // The other commit changed the same line (usually another bump): redo the edit on its tip.
      git(opts.repoDir, ['rebase', '--abort'], true);
      log('rebase conflicted; redoing the edit on the new tip');
      checkoutTip(opts);
      const redo = edit(opts);
      if (redo.status !== 'written') return redo;
      outcome = commitEdit(opts, redo);
    }
  }
}

/** The command line (node's own parseArgs: unknown options and missing values are errors). */
function parseCli(argv: string[]): BumpOptions {
  const { values: v } = parseArgs({
    args: argv,
    strict: true,
    options: {
      repo: { type: 'string', default: process.cwd() },
      overlay: { type: 'string' },
      image: { type: 'string', default: defaults.image },
      'new-name': { type: 'string' },
      tag: { type: 'string' },
      'from-overlay': { type: 'string' },
      remote: { type: 'string', default: defaults.remote },
      branch: { type: 'string', default: defaults.branch },
      retries: { type: 'string', default: String(defaults.retries) },
      commit: { type: 'boolean', default: false },
      push: { type: 'boolean', default: false },
      'print-tag': { type: 'boolean', default: false },
      'allow-rollback': { type: 'boolean', default: false },
    },
  });
  if (!v.overlay) throw new Error('--overlay is required');
  const retries = Number(v.retries);
  if (!Number.isInteger(retries) || retries < 1) {
    throw new Error('--retries must be a positive integer');
  }
  return {
    ...defaults,
    repoDir: v.repo,
    overlay: v.overlay,
    image: v.image,
    newName: v['new-name'],
    tag: v.tag,
    fromOverlay: v['from-overlay'],
    remote: v.remote,
    branch: v.branch,
    retries,
    // --push commits first.
    commit: v.commit || v.push,
    push: v.push,
    printTag: v['print-tag'],
    allowRollback: v['allow-rollback'],
  };
}

if (require.main === module) {
  try {
    const opts = parseCli(process.argv.slice(2));
    if (opts.printTag) {
      const file = join(opts.repoDir, opts.overlay, 'kustomization.yaml');
      process.stdout.write(`${getImage(readFileSync(file, 'utf8'), opts.image)?.newTag ?? ''}\n`);
      process.exit(0);
    }
    const outcome = bumpImage({ ...opts, log: (l) => console.log(l) });
    const messages: Record<BumpOutcome['status'], string> = {
      unchanged: `${opts.overlay} already runs ${outcome.tag}`,
      'skipped-older': `${opts.overlay} runs a newer commit; not moving it back to ${outcome.tag} (--allow-rollback to force)`,
      written: `${opts.overlay}: ${opts.image} -> ${outcome.tag} (working tree only)`,
      committed: `${opts.overlay}: ${opts.image} -> ${outcome.tag} (committed, not pushed)`,
      pushed: `${opts.overlay}: ${opts.image} -> ${outcome.tag} (pushed)`,
    };
    console.log(messages[outcome.status]);
  } catch (err) {
    console.error(`bump-image: ${(err as Error).message}`);
    process.exit(1);
  }
}
