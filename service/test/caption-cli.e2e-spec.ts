/**
 * The caption CLI against the real app on the tiny model: over HTTP with QUEUE_MAX=1, so that
 * four images in flight meet 429s and must honour Retry-After; in process on the same model;
 * --resume; and the bin as a process (exit statuses, one-line errors).
 */
import { NestExpressApplication } from '@nestjs/platform-express';
import { spawn } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Writable } from 'node:stream';
import { ModelLoaderService } from '../src/caption/model-loader.service';
import { runCaptionCli } from '../src/cli/caption/caption-cli';
import { bootApp, testConfig } from './support/app';
import { PHOTOS, TINY_MODEL } from './support/fixtures';

const ROOT = resolve(__dirname, '..', '..');
const BIN = join(ROOT, 'bin', 'caption.js');
const OPTIONS = ['-O', 'num_beams=2', '-O', 'max_new_tokens=6'];

class Capture extends Writable {
  text = '';
  override _write(chunk: Buffer, _encoding: string, done: () => void): void {
    this.text += chunk.toString();
    done();
  }
}

interface Line {
  path: string;
  caption?: string;
  attempts: number;
  error?: { status: number; code: string; detail: string };
}

async function cli(argv: string[], env: NodeJS.ProcessEnv = {}) {
  const stdout = new Capture();
  const stderr = new Capture();
  const status = await runCaptionCli(argv, {
    stdout,
    stderr,
    env: { LOG_LEVEL: 'silent', ...env },
  });
  const lines = stdout.text
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Line);
  return { status, lines, stderr: stderr.text };
}

describe('caption CLI (tiny model, e2e)', () => {
  let app: NestExpressApplication;
  let url: string;
  let folder: string;
  let cacheDir: string;
  /** What POST /caption answers for each photo, with the same options. */
  const expected: Record<string, string> = {};

  beforeAll(async () => {
    cacheDir = mkdtempSync(join(tmpdir(), 'cli-cache-'));
    app = await bootApp(
      testConfig({
        MODEL_DIR: TINY_MODEL,
        MODEL_CACHE_DIR: cacheDir,
        // One caption in the engine and one waiting: with continuous batching a running batch
        // takes up to ENGINE_MAX_BATCH images, which would leave no 429 to retry.
        QUEUE_MAX: '1',
        ENGINE_MAX_BATCH: '1',
        CACHE_MAX_ENTRIES: '0',
      }),
    );
    await app.get(ModelLoaderService).load();
    await app.listen(0, '127.0.0.1');
    url = `http://127.0.0.1:${(app.getHttpServer().address() as AddressInfo).port}`;

    // Three copies of each photo in nested folders, a text file that is skipped by type, and a
    // file named like an image that is not one.
    folder = mkdtempSync(join(tmpdir(), 'cli-images-'));
    for (const copy of ['a', 'b', 'c']) {
      mkdirSync(join(folder, copy, 'nested'), { recursive: true });
      cpSync(join(PHOTOS, 'china.jpg'), join(folder, copy, 'china.jpg'));
      cpSync(join(PHOTOS, 'flower.jpg'), join(folder, copy, 'nested', 'flower.jpg'));
    }
    writeFileSync(join(folder, 'notes.txt'), 'not searched');
    writeFileSync(join(folder, 'fake.png'), 'this is not a PNG');

    for (const photo of ['china.jpg', 'flower.jpg']) {
      const form = new FormData();
      form.append('file', new Blob([readFileSync(join(PHOTOS, photo))]), photo);
      const response = await fetch(`${url}/caption?num_beams=2&max_new_tokens=6`, {
        method: 'POST',
        body: form,
      });
      expected[photo] = ((await response.json()) as { caption: string }).caption;
    }
  });

  afterAll(async () => {
    await app?.close();
    rmSync(folder, { recursive: true, force: true });
    rmSync(cacheDir, { recursive: true, force: true });
  });

  const photoOf = (path: string) => (path.endsWith('china.jpg') ? 'china.jpg' : 'flower.jpg');

  it('over HTTP with a queue of one: retries 429s after Retry-After, captions every image as the API does, reports the bad one, exits 1', async () => {
    const run = await cli(['--url', url, '--concurrency', '4', ...OPTIONS, folder]);
    expect(run.status).toBe(1);
    expect(run.lines).toHaveLength(7);
    const bad = run.lines.filter((l) => l.error);
    expect(bad).toEqual([
      expect.objectContaining({
        path: join(folder, 'fake.png'),
        error: expect.objectContaining({ status: 415, code: 'unsupported_media_type' }),
      }),
    ]);
    const good = run.lines.filter((l) => !l.error);
    expect(good).toHaveLength(6);
    for (const line of good) expect(line.caption).toBe(expected[photoOf(line.path)]);
    // Four in flight against a queue of one: some must have been refused and retried.
    expect(good.some((l) => l.attempts > 1)).toBe(true);
    expect(run.stderr).toMatch(/captioned 6 of 7 images \(1 failed, [1-9]\d* retries\)/);
  });

  it('in process on the model folder: the same captions, no HTTP, exits 0', async () => {
    const run = await cli(['--model-dir', TINY_MODEL, ...OPTIONS, join(folder, 'a')], {
      MODEL_CACHE_DIR: cacheDir,
    });
    expect(run.status).toBe(0);
    // Lines come in completion order.
    expect(run.lines.map((l) => [l.path, l.caption]).sort()).toEqual([
      [join(folder, 'a', 'china.jpg'), expected['china.jpg']],
      [join(folder, 'a', 'nested', 'flower.jpg'), expected['flower.jpg']],
    ]);
  });

  it('--resume skips what the output file already has captioned', async () => {
    const out = join(folder, 'out.jsonl');
    const first = await cli(['--url', url, ...OPTIONS, '--out', out, join(folder, 'a')]);
    expect(first.status).toBe(0);
    const second = await cli([
      '--url',
      url,
      ...OPTIONS,
      '--out',
      out,
      '--resume',
      join(folder, 'a'),
      join(folder, 'b'),
    ]);
    expect(second.status).toBe(0);
    expect(second.stderr).toMatch(/resuming: 2 already captioned/);
    const lines = readFileSync(out, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Line);
    expect(lines.map((l) => l.path).sort()).toEqual([
      join(folder, 'a', 'china.jpg'),
      join(folder, 'a', 'nested', 'flower.jpg'),
      join(folder, 'b', 'china.jpg'),
      join(folder, 'b', 'nested', 'flower.jpg'),
    ]);
  });

  describe('the bin as a process', () => {
    // Asynchronous: the service answering the bin runs in this very process.
    const bin = (args: string[], env: Record<string, string> = {}) =>
      new Promise<{ status: number | null; stdout: string; stderr: string }>((done) => {
        const child = spawn(process.execPath, [BIN, ...args], {
          cwd: ROOT,
          env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env },
        });
        let stdout = '';
        let stderr = '';
        child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
        child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
        child.on('close', (status) => done({ status, stdout, stderr }));
      });

    it('exits 2 on bad usage, saying what is wrong', async () => {
      const run = await bin(['--url', url, '--format', 'xml', folder]);
      expect(run.status).toBe(2);
      expect(run.stdout).toBe('');
      expect(run.stderr).toBe(
        'caption: --format must be jsonl or csv (got xml)\nRun with --help for the options.\n',
      );
    });

    it('exits 1 with one line when the model folder does not exist', async () => {
      const run = await bin(['--model-dir', '/nonexistent', folder]);
      expect(run.status).toBe(1);
      expect(run.stdout).toBe('');
      expect(run.stderr.trim().split('\n')).toEqual([
        'loading the model from /nonexistent',
        expect.stringMatching(/^caption: MODEL_DIR=\/nonexistent: the folder does not exist/),
      ]);
    });

    it('captions to stdout and exits 0 against the service', async () => {
      const run = await bin(['--url', url, '--format', 'csv', ...OPTIONS, join(folder, 'c')]);
      expect(run.stderr).toMatch(/captioned 2 of 2 images/);
      expect(run.status).toBe(0);
      const [header, ...rows] = run.stdout.trim().split('\n');
      expect(header).toBe(
        'path,caption,confidence,captions,total_ms,cached,attempts,status,code,detail',
      );
      expect(rows.sort().map((r) => r.split(',')[0])).toEqual([
        join(folder, 'c', 'china.jpg'),
        join(folder, 'c', 'nested', 'flower.jpg'),
      ]);
    });
  });
});
