// Reading facts out of a bare git snapshot of an upstream repository (the search tool's fetch,
// or `git clone --bare`), and writing them with the command that did it.
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import * as path from 'node:path';
import type { FactSource } from './upstream-facts';

export function git(gitDir: string, ...args: string[]): string {
  return execFileSync('git', ['--git-dir', gitDir, ...args], {
    encoding: 'utf8',
    maxBuffer: 256 << 20,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

export function show(gitDir: string, tag: string, file: string): string {
  return git(gitDir, 'show', `${tag}:${file}`);
}

export function source(gitDir: string, repository: string, tag: string, paths: string[]) {
  const commit = git(gitDir, 'rev-parse', `${tag}^{commit}`).trim();
  return { repository, tag, commit, paths } satisfies FactSource;
}

export function tags(gitDir: string, pattern: RegExp): string[] {
  return git(gitDir, 'tag', '--list')
    .split('\n')
    .filter((t) => pattern.test(t));
}

export function write(file: string, facts: object): void {
  writeFileSync(file, `${JSON.stringify(facts, null, 2)}\n`);
  console.log(`wrote ${path.relative(process.cwd(), file)}`);
}

/** This command as run, with snapshot paths shown as <owner+name> (they differ per machine). */
export const commandLine = () =>
  `ts-node --transpile-only ${path.relative(process.cwd(), process.argv[1])} ${process.argv
    .slice(2)
    .join(' ')
    .replace(/\/[^\s=]*\/([^/\s=]+)\/repo\b/g, '<$1>')}`;

/**
 * Field paths an OpenAPI schema declares: properties descend, array items descend as "[]",
 * objects with additionalProperties (maps) or preserve-unknown-fields are open.
 */
