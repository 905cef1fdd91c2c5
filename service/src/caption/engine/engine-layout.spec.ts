/**
 * The engine's two sides stay apart: the runtime (runtime/) loads prepared graphs and runs them,
 * the prepare side (prepare/) builds them. The runtime takes only the shared tensor names from
 * the prepare side, so a worker never loads the graph passes, and preparation can change without
 * touching what runs per request.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';

const ENGINE = __dirname;
const PREPARE = join(ENGINE, 'prepare');
const ALLOWED_FROM_PREPARE = new Set([join(PREPARE, 'tensor-names')]);

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sources(path);
    return entry.name.endsWith('.ts') && !entry.name.endsWith('.spec.ts') ? [path] : [];
  });
}

function importsOf(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  return [...text.matchAll(/(?:from|import)\s+'(\.[^']+)'/g)].map((m) =>
    resolve(join(file, '..'), m[1]),
  );
}

describe('engine layout', () => {
  it('the runtime imports nothing from the prepare side but the tensor names', () => {
    const runtime = sources(join(ENGINE, 'runtime'));
    expect(runtime.length).toBeGreaterThan(3);
    const crossings = runtime.flatMap((file) =>
      importsOf(file)
        .filter((target) => target.startsWith(PREPARE + '/') && !ALLOWED_FROM_PREPARE.has(target))
        .map((target) => `${relative(ENGINE, file)} -> ${relative(ENGINE, target)}`),
    );
    expect(crossings).toEqual([]);
  });

  it('the prepare side does not import the runtime', () => {
    const crossings = sources(PREPARE).flatMap((file) =>
      importsOf(file)
        .filter((target) => target.startsWith(join(ENGINE, 'runtime') + '/'))
        .map((target) => `${relative(ENGINE, file)} -> ${relative(ENGINE, target)}`),
    );
    expect(crossings).toEqual([]);
  });
});
