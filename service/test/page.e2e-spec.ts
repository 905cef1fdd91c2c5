/**
 * The "try it" page in a real browser: Debian's Chromium (.ci/apt-web.txt) driven by
 * playwright-core against the booted app on the tiny model. Screenshots of each state go to
 * .test-output/page/ (git-ignored; CI keeps them as artifacts).
 */
import { NestExpressApplication } from '@nestjs/platform-express';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { Server, createServer } from 'node:http';
import { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Browser, Page } from 'playwright-core';
import { ModelLoaderService } from '../src/caption/model-loader.service';
import { BEAM_SEARCH_ONLY_OPTIONS } from '../src/openapi';
import { bootApp, testConfig } from './support/app';
import { launchChromium } from './support/chromium';
import { PHOTOS, TINY_MODEL } from './support/fixtures';

const SHOTS = resolve(__dirname, '..', '..', '.test-output', 'page');
const CHINA = join(PHOTOS, 'china.jpg');
// Not the seed's 4: proves the page reads the default from the service.
const DEFAULT_BEAMS = 3;

describe('the page at / in Chromium (tiny model, e2e)', () => {
  let app: NestExpressApplication;
  let url: string;
  let cacheDir: string;
  let browser: Browser;
  let page: Page;
  let consoleErrors: string[];
  /** Serves CHINA at /china.jpg, as a remote site would, for the URL field. */
  let imageSite: Server;
  let imageUrl: string;

  /** What the API answers for a file with the given options. */
  async function apiCaption(file: string, query: string): Promise<string> {
    const form = new FormData();
    form.append('file', new Blob([readFileSync(file)]), 'image');
    const response = await fetch(`${url}/caption?${query}`, { method: 'POST', body: form });
    expect(response.status).toBe(200);
    return ((await response.json()) as { caption: string }).caption;
  }

  beforeAll(async () => {
    browser = await launchChromium();
    mkdirSync(SHOTS, { recursive: true });
    cacheDir = mkdtempSync(join(tmpdir(), 'page-cache-'));
    app = await bootApp(
      testConfig({
        MODEL_DIR: TINY_MODEL,
        MODEL_CACHE_DIR: cacheDir,
        DEFAULT_NUM_BEAMS: String(DEFAULT_BEAMS),
        // The image site below is on loopback, which the URL fetcher refuses unless named.
        URL_ALLOWED_PRIVATE_HOSTS: '127.0.0.1',
      }),
    );
    await app.get(ModelLoaderService).load();
    imageSite = createServer((req, res) => {
      if (req.url !== '/china.jpg') return void res.writeHead(404).end();
      res.writeHead(200, { 'Content-Type': 'image/jpeg' }).end(readFileSync(CHINA));
    });
    await new Promise<void>((r) => imageSite.listen(0, '127.0.0.1', r));
    imageUrl = `http://127.0.0.1:${(imageSite.address() as AddressInfo).port}/china.jpg`;
    await app.listen(0, '127.0.0.1');
    url = `http://127.0.0.1:${(app.getHttpServer().address() as AddressInfo).port}`;
    // Booting, warming the model and starting Chromium: well past the 60 s test timeout on a
    // loaded 2-core machine.
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    await app?.close();
    await new Promise((r) => imageSite?.close(r));
    rmSync(cacheDir, { recursive: true, force: true });
  });

  beforeEach(async () => {
    page = await browser.newPage({ viewport: { width: 800, height: 900 } });
    consoleErrors = [];
    // A CSP violation, a script error or a missing file shows up here; the refusals the tests
    // provoke on purpose (415, 422, 429) are logged by Chromium too and are expected.
    page.on('console', (m) => {
      const expected =
        /^Failed to load resource: the server responded with a status of (415|422|429)/;
      if (m.type() === 'error' && !expected.test(m.text())) consoleErrors.push(m.text());
    });
    page.on('pageerror', (e) => consoleErrors.push(e.message));
  });

  afterEach(async () => {
    await page.close();
    expect(consoleErrors).toEqual([]);
  });

  async function open(): Promise<void> {
    const response = await page.goto(`${url}/`);
    expect(response?.status()).toBe(200);
    // options come from the OpenAPI document
    await page.locator('#option-num_beams').waitFor({ state: 'attached' });
  }

  it('is served with a Content-Security-Policy that allows only what the page uses', async () => {
    const response = await page.goto(`${url}/`);
    expect(response?.headers()['content-security-policy']).toBe(
      "default-src 'none';script-src 'self';style-src 'self';img-src 'self' blob:;" +
        "connect-src 'self';form-action 'self';base-uri 'none';frame-ancestors 'none'",
    );
    await expect(page.locator('a[href="/docs"]').count()).resolves.toBe(1);
  });

  it('captions an image chosen in the file input as the API does, with the service defaults', async () => {
    await open();
    await page.locator('#options summary').click();
    await expect(page.inputValue('#option-num_beams')).resolves.toBe(String(DEFAULT_BEAMS));
    await expect(page.inputValue('#option-max_new_tokens')).resolves.toBe('15');
    // true | false | "never" (a oneOf in the OpenAPI document): a choice, at its default.
    await expect(page.inputValue('#option-early_stopping')).resolves.toBe('false');
    await expect(
      page.evaluate<string[]>(
        '[...document.getElementById("option-early_stopping").options].map((o) => o.value)',
      ),
    ).resolves.toEqual(['true', 'false', 'never']);
    for (const name of BEAM_SEARCH_ONLY_OPTIONS) {
      await expect(page.isVisible(`#option-${name}`)).resolves.toBe(true);
    }
    await page.setInputFiles('#image', CHINA);
    await expect(page.getAttribute('#preview-image', 'alt')).resolves.toBe('Preview of china.jpg');
    await page.click('#submit');
    await page.locator('#result').waitFor();
    const expected = await apiCaption(CHINA, '');
    await expect(page.textContent('#caption')).resolves.toBe(expected);
    await expect(page.getAttribute('#preview-image', 'alt')).resolves.toBe(expected);
    const decoding = await page.textContent('#decoding');
    expect(decoding).toContain(`num beams${DEFAULT_BEAMS}`);
    await expect(page.textContent('#timings')).resolves.toMatch(/total\d+(\.\d)? ms/);
    await page.screenshot({ path: join(SHOTS, 'captioned.png'), fullPage: true });
  });

  it('hides beam-only options with one beam and sends the options changed', async () => {
    await open();
    await page.locator('#options summary').click();
    await page.fill('#option-num_beams', '1');
    for (const name of BEAM_SEARCH_ONLY_OPTIONS) {
      await expect(page.isVisible(`#option-${name}`)).resolves.toBe(false);
    }
    await page.fill('#option-max_new_tokens', '5');
    await page.setInputFiles('#image', CHINA);
    await page.click('#submit');
    await page.locator('#result').waitFor();
    await expect(page.textContent('#caption')).resolves.toBe(
      await apiCaption(CHINA, 'num_beams=1&max_new_tokens=5'),
    );
    await expect(page.textContent('#decoding')).resolves.toContain('max new tokens5');
  });

  it('shows the confidence and the ranked captions when it asks for several', async () => {
    await open();
    await page.locator('#options summary').click();
    await page.fill('#option-num_return_sequences', '2');
    await page.setInputFiles('#image', CHINA);
    await page.click('#submit');
    await page.locator('#result').waitFor();
    const form = new FormData();
    form.append('file', new Blob([readFileSync(CHINA)]), 'china.jpg');
    const response = await fetch(`${url}/caption?num_return_sequences=2`, {
      method: 'POST',
      body: form,
    });
    const api = (await response.json()) as {
      confidence: number;
      captions: { caption: string; confidence: number }[];
    };
    expect(api.captions).toHaveLength(2);
    const percent = (c: number): string => `${(c * 100).toFixed(1)} %`;
    await expect(page.textContent('#confidence')).resolves.toBe(
      `Confidence: ${percent(api.confidence)}`,
    );
    await expect(page.locator('#alternative-list li').allTextContents()).resolves.toEqual(
      api.captions.map((c) => `${c.caption} (confidence ${percent(c.confidence)})`),
    );
    await page.screenshot({ path: join(SHOTS, 'ranked.png'), fullPage: true });
  });

  it('captions an image dropped on the drop zone', async () => {
    await open();
    // What a drag from the desktop delivers: a drop event whose DataTransfer holds the file
    // (built in the page, in browser code: the test's own TypeScript has no DOM types).
    const base64 = readFileSync(CHINA).toString('base64');
    const dataTransfer = await page.evaluateHandle(`(() => {
      const bytes = Uint8Array.from(atob('${base64}'), (c) => c.charCodeAt(0));
      const transfer = new DataTransfer();
      transfer.items.add(new File([bytes], 'dropped.jpg', { type: 'image/jpeg' }));
      return transfer;
    })()`);
    await page.dispatchEvent('#drop-zone', 'drop', { dataTransfer });
    await expect(page.getAttribute('#preview-image', 'alt')).resolves.toBe(
      'Preview of dropped.jpg',
    );
    await page.click('#submit');
    await page.locator('#result').waitFor();
    await expect(page.textContent('#caption')).resolves.toBe(await apiCaption(CHINA, ''));
  });

  it('captions an image given by URL (the service fetches it), with the options typed', async () => {
    await open();
    await page.setInputFiles('#image', CHINA);
    // Typing a URL replaces the chosen file: one source at a time.
    await page.fill('#image-url', imageUrl);
    await expect(page.isVisible('#preview')).resolves.toBe(false);
    await expect(
      page.evaluate<number>('document.getElementById("image").files.length'),
    ).resolves.toBe(0);
    await page.locator('#options summary').click();
    await page.fill('#option-num_beams', '2');
    await page.fill('#option-max_new_tokens', '5');
    await page.selectOption('#option-early_stopping', 'never');
    const sent = page.waitForRequest((r) => r.url().endsWith('/caption') && r.method() === 'POST');
    await page.click('#submit');
    await page.locator('#result').waitFor();
    expect((await sent).postDataJSON()).toEqual({
      url: imageUrl,
      num_beams: 2,
      max_new_tokens: 5,
      early_stopping: 'never',
    });
    await expect(page.textContent('#caption')).resolves.toBe(
      await apiCaption(CHINA, 'num_beams=2&max_new_tokens=5&early_stopping=never'),
    );
    await page.screenshot({ path: join(SHOTS, 'by-url.png'), fullPage: true });
  });

  it('shows the problem of a URL the service cannot fetch as a message', async () => {
    await open();
    await page.fill('#image-url', imageUrl.replace('china.jpg', 'missing.jpg'));
    await page.click('#submit');
    const error = page.locator('#error');
    await error.waitFor();
    await expect(error.textContent()).resolves.toMatch(/answered 404 for the image URL\.$/);
    await expect(page.isVisible('#result')).resolves.toBe(false);
  });

  it('shows the problem of a bad file as a message', async () => {
    await open();
    await page.setInputFiles('#image', {
      name: 'notes.png',
      mimeType: 'image/png',
      buffer: Buffer.from('these are notes, not a picture'),
    });
    await page.click('#submit');
    const error = page.locator('#error');
    await error.waitFor();
    await expect(error.getAttribute('role')).resolves.toBe('alert');
    await expect(error.textContent()).resolves.toMatch(
      /^The image format is not supported: The upload looks like an unknown format\. Accepted: image\/jpeg/,
    );
    await expect(page.isVisible('#result')).resolves.toBe(false);
    await page.screenshot({ path: join(SHOTS, 'bad-file.png'), fullPage: true });
  });

  it('says "busy, retrying in N s" on 429 and retries after Retry-After', async () => {
    await open();
    // The first POST meets a full queue (a real problem body, as the service sends it).
    let refused = 0;
    await page.route('**/caption', async (route) => {
      if (refused++ > 0) return route.continue();
      await route.fulfill({
        status: 429,
        headers: { 'Retry-After': '2', 'Content-Type': 'application/problem+json' },
        body: JSON.stringify({
          type: 'urn:caption-service:problem:queue_full',
          title: 'Too many requests are waiting',
          status: 429,
          detail: '64 captions are already waiting.',
          code: 'queue_full',
        }),
      });
    });
    await page.setInputFiles('#image', CHINA);
    await page.click('#submit');
    await page.locator('#status', { hasText: 'The service is busy; retrying in 2 s.' }).waitFor();
    await page.screenshot({ path: join(SHOTS, 'busy.png'), fullPage: true });
    await page.locator('#result').waitFor({ timeout: 10_000 });
    expect(refused).toBe(2);
    await expect(page.textContent('#caption')).resolves.toBe(await apiCaption(CHINA, ''));
  });

  it('works from the keyboard alone: choose, caption, land on the result', async () => {
    await open();
    await page.keyboard.press('Tab'); // the /docs link
    await expect(
      page.evaluate<string | null>('document.activeElement.getAttribute("href")'),
    ).resolves.toBe('/docs');
    await page.keyboard.press('Tab'); // the file input
    await expect(page.evaluate<string>('document.activeElement.id')).resolves.toBe('image');
    const chooser = page.waitForEvent('filechooser');
    await page.keyboard.press('Space');
    await (await chooser).setFiles(CHINA);
    await page.keyboard.press('Tab'); // the image URL field
    await expect(page.evaluate<string>('document.activeElement.id')).resolves.toBe('image-url');
    await page.keyboard.press('Tab'); // the options disclosure
    await page.keyboard.press('Tab'); // the Caption button
    await expect(page.evaluate<string>('document.activeElement.id')).resolves.toBe('submit');
    await page.keyboard.press('Enter');
    await page.locator('#result').waitFor();
    // Focus moves to the result, so a screen reader reads it next.
    await expect(page.evaluate<string>('document.activeElement.id')).resolves.toBe(
      'result-heading',
    );
    await expect(page.textContent('#caption')).resolves.toBe(await apiCaption(CHINA, ''));
    await page.screenshot({ path: join(SHOTS, 'keyboard.png'), fullPage: true });
  });

  it('fits a 320 px wide screen without sideways scrolling', async () => {
    await page.setViewportSize({ width: 320, height: 720 });
    await open();
    await page.setInputFiles('#image', CHINA);
    await page.click('#submit');
    await page.locator('#result').waitFor();
    const width = await page.evaluate<number>('document.documentElement.scrollWidth');
    expect(width).toBeLessThanOrEqual(320);
    await page.screenshot({ path: join(SHOTS, 'narrow-320.png'), fullPage: true });
  });

  it('marks exactly the options the service refuses without beams', async () => {
    const document = (await (await fetch(`${url}/docs-json`)).json()) as {
      components: { schemas: { CaptionOptionsDto: { properties: Record<string, object> } } };
    };
    const properties = document.components.schemas.CaptionOptionsDto.properties;
    // Values away from the defaults: an option at its default changes nothing and is accepted
    // with greedy decoding too.
    const samples: Record<string, string> = {
      length_penalty: '2',
      early_stopping: 'true',
      max_new_tokens: '3',
      min_new_tokens: '1',
      no_repeat_ngram_size: '2',
      repetition_penalty: '1.1',
      num_return_sequences: '1',
    };
    for (const name of Object.keys(properties).filter((n) => n !== 'num_beams')) {
      const value = samples[name];
      // A new option needs a sample here, and a decision on whether it is beam-search only.
      expect({ name, sampled: value !== undefined }).toEqual({ name, sampled: true });
      const form = new FormData();
      form.append('file', new Blob([readFileSync(CHINA)]), 'china.jpg');
      const response = await fetch(`${url}/caption?num_beams=1&${name}=${value}`, {
        method: 'POST',
        body: form,
      });
      const refused = response.status === 400;
      expect({ name, refused }).toEqual({
        name,
        refused: (BEAM_SEARCH_ONLY_OPTIONS as string[]).includes(name),
      });
      expect(Boolean((properties[name] as Record<string, unknown>)['x-beam-search-only'])).toBe(
        refused,
      );
    }
  });
});
