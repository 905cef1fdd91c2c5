import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { AddressInfo } from 'node:net';
import { createServer, Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TINY_MODEL } from '../../../../test/support/fixtures';
import {
  MODEL_MANIFEST,
  ModelUnavailableError,
  cachedModelDir,
  downloadModel,
  requiredFiles,
  resolveModelDir,
} from './model-store';

const REVISION = '0123456789abcdef0123456789abcdef01234567';

/** A stand-in for the hub's resolve endpoint: HEAD/GET, LFS headers, a redirect for large files. */
function fakeHub(
  options: { commit?: string; corrupt?: string } = {},
): Promise<{ url: string; server: Server; hits: string[] }> {
  const hits: string[] = [];
  const server = createServer((request, response) => {
    const url = new URL(request.url!, 'http://x');
    hits.push(`${request.method} ${url.pathname}`);
    const blob = url.pathname.match(/^\/blob\/(.+)$/);
    const resolve = url.pathname.match(/^\/([^/]+\/[^/]+)\/resolve\/([^/]+)\/(.+)$/);
    const file = blob ? blob[1] : resolve?.[3];
    const path = file ? join(TINY_MODEL, file) : '';
    if (!file || !existsSync(path)) {
      response.writeHead(404).end();
      return;
    }
    let body = readFileSync(path);
    const isLarge = file.endsWith('.onnx');
    const headers: Record<string, string> = { 'x-repo-commit': options.commit ?? REVISION };
    if (isLarge) {
      headers['x-linked-etag'] = `"${createHash('sha256').update(body).digest('hex')}"`;
      headers['x-linked-size'] = String(body.length);
    }
    if (resolve && isLarge) {
      response.writeHead(302, { ...headers, location: `/blob/${file}` }).end();
      return;
    }
    if (blob && options.corrupt === file) {
      body = Buffer.concat([body.subarray(0, 100), Buffer.alloc(body.length - 100)]);
    }
    response.writeHead(200, { ...headers, 'content-length': String(body.length) });
    response.end(request.method === 'HEAD' ? undefined : body);
  });
  return new Promise((done) =>
    server.listen(0, '127.0.0.1', () =>
      done({ url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server, hits }),
    ),
  );
}

describe('model store', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'model-store-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('downloads a pinned revision, checks every file, reports progress and records the files', async () => {
    const hub = await fakeHub();
    const logs: string[] = [];
    try {
      const files = requiredFiles(['q8']);
      const manifest = await downloadModel(
        { modelId: 'Xenova/tiny', revision: REVISION, hubUrl: hub.url },
        dir,
        files,
        (m) => logs.push(m),
      );
      for (const file of files) {
        expect(readFileSync(join(dir, file))).toEqual(readFileSync(join(TINY_MODEL, file)));
        expect(manifest.files[file].sha256).toBe(
          createHash('sha256')
            .update(readFileSync(join(TINY_MODEL, file)))
            .digest('hex'),
        );
      }
      expect(JSON.parse(readFileSync(join(dir, MODEL_MANIFEST), 'utf8')).revision).toBe(REVISION);
      expect(logs.some((m) => /encoder_model_quantized\.onnx: \d+% of/.test(m))).toBe(true);
      expect(hub.hits).toContain(
        `GET /Xenova/tiny/resolve/${REVISION}/onnx/decoder_model_merged_quantized.onnx`,
      );
    } finally {
      hub.server.close();
    }
  });

  it('refuses a file whose sha256 differs from the hub record, leaving nothing behind', async () => {
    const hub = await fakeHub({ corrupt: 'onnx/encoder_model_quantized.onnx' });
    try {
      await expect(
        downloadModel(
          { modelId: 'Xenova/tiny', revision: REVISION, hubUrl: hub.url },
          dir,
          requiredFiles(['q8']),
          () => undefined,
        ),
      ).rejects.toThrow(/sha256 .* != /);
      expect(existsSync(join(dir, 'onnx', 'encoder_model_quantized.onnx'))).toBe(false);
      expect(readdirSync(join(dir, 'onnx')).filter((f) => f.endsWith('.part'))).toEqual([]);
    } finally {
      hub.server.close();
    }
  });

  it('refuses a hub that resolves the revision to another commit', async () => {
    const hub = await fakeHub({ commit: 'f'.repeat(40) });
    try {
      await expect(
        downloadModel(
          { modelId: 'Xenova/tiny', revision: REVISION, hubUrl: hub.url },
          dir,
          ['config.json'],
          () => undefined,
        ),
      ).rejects.toThrow(/resolved commit f{40}, expected 0123/);
    } finally {
      hub.server.close();
    }
  });

  it('says what to do when the model is missing and remote loading is off', async () => {
    const source = {
      modelId: 'Xenova/tiny',
      revision: REVISION,
      hubUrl: 'http://127.0.0.1:9',
      cacheDir: dir,
      allowRemote: false,
    };
    await expect(resolveModelDir(source, 'q8', () => undefined)).rejects.toThrow(
      ModelUnavailableError,
    );
    await expect(resolveModelDir(source, 'q8', () => undefined)).rejects.toThrow(
      /npm run model:pull.*MODEL_DIR.*ALLOW_REMOTE_MODELS=true/,
    );
  });

  it('fails with a clear reason when the hub is unreachable', async () => {
    const source = {
      modelId: 'Xenova/tiny',
      revision: REVISION,
      hubUrl: 'http://127.0.0.1:9',
      cacheDir: dir,
      allowRemote: true,
    };
    await expect(resolveModelDir(source, 'q8', () => undefined)).rejects.toThrow(
      /127\.0\.0\.1:9.*(fetch failed|ECONNREFUSED)/,
    );
  });

  it('downloads into the cache when allowed, and uses the cache afterwards without the network', async () => {
    const hub = await fakeHub();
    try {
      const source = {
        modelId: 'Xenova/tiny',
        revision: REVISION,
        hubUrl: hub.url,
        cacheDir: dir,
        allowRemote: true,
      };
      const resolved = await resolveModelDir(source, 'fp32', () => undefined);
      expect(resolved).toBe(cachedModelDir(dir, 'Xenova/tiny', REVISION));
      hub.hits.length = 0;
      await resolveModelDir({ ...source, allowRemote: false }, 'fp32', () => undefined);
      expect(hub.hits).toEqual([]);
    } finally {
      hub.server.close();
    }
  });

  it('uses MODEL_DIR as it is, and names what it lacks', async () => {
    const source = {
      modelId: 'x/y',
      hubUrl: 'http://127.0.0.1:9',
      cacheDir: dir,
      allowRemote: true,
    };
    await expect(
      resolveModelDir({ ...source, localDir: TINY_MODEL }, 'q8', () => undefined),
    ).resolves.toBe(TINY_MODEL);
    await expect(
      resolveModelDir({ ...source, localDir: dir }, 'q8', () => undefined),
    ).rejects.toThrow(/MODEL_DIR=.* lacks config\.json.*onnx\/encoder_model_quantized\.onnx/);
  });

  it('needs a pinned revision to use the cache', async () => {
    const source = {
      modelId: 'x/y',
      hubUrl: 'http://127.0.0.1:9',
      cacheDir: dir,
      allowRemote: true,
    };
    await expect(resolveModelDir(source, 'q8', () => undefined)).rejects.toThrow(
      /MODEL_REVISION is not set/,
    );
  });
});
