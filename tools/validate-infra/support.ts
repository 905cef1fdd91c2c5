// What the infra checks share: running a tool (a missing one is a failure that names the apt
// list, never a skip), keeping the lines of its output worth reporting, and finding files.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { Check } from '../validate-common/check-runner';

/** A check of `npm run validate:infra`: it looks at the delivery tree under a root folder. */
export type InfraCheck = Check<string>;

/** The repository this validator runs from (its node_modules, its tools). */
export const REPO = join(__dirname, '../..');

export function sh(cmd: string, args: string[], cwd: string, env: Record<string, string> = {}) {
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

export const lines = (text: string, keep: RegExp, max = 30) =>
  text
    .split('\n')
    .filter((l) => keep.test(l))
    .slice(0, max)
    .map((l) => l.trim());

export function walk(dir: string, pred: (f: string) => boolean): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    if (n === '.terraform' || n === 'node_modules') return [];
    return statSync(p).isDirectory() ? walk(p, pred) : pred(p) ? [p] : [];
  });
}

export const TF_DIRS = ['terraform', 'terraform/bootstrap'];
