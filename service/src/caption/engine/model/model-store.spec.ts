import { createHash } from 'node:crypto';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { AddressInfo } from 'node:net';
import { createServer, Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TINY_MODEL } from '../../../../test/support/fixtures';
import { downloadModel } from './model-download';
import { MODEL_MANIFEST, ModelUnavailableError } from './model-spec';
import {
  ModelSource,
  assertModelAvailable,
  cachedModelDir,
  insideGitCheckout,
  preparedGraphsTarget,
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

  /**
   * The pinned tiny model in this test's cache, behind a hub nobody answers at (port 9); each
   * test overrides what it is about.
   */
  const source = (overrides: Partial<ModelSource> = {}): ModelSource => ({
    modelId: 'Xenova/tiny',
    revision: REVISION,
    hubUrl: 'http://127.0.0.1:9',
    cacheDir: dir,
    allowRemote: true,
    ...overrides,
  });

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
      // no .part file, and the onnx/ folder it emptied is gone too
      expect(existsSync(join(dir, 'onnx'))).toBe(false);
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
    const offline = source({ allowRemote: false });
    await expect(resolveModelDir(offline, 'q8', () => undefined)).rejects.toThrow(
      ModelUnavailableError,
    );
    await expect(resolveModelDir(offline, 'q8', () => undefined)).rejects.toThrow(
      /npm run model:pull.*MODEL_DIR.*ALLOW_REMOTE_MODELS=true/,
    );
  });

  it('fails with a clear reason when the hub is unreachable', async () => {
    await expect(resolveModelDir(source(), 'q8', () => undefined)).rejects.toThrow(
      /127\.0\.0\.1:9.*(fetch failed|ECONNREFUSED)/,
    );
  });

  it('downloads into the cache when allowed, and uses the cache afterwards without the network', async () => {
    const hub = await fakeHub();
    try {
      const online = source({ hubUrl: hub.url });
      const resolved = await resolveModelDir(online, 'fp32', () => undefined);
      expect(resolved).toBe(cachedModelDir(dir, 'Xenova/tiny', REVISION));
      hub.hits.length = 0;
      await resolveModelDir({ ...online, allowRemote: false }, 'fp32', () => undefined);
      expect(hub.hits).toEqual([]);
    } finally {
      hub.server.close();
    }
  });

  it('uses MODEL_DIR as it is, and names what it lacks', async () => {
    const unpinned = { modelId: 'x/y', revision: undefined };
    await expect(
      resolveModelDir(source({ ...unpinned, localDir: TINY_MODEL }), 'q8', () => undefined),
    ).resolves.toBe(TINY_MODEL);
    await expect(
      resolveModelDir(source({ ...unpinned, localDir: dir }), 'q8', () => undefined),
    ).rejects.toThrow(/MODEL_DIR=.* lacks config\.json.*onnx\/encoder_model_quantized\.onnx/);
  });

  it('needs a pinned revision to use the cache', async () => {
    const unpinned = source({ modelId: 'x/y', revision: undefined });
    await expect(resolveModelDir(unpinned, 'q8', () => undefined)).rejects.toThrow(
      /MODEL_REVISION is not set/,
    );
  });

  it('says that a MODEL_DIR which does not exist does not exist, instead of listing its files', () => {
    const at = (localDir: string) =>
      source({ modelId: 'x/y', revision: undefined, allowRemote: false, localDir });
    expect(() => assertModelAvailable(at(join(dir, 'nonexistent')), 'q8')).toThrow(
      /^MODEL_DIR=.*nonexistent: the folder does not exist; point it at a model folder/,
    );
    writeFileSync(join(dir, 'a-file'), 'x');
    expect(() => assertModelAvailable(at(join(dir, 'a-file')), 'q8')).toThrow(
      /a-file is a file, not a folder/,
    );
  });

  it('checks availability without the network: a missing cache entry is fine only when downloads are allowed', () => {
    expect(() => assertModelAvailable(source({ allowRemote: false }), 'q8')).toThrow(
      /is not in .*npm run model:pull/,
    );
    expect(() => assertModelAvailable(source({ allowRemote: true }), 'q8')).not.toThrow();
    expect(readdirSync(dir)).toEqual([]);
  });

  it('offline, says what to do instead and leaves no empty folders in the cache', async () => {
    const target = cachedModelDir(dir, 'Xenova/tiny', REVISION);
    // A port nobody listens on (fetch refuses some well-known ports such as 9 outright).
    const probe = createServer();
    await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
    const hubUrl = `http://127.0.0.1:${(probe.address() as AddressInfo).port}`;
    await new Promise((r) => probe.close(r));
    await expect(
      downloadModel(
        { modelId: 'Xenova/tiny', revision: REVISION, hubUrl },
        target,
        requiredFiles(['q8']),
        () => undefined,
      ),
    ).rejects.toThrow(
      /^cannot reach the model hub http:\/\/127\.0\.0\.1:\d+ \(fetch failed: ECONNREFUSED;.*npm run model:prepare -- --dir <folder>.*MODEL_DIR=<folder>/,
    );
    expect(readdirSync(dir)).toEqual([]);
  });

  describe('where graphs prepared at boot go', () => {
    it('beside a writable model folder outside any checkout', async () => {
      const model = join(dir, 'model');
      mkdirSync(model);
      expect(insideGitCheckout(model)).toBe(false);
      await expect(
        preparedGraphsTarget(model, join(model, 'optimized'), join(dir, 'cache', 'x'), dir),
      ).resolves.toBe(join(model, 'optimized'));
    });

    it('into the cache when the model folder is part of a git checkout (the committed fixtures)', async () => {
      expect(insideGitCheckout(TINY_MODEL)).toBe(true);
      const inCache = join(dir, 'cache', 'optimized', 'abc', 'q8');
      await expect(
        preparedGraphsTarget(TINY_MODEL, join(TINY_MODEL, 'optimized', 'q8'), inCache, dir),
      ).resolves.toBe(inCache);
      expect(existsSync(inCache)).toBe(true);
    });

    it('names MODEL_CACHE_DIR when the cache cannot be written', async () => {
      // A file where a folder should be: unwritable even for root, who ignores permission bits.
      writeFileSync(join(dir, 'blocked'), 'x');
      const cacheDir = join(dir, 'blocked', 'cache');
      await expect(
        preparedGraphsTarget(
          TINY_MODEL,
          join(TINY_MODEL, 'optimized'),
          join(cacheDir, 'o'),
          cacheDir,
        ),
      ).rejects.toThrow(
        /MODEL_CACHE_DIR=.*blocked\/cache is not writable \(ENOTDIR\); set MODEL_CACHE_DIR to a writable folder/,
      );
    });
  });
});
