/**
 * Swagger UI's "Try it out" in a real browser (Debian's Chromium driven by playwright-core):
 * the first thing a user tries, every option pre-filled with its default and num_beams set to 1,
 * must answer 200 (it was 400 unsupported_option). Fake engine: this is about the document and
 * the options, not the model.
 */
import { NestExpressApplication } from '@nestjs/platform-express';
import { AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { ModelLoaderService } from '../src/caption/model-loader.service';
import { bootApp, testConfig } from './support/app';
import { launchChromium } from './support/chromium';
import { FakeEngine } from './support/fake-engine';
import { PHOTOS } from './support/fixtures';

const OPERATION = '#operations-caption-CaptionController_caption';

describe('Swagger UI in Chromium', () => {
  let app: NestExpressApplication;
  let browser: Browser;
  let url: string;

  beforeAll(async () => {
    browser = await launchChromium();
    const engine = new FakeEngine();
    engine.autoComplete = true;
    app = await bootApp(testConfig({ MODEL_DIR: '/fake-model' }), engine);
    await app.get(ModelLoaderService).load();
    await app.listen(0, '127.0.0.1');
    url = `http://127.0.0.1:${(app.getHttpServer().address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    await browser?.close();
    await app?.close();
  });

  it('captions with every option pre-filled and num_beams=1, first time', async () => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 1600 } });
    await page.goto(`${url}/docs`);
    const operation = page.locator(OPERATION);
    await operation.locator('.opblock-summary').click();
    await operation.locator('.try-out__btn').click();
    // every option shows its default, as Swagger UI sends it
    const prefilled = await operation
      .locator('tr[data-param-name]')
      .evaluateAll((rows) =>
        rows.map((row) => [
          row.getAttribute('data-param-name'),
          (row.querySelector('input, select') as { value?: string } | null)?.value,
        ]),
      );
    expect(Object.fromEntries(prefilled)).toEqual({
      max_new_tokens: '15',
      min_new_tokens: '0',
      num_beams: '4',
      length_penalty: '1',
      early_stopping: 'false',
      no_repeat_ngram_size: '0',
      repetition_penalty: '1',
      num_return_sequences: '1',
    });
    await operation.locator('input[type=file]').setInputFiles(join(PHOTOS, 'flower.jpg'));
    await operation.locator('tr[data-param-name="num_beams"] input').fill('1');
    const answered = page.waitForResponse((response) => response.url().includes('/caption?'));
    await operation.locator('.execute').click();
    const response = await answered;
    expect(response.url()).toContain('num_beams=1&length_penalty=1&early_stopping=false');
    expect(response.status()).toBe(200);
    await operation.locator('.live-responses-table .response-col_status').first().waitFor();
    await expect(
      operation
        .locator('.live-responses-table .response .response-col_status')
        .first()
        .textContent(),
    ).resolves.toBe('200');
    await page.close();
  });

  it('lists the batch and the Hugging Face routes', async () => {
    const page = await browser.newPage();
    await page.goto(`${url}/docs`);
    await page.locator('#operations-caption-CaptionBatchController_captions').waitFor();
    await page
      .locator('#operations-hugging_face-HuggingFaceController_imageToTextOwnerName')
      .waitFor();
    await page.close();
  });
});
