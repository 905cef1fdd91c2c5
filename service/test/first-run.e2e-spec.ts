/**
 * A first run, as a newcomer meets it: the service as a process on the committed fixture writes
 * nothing into the checkout, and each common mistake is one line on stderr, said before anything
 * claims to have started.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { AddressInfo, Server, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { TINY_MODEL } from './support/fixtures';

const ROOT = resolve(__dirname, '..', '..');
const MAIN = join(ROOT, 'service', 'src', 'main.ts');

interface Exit {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the service until it exits, or until `ready` says so (then SIGTERM). */
function runService(
  env: Record<string, string>,
  ready?: (url: string) => Promise<boolean>,
): Promise<Exit> {
  return new Promise((done) => {
    const child = spawn(process.execPath, ['--require', 'ts-node/register/transpile-only', MAIN], {
      cwd: ROOT,
      env: { PATH: process.env.PATH, HOME: process.env.HOME, HOST: '127.0.0.1', ...env },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('close', (status) => done({ status, stdout, stderr }));
    if (ready) {
      const url = `http://127.0.0.1:${env.PORT}`;
      const poll = async (): Promise<void> => {
        if (child.exitCode !== null) return;
        if (await ready(url).catch(() => false)) child.kill('SIGTERM');
        else setTimeout(() => void poll(), 200);
      };
      void poll();
    }
  });
}

async function listening(): Promise<Server> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return server;
}

async function freePort(): Promise<string> {
  const server = await listening();
  const { port } = server.address() as AddressInfo;
  await new Promise((r) => server.close(r));
  return String(port);
}

describe('first run (service process)', () => {
  let cacheDir: string;
  beforeEach(() => (cacheDir = mkdtempSync(join(tmpdir(), 'first-run-cache-'))));
  afterEach(() => rmSync(cacheDir, { recursive: true, force: true }));

  it('on the committed tiny model: prepares into the cache, writes nothing into the checkout, stops on SIGTERM', async () => {
    const before = readdirSync(TINY_MODEL).sort();
    const run = await runService(
      { MODEL_DIR: TINY_MODEL, MODEL_CACHE_DIR: cacheDir, PORT: await freePort() },
      async (url) => (await fetch(`${url}/health/ready`)).status === 200,
    );
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    expect(readdirSync(TINY_MODEL).sort()).toEqual(before);
    expect(existsSync(join(TINY_MODEL, 'optimized'))).toBe(false);
    const prepared = readdirSync(join(cacheDir, 'optimized'));
    expect(prepared).toHaveLength(1);
    expect(readdirSync(join(cacheDir, 'optimized', prepared[0], 'q8'))).toContain('manifest.json');
  });

  it('a missing model: one line, exit 1, before anything says started or listening', async () => {
    const run = await runService({
      MODEL_REVISION: 'a'.repeat(40),
      MODEL_CACHE_DIR: cacheDir,
      PORT: await freePort(),
    });
    expect(run.status).toBe(1);
    expect(run.stderr.split('\n').filter(Boolean)).toEqual([
      expect.stringMatching(/^model load failed: .* is not in .*: run `npm run model:pull`/),
    ]);
    expect(run.stdout).toBe('');
  });

  it('MODEL_DIR that does not exist: says so in one line', async () => {
    const run = await runService({ MODEL_DIR: '/nonexistent', PORT: await freePort() });
    expect(run.status).toBe(1);
    expect(run.stderr).toBe(
      'model load failed: MODEL_DIR=/nonexistent: the folder does not exist; point it at a model folder in the transformers.js layout\n',
    );
    expect(run.stdout).toBe('');
  });

  it('a busy port: one line naming it, no stack trace', async () => {
    const taken = await listening();
    try {
      const port = String((taken.address() as AddressInfo).port);
      const run = await runService({
        MODEL_DIR: TINY_MODEL,
        MODEL_CACHE_DIR: cacheDir,
        PORT: port,
      });
      expect(run.status).toBe(1);
      expect(run.stderr).toBe(
        `cannot listen on 127.0.0.1:${port}: the port is in use (EADDRINUSE); stop what uses it or set PORT to a free port\n`,
      );
      expect(run.stdout).not.toMatch(/listening on/);
    } finally {
      taken.close();
    }
  });
});
