/**
 * The service as its own process (`node service/src/main.ts`, as `npm start` runs the build):
 * boot failures exit non-zero with one line, logs are one JSON line per request, and SIGTERM
 * drains: readiness turns 503 at once, accepted captions finish, the process exits 0.
 */
import { ChildProcess, spawn } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { AddressInfo, createServer } from 'node:net';
import { join, resolve } from 'node:path';
import { PHOTOS, TINY_MODEL, copyModel } from './support/fixtures';
import { RawConnection, postHead } from './support/raw-http';

const ROOT = resolve(__dirname, '..', '..');
const MAIN = join(ROOT, 'service', 'src', 'main.ts');
const CHINA = readFileSync(join(PHOTOS, 'china.jpg'));

interface Running {
  child: ChildProcess;
  stdout: string[];
  stderr: string[];
  exited: Promise<number | null>;
  url: string;
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  await new Promise((r) => server.close(r));
  return port;
}

async function start(env: Record<string, string>): Promise<Running> {
  const port = await freePort();
  const child = spawn(process.execPath, ['--require', 'ts-node/register/transpile-only', MAIN], {
    cwd: ROOT,
    env: {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      PORT: String(port),
      HOST: '127.0.0.1',
      ...env,
    },
  });
  const stdout: string[] = [];
  const stderr: string[] = [];
  child.stdout.on('data', (d: Buffer) => stdout.push(...d.toString().split('\n').filter(Boolean)));
  child.stderr.on('data', (d: Buffer) => stderr.push(...d.toString().split('\n').filter(Boolean)));
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  return { child, stdout, stderr, exited, url: `http://127.0.0.1:${port}` };
}

async function waitUntil(condition: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition().catch(() => false))) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 100));
  }
}

function caption(url: string, query: string, requestId: string): Promise<Response> {
  return fetch(`${url}/caption?${query}`, {
    method: 'POST',
    headers: { 'Content-Type': 'image/jpeg', 'X-Request-Id': requestId },
    body: CHINA,
  });
}

describe('service process', () => {
  it('exits 2 with one line naming a bad variable', async () => {
    const run = await start({ MAX_UPLOAD_BYTES: 'lots' });
    expect(await run.exited).toBe(2);
    expect(run.stderr).toEqual([
      expect.stringMatching(/^Invalid environment variable MAX_UPLOAD_BYTES="lots": /),
    ]);
  });

  it('exits 1 with one line saying what to do when the model is missing and may not be downloaded', async () => {
    const run = await start({
      MODEL_REVISION: 'a'.repeat(40),
      MODEL_CACHE_DIR: join(ROOT, '.test-output', 'empty-cache'),
    });
    expect(await run.exited).toBe(1);
    expect(run.stderr).toEqual([
      expect.stringMatching(/^model load failed: .*npm run model:pull.*MODEL_DIR/),
    ]);
  });

  describe('running on the tiny model', () => {
    let modelDir: string;
    let run: Running;

    beforeAll(async () => {
      modelDir = copyModel(TINY_MODEL);
      run = await start({
        MODEL_DIR: modelDir,
        LOG_LEVEL: 'info',
        QUEUE_MAX: '32',
        SHUTDOWN_TIMEOUT_MS: '60000',
        // The tiny model captions in ~0.3 s: an idle engine waiting 3 s for company keeps the
        // drain test's captions queued when SIGTERM arrives, however fast the machine is.
        ENGINE_MAX_BATCH: '8',
        ENGINE_MAX_WAIT_MS: '3000',
      });
      await waitUntil(async () => (await fetch(`${run.url}/health/ready`)).status === 200, 60_000);
    });

    afterAll(async () => {
      if (run.child.exitCode === null) run.child.kill('SIGKILL');
      rmSync(modelDir, { recursive: true, force: true });
    });

    it('logs one JSON line per request with its id, status and duration, and no image bytes', async () => {
      const response = await caption(run.url, 'num_beams=1&max_new_tokens=3', 'log-check-1');
      expect(response.status).toBe(200);
      expect(response.headers.get('x-request-id')).toBe('log-check-1');
      await waitUntil(async () => run.stdout.some((l) => l.includes('log-check-1')), 5000);
      const lines = run.stdout.filter((l) => l.includes('log-check-1')).map((l) => JSON.parse(l));
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatchObject({
        level: 30,
        req: {
          id: 'log-check-1',
          method: 'POST',
          url: '/caption?num_beams=1&max_new_tokens=3',
          content_type: 'image/jpeg',
        },
        res: { status: 200 },
        responseTime: expect.any(Number),
      });
      expect(run.stdout.every((l) => l.startsWith('{'))).toBe(true);
      // JPEG markers never show up in the logs, raw or base64
      const all = run.stdout.join('\n');
      expect(all).not.toContain(CHINA.subarray(0, 16).toString('base64').slice(0, 12));
      expect(all).not.toContain(CHINA.subarray(0, 4).toString('latin1'));
    });

    it('logs probes at debug only, and a client that left as 499 at info without a stack', async () => {
      // The readiness 503s while the model warmed up were not logged at info.
      const probeLines = run.stdout
        .map((l) => JSON.parse(l) as { req?: { url?: string } })
        .filter((l) => l.req?.url?.startsWith('/health/'));
      expect(probeLines).toEqual([]);
      // A client that leaves mid-upload (whatever the machine's speed, it has not been answered).
      const client = await RawConnection.open(Number(new URL(run.url).port));
      client.write(
        postHead({
          'Content-Type': 'image/jpeg',
          'Content-Length': CHINA.length,
          'X-Request-Id': 'left-early-1',
        }),
      );
      client.write(CHINA.subarray(0, 1000));
      await waitUntil(
        async () =>
          /^caption_intake_requests 1$/m.test(await (await fetch(`${run.url}/metrics`)).text()),
        5000,
      );
      client.close();
      await waitUntil(async () => run.stdout.some((l) => l.includes('left-early-1')), 5000);
      const lines = run.stdout.filter((l) => l.includes('left-early-1')).map((l) => JSON.parse(l));
      expect(lines).toEqual([
        expect.objectContaining({
          level: 30,
          res: { status: 499 },
          msg: expect.stringMatching(/ 499 /),
        }),
      ]);
      expect(lines[0].err).toBeUndefined();
    });

    it('on SIGTERM turns unready at once, finishes admitted captions (queued, running or still uploading), then exits 0', async () => {
      // Enough slow captions that some are still queued when the signal arrives.
      const pending = Array.from({ length: 6 }, (_, i) =>
        caption(run.url, 'num_beams=8&max_new_tokens=64&min_new_tokens=64', `drain-${i}`),
      );
      // All six accepted (running or queued) before the signal: anything still uploading would
      // rightly be refused with 503 draining.
      await waitUntil(async () => {
        const body = (await (await fetch(`${run.url}/health/ready`)).json()) as {
          details?: { model?: { in_flight?: number; queue_depth?: number } };
        };
        const model = body.details?.model;
        return (model?.in_flight ?? 0) + (model?.queue_depth ?? 0) === pending.length;
      }, 20_000);
      // One more, admitted but still uploading when the signal arrives.
      const uploading = await RawConnection.open(Number(new URL(run.url).port));
      uploading.write(postHead({ 'Content-Type': 'image/jpeg', 'Content-Length': CHINA.length }));
      uploading.write(CHINA.subarray(0, 1000));
      await waitUntil(
        async () =>
          /^caption_intake_requests 1$/m.test(await (await fetch(`${run.url}/metrics`)).text()),
        5000,
      );
      run.child.kill('SIGTERM');
      await waitUntil(async () => (await fetch(`${run.url}/health/ready`)).status === 503, 2000);
      const refused = await caption(run.url, 'num_beams=1', 'after-sigterm');
      expect(refused.status).toBe(503);
      expect(((await refused.json()) as { code: string }).code).toBe('draining');
      uploading.write(CHINA.subarray(1000));
      const late = await uploading.response(30_000);
      expect(late.status).toBe(200);
      expect(JSON.parse(late.body)).toMatchObject({ caption: expect.any(String) });
      const answers = await Promise.all(pending);
      expect(answers.map((a) => a.status)).toEqual([200, 200, 200, 200, 200, 200]);
      expect(await run.exited).toBe(0);
    });
  });
});
