// Test helpers: a scratch copy of gitops/ to plant one mistake in. Every edit asserts that
// the text it replaces exists, so a spec cannot silently stop planting its mistake when the
// real tree changes.
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';

export const REPO_ROOT = path.resolve(__dirname, '..', '..');

export class ScratchTree {
  readonly root = mkdtempSync(path.join(tmpdir(), 'gitops-planted-'));
  /** A copy of tools/validate-gitops/upstream, as "upstream/..." for read/replace. */
  readonly factsDir = path.join(this.root, 'upstream');

  constructor() {
    try {
      cpSync(path.join(REPO_ROOT, 'gitops'), path.join(this.root, 'gitops'), { recursive: true });
      // Terraform's node pool, for the capacity check.
      cpSync(path.join(REPO_ROOT, 'terraform'), path.join(this.root, 'terraform'), {
        recursive: true,
        filter: (src) => !/\.terraform(\/|$)|tfstate|\.tfvars$/.test(src),
      });
      // The upstream facts too, so a case can plant a mistake in them (see factsDir).
      cpSync(path.join(__dirname, 'upstream'), this.factsDir, { recursive: true });
    } catch (e) {
      // The caller's finally never runs when construction fails: do not leak the folder.
      this.remove();
      throw e;
    }
  }

  file(rel: string): string {
    return path.join(this.root, rel);
  }

  read(rel: string): string {
    return readFileSync(this.file(rel), 'utf8');
  }

  write(rel: string, text: string): void {
    writeFileSync(this.file(rel), text);
  }

  /** Replace one exact, unique occurrence of `from`. */
  replace(rel: string, from: string | RegExp, to: string): void {
    const text = this.read(rel);
    const count =
      typeof from === 'string'
        ? text.split(from).length - 1
        : (
            text.match(
              new RegExp(from, from.flags.includes('g') ? from.flags : from.flags + 'g'),
            ) ?? []
          ).length;
    if (count !== 1) {
      throw new Error(
        `planting failed: expected exactly one ${String(from)} in ${rel}, found ${count}`,
      );
    }
    this.write(rel, text.replace(from, to));
  }

  remove(): void {
    rmSync(this.root, { recursive: true, force: true });
  }
}
