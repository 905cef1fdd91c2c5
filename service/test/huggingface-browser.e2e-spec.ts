/**
 * @huggingface/inference as a browser app runs it: the package's own ES modules, unbundled,
 * loaded through an import map by a page on another origin, in Debian's Chromium (playwright-
 * core), calling POST /models/{model_id} across origins (CORS). A browser's fetch sends the
 * browser's User-Agent whatever the client sets, so this is the case the User-Agent rule alone
 * would answer with the wrong shape.
 */
import { NestExpressApplication } from '@nestjs/platform-express';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { Server, createServer } from 'node:http';
import { AddressInfo } from 'node:net';
import { basename, extname, join, normalize, resolve } from 'node:path';
import type { Browser } from 'playwright-core';
import request from 'supertest';
import { ModelLoaderService } from '../src/caption/model-loader.service';
import { bootApp, testConfig } from './support/app';
import { launchChromium } from './support/chromium';
import { PHOTOS, TINY_MODEL, copyModel } from './support/fixtures';

const NODE_MODULES = resolve(__dirname, '..', '..', 'node_modules');
const CHINA = readFileSync(join(PHOTOS, 'china.jpg'));
/** The client and the two packages it imports by name, as the browser resolves them. */
const IMPORTS = {
  '@huggingface/inference': '/node_modules/@huggingface/inference/dist/esm/index.js',
  '@huggingface/tasks': '/node_modules/@huggingface/tasks/dist/esm/index.js',
  '@huggingface/jinja': '/node_modules/@huggingface/jinja/dist/index.js',
};
const PAGE = `<!doctype html><meta charset="utf-8"><title>browser app</title>
<script type="importmap">${JSON.stringify({ imports: IMPORTS })}</script>
<script type="module">
  import { imageToText } from '@huggingface/inference';
  window.imageToText = imageToText;
</script>`;

/** A browser app's own site: the page, and the client's files from node_modules. */
function browserAppSite(): Server {
  return createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://site').pathname;
    if (path === '/') {
      return void res.writeHead(200, { 'Content-Type': 'text/html' }).end(PAGE);
    }
    const file = normalize(join(NODE_MODULES, path.replace(/^\/node_modules\//, '')));
    if (!path.startsWith('/node_modules/@huggingface/') || !existsSync(file)) {
      return void res.writeHead(404).end();
    }
    const type = extname(file) === '.js' ? 'text/javascript' : 'application/octet-stream';
    res.writeHead(200, { 'Content-Type': type }).end(readFileSync(file));
  });
}

describe('@huggingface/inference in Chromium, from another origin (tiny model, e2e)', () => {
  let app: NestExpressApplication;
  let site: Server;
  let siteOrigin: string;
  let endpoint: string;
  let modelDir: string;
  let browser: Browser;
  let expected: string;

  beforeAll(async () => {
    browser = await launchChromium();
    site = browserAppSite();
    await new Promise<void>((r) => site.listen(0, '127.0.0.1', r));
    siteOrigin = `http://127.0.0.1:${(site.address() as AddressInfo).port}`;
    modelDir = copyModel(TINY_MODEL);
    app = await bootApp(testConfig({ MODEL_DIR: modelDir, CORS_ALLOWED_ORIGINS: siteOrigin }));
    await app.get(ModelLoaderService).load();
    await app.listen(0, '127.0.0.1');
    const port = (app.getHttpServer().address() as AddressInfo).port;
    // localhost, not 127.0.0.1: another origin than the site's, so the call is cross-origin.
    endpoint = `http://localhost:${port}/models/${basename(modelDir)}`;
    expected = (
      await request(app.getHttpServer())
        .post('/caption')
        .set('Content-Type', 'image/jpeg')
        .send(CHINA)
        .expect(200)
    ).body.caption;
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    await app?.close();
    await new Promise((r) => site?.close(r));
    rmSync(modelDir, { recursive: true, force: true });
  });

  it('imageToText({endpointUrl, data}) gets the caption as one object', async () => {
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    const sent = page.waitForRequest((r) => r.url() === endpoint && r.method() === 'POST');
    await page.goto(`${siteOrigin}/`);
    await page.waitForFunction('typeof window.imageToText === "function"');
    const output = await page.evaluate(
      `(async () => {
        const bytes = Uint8Array.from(atob('${CHINA.toString('base64')}'), (c) => c.charCodeAt(0));
        try {
          return await window.imageToText({ endpointUrl: '${endpoint}', data: new Blob([bytes]) });
        } catch (e) {
          return { error: String(e && e.message) };
        }
      })()`,
    );
    // What a browser really sends: its own User-Agent, and the fetch metadata every browser adds.
    const headers = await (await sent).allHeaders();
    expect(headers['user-agent']).not.toContain('@huggingface/inference/');
    expect(headers['sec-fetch-mode']).toBe('cors');
    expect(output).toEqual({ generated_text: expected });
    expect(errors).toEqual([]);
    await page.close();
  });
});
