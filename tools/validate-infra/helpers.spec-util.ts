// Test helpers for validate:infra's specs: a scratch copy of the delivery tree to plant one
// mistake in, and the problems one check reports on it.
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runChecks } from '../validate-common/check-runner';
import { CHECKS } from './checks';

export const REPO = join(__dirname, '../..');
const TREE = [
  'terraform',
  'ansible',
  'Jenkinsfile',
  'jenkins',
  '.groovylintrc.json',
  'Dockerfile',
  '.dockerignore',
  'tools/image',
  'tools/gitops',
  'platform.yaml',
  'gitops',
];

export function copyTree(): string {
  const dir = mkdtempSync(join(tmpdir(), 'validate-infra-'));
  for (const p of TREE) {
    cpSync(join(REPO, p), join(dir, p), {
      recursive: true,
      filter: (src) =>
        !/\.terraform(\/|$)|tfstate|terraform\.tfvars$|hosts\.yml$|vault\.yml$/.test(src),
    });
  }
  return dir;
}

/** Replaces `from` (which must be present) with `to` in a file of the copy at `root`. */
export function plantIn(root: string, file: string, from: string | RegExp, to: string): void {
  const path = join(root, file);
  const text = readFileSync(path, 'utf8');
  const next = text.replace(from, to);
  if (next === text) throw new Error(`planting failed: ${String(from)} not found in ${file}`);
  writeFileSync(path, next);
}

/** The problems one check reports on the tree at `root`, as one text. */
export async function failuresIn(root: string, id: string): Promise<string> {
  const [result] = await runChecks(CHECKS, root, [id]);
  return result.problems.join('\n');
}
