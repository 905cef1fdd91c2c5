// Locating the external binaries the validator shells out to. Each lookup fails loudly with
// what it tried: a validator that silently skips a step would pass on a broken tree.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { stringify } from 'yaml';

export interface Kustomize {
  /** How it was found, for the report. */
  describe: string;
  build(dir: string): Promise<{ ok: true; yaml: string } | { ok: false; error: string }>;
}

function onPath(name: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    if (!dir) continue;
    const candidate = path.join(dir, name);
    if (existsSync(candidate)) return candidate;
  }
  return undefined;
}

function runs(bin: string, args: string[]): boolean {
  const r = spawnSync(bin, args, { encoding: 'utf8', timeout: 30_000 });
  return r.status === 0;
}

function fromBinary(bin: string, viaKubectl: boolean): Kustomize {
  const args = (dir: string) => (viaKubectl ? ['kustomize', dir] : ['build', dir]);
  return {
    describe: viaKubectl ? `${bin} kustomize` : `${bin} build`,
    build(dir) {
      return new Promise((resolve) => {
        const child = spawn(bin, args(dir), { stdio: ['ignore', 'pipe', 'pipe'] });
        let out = '';
        let err = '';
        child.stdout.setEncoding('utf8').on('data', (d) => (out += d));
        child.stderr.setEncoding('utf8').on('data', (d) => (err += d));
        child.on('error', (e) => resolve({ ok: false, error: e.message }));
        child.on('close', (code) =>
          resolve(
            code === 0
              ? { ok: true, yaml: out }
              : { ok: false, error: (err || `exit ${code}`).trim() },
          ),
        );
      });
    },
  };
}

/**
 * Order: $KUSTOMIZE (a kustomize or kubectl binary), `kustomize` on PATH, `kubectl` on PATH
 * (kustomize is built into kubectl), then the versioned kubectl binaries the Google Cloud SDK
 * ships. The first that answers `version` wins.
 */
let found: Kustomize | undefined;

export function findKustomize(): Kustomize {
  found ??= locateKustomize();
  return found;
}

function locateKustomize(): Kustomize {
  const tried: string[] = [];
  const candidates: Array<[string | undefined, string]> = [
    [process.env.KUSTOMIZE, '$KUSTOMIZE'],
    [onPath('kustomize'), 'kustomize on PATH'],
    [onPath('kubectl'), 'kubectl on PATH'],
  ];
  const sdkBin = '/usr/lib/google-cloud-sdk/bin';
  if (existsSync(sdkBin)) {
    for (const f of readdirSync(sdkBin)
      .filter((f) => /^kubectl\.1\.\d+$/.test(f))
      .sort()
      .reverse()) {
      candidates.push([path.join(sdkBin, f), `Google Cloud SDK ${f}`]);
    }
  }
  for (const [bin, label] of candidates) {
    if (!bin) {
      tried.push(`${label}: not set / not found`);
      continue;
    }
    const viaKubectl = path.basename(bin).startsWith('kubectl');
    const ok = viaKubectl ? runs(bin, ['version', '--client']) : runs(bin, ['version']);
    if (ok) return fromBinary(bin, viaKubectl);
    tried.push(`${label} (${bin}): does not run`);
  }
  throw new Error(
    `No kustomize found. Install kustomize or kubectl, or set KUSTOMIZE=/path/to/kustomize.\nTried:\n  ${tried.join('\n  ')}`,
  );
}

export function findPromtool(): string {
  const bin = process.env.PROMTOOL ?? onPath('promtool');
  if (!bin || !existsSync(bin)) {
    throw new Error(
      'promtool not found: install it (Debian: apt-get install prometheus; listed in .ci/apt-gitops.txt) or set PROMTOOL=/path/to/promtool',
    );
  }
  return bin;
}

export function runPromtool(args: string[], cwd?: string): { ok: boolean; output: string } {
  const r = spawnSync(findPromtool(), args, { encoding: 'utf8', cwd, timeout: 120_000 });
  return { ok: r.status === 0, output: `${r.stdout ?? ''}${r.stderr ?? ''}`.trim() };
}

const promtoolCache = new Map<string, { ok: boolean; output: string }>();

/**
 * promtool on files written from `files` into a scratch folder; results are memoised on
 * the exact inputs (promtool is deterministic), so re-validating a tree where only one
 * manifest changed does not re-run identical rule tests.
 */
export function promtoolOnFiles(
  args: string[],
  files: Record<string, string>,
): { ok: boolean; output: string } {
  const key = JSON.stringify([args, files]);
  const hit = promtoolCache.get(key);
  if (hit) return hit;
  const dir = mkdtempSync(path.join(tmpdir(), 'promtool-'));
  try {
    for (const [name, text] of Object.entries(files)) writeFileSync(path.join(dir, name), text);
    const r = runPromtool(args, dir);
    promtoolCache.set(key, r);
    return r;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** promtool's own parser on one expression, via a one-rule recording-rules file. */
export function promtoolParse(expr: string): string | undefined {
  const r = promtoolOnFiles(['check', 'rules', 'expr.rules.yaml'], {
    'expr.rules.yaml': stringify({
      groups: [{ name: 'parse', rules: [{ record: 'parse:check', expr }] }],
    }),
  });
  return r.ok
    ? undefined
    : r.output
        .split('\n')
        .filter((l) => /error|parse/i.test(l))
        .join(' ')
        .trim() || r.output;
}

const amtoolCache = new Map<string, { ok: boolean; output: string; stdout: string }>();

/** amtool (Alertmanager's own config checker and route tester), memoised like promtool. */
export function amtoolOnConfig(
  args: string[],
  config: string,
): { ok: boolean; output: string; stdout: string } {
  const bin = process.env.AMTOOL ?? onPath('amtool');
  if (!bin) {
    throw new Error(
      'amtool not found: install it (Debian: apt-get install prometheus-alertmanager; listed in .ci/apt-gitops.txt) or set AMTOOL=/path/to/amtool',
    );
  }
  const key = JSON.stringify(['amtool', args, config]);
  const hit = amtoolCache.get(key);
  if (hit) return hit;
  const dir = mkdtempSync(path.join(tmpdir(), 'amtool-'));
  try {
    writeFileSync(path.join(dir, 'alertmanager.yaml'), config);
    const r = spawnSync(
      bin,
      args.map((a) => a.replace('{config}', path.join(dir, 'alertmanager.yaml'))),
      {
        encoding: 'utf8',
        timeout: 60_000,
      },
    );
    const out = {
      ok: r.status === 0,
      output: `${r.stdout ?? ''}${r.stderr ?? ''}`.trim(),
      stdout: (r.stdout ?? '').trim(),
    };
    amtoolCache.set(key, out);
    return out;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
