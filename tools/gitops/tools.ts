// Locating the external binaries the validator shells out to. Each lookup fails loudly with
// what it tried: a validator that silently skips a step would pass on a broken tree.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import * as path from 'node:path';

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
        child.on('close', (code) => resolve(code === 0 ? { ok: true, yaml: out } : { ok: false, error: (err || `exit ${code}`).trim() }));
      });
    },
  };
}

/**
 * Order: $KUSTOMIZE (a kustomize or kubectl binary), `kustomize` on PATH, `kubectl` on PATH
 * (kustomize is built into kubectl), then the versioned kubectl binaries the Google Cloud SDK
 * ships. The first that answers `version` wins.
 */
export function findKustomize(): Kustomize {
  const tried: string[] = [];
  const candidates: Array<[string | undefined, string]> = [
    [process.env.KUSTOMIZE, '$KUSTOMIZE'],
    [onPath('kustomize'), 'kustomize on PATH'],
    [onPath('kubectl'), 'kubectl on PATH'],
  ];
  const sdkBin = '/usr/lib/google-cloud-sdk/bin';
  if (existsSync(sdkBin)) {
    for (const f of readdirSync(sdkBin).filter((f) => /^kubectl\.1\.\d+$/.test(f)).sort().reverse()) {
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
