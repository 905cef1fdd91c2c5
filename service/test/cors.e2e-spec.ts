/**
 * CORS from CORS_ALLOWED_ORIGINS on the real app (fake engine): preflights for the caption
 * routes, the headers a browser script may read, and no CORS headers at all by default.
 */
import { NestExpressApplication } from '@nestjs/platform-express';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import request from 'supertest';
import { ModelLoaderService } from '../src/caption/model-loader.service';
import { bootApp, testConfig } from './support/app';
import { FakeEngine } from './support/fake-engine';
import { PHOTOS } from './support/fixtures';

const SITE = 'https://alt-text.example';

async function boot(env: Record<string, string>): Promise<NestExpressApplication> {
  const engine = new FakeEngine();
  engine.autoComplete = true;
  const app = await bootApp(testConfig({ MODEL_DIR: '/fake-model', ...env }), engine);
  await app.get(ModelLoaderService).load();
  return app;
}

const JPEG = readFileSync(join(PHOTOS, 'flower.jpg'));

describe('CORS', () => {
  describe('with a list of origins', () => {
    let app: NestExpressApplication;
    beforeAll(async () => {
      app = await boot({ CORS_ALLOWED_ORIGINS: `${SITE}, http://localhost:5173` });
    });
    afterAll(() => app.close());

    it.each(['/caption', '/captions', '/models/Xenova/vit-gpt2-image-captioning'])(
      'answers the preflight of POST %s',
      async (path) => {
        const preflight = await request(app.getHttpServer())
          .options(path)
          .set('Origin', SITE)
          .set('Access-Control-Request-Method', 'POST')
          .set('Access-Control-Request-Headers', 'content-type, x-request-id')
          .expect(204);
        expect(preflight.headers).toMatchObject({
          'access-control-allow-origin': SITE,
          'access-control-allow-headers': 'content-type, x-request-id',
          'access-control-max-age': '600',
        });
        expect(preflight.headers['access-control-allow-methods']).toContain('POST');
        expect(preflight.headers['access-control-allow-credentials']).toBeUndefined();
      },
    );

    it('lets the page read the caption and the back-off, request id and timing headers', async () => {
      const answer = await request(app.getHttpServer())
        .post('/caption?num_beams=1')
        .set('Origin', 'http://localhost:5173')
        .set('Content-Type', 'image/jpeg')
        .send(JPEG);
      expect(answer.headers['access-control-allow-origin']).toBe('http://localhost:5173');
      expect(answer.headers['access-control-expose-headers']).toBe(
        'Retry-After,X-Request-Id,Server-Timing',
      );
      expect(answer.headers.vary).toMatch(/Origin/);
    });

    it('gives errors the same headers, so a page can read the problem', async () => {
      const problem = await request(app.getHttpServer())
        .post('/caption?num_beams=0')
        .set('Origin', SITE)
        .set('Content-Type', 'image/jpeg')
        .send(JPEG)
        .expect(400);
      expect(problem.headers['access-control-allow-origin']).toBe(SITE);
    });

    it('names no origin for a site that is not listed', async () => {
      const other = await request(app.getHttpServer())
        .options('/caption')
        .set('Origin', 'https://evil.example')
        .set('Access-Control-Request-Method', 'POST');
      expect(other.headers['access-control-allow-origin']).toBeUndefined();
    });
  });

  it('allows any origin with *', async () => {
    const app = await boot({ CORS_ALLOWED_ORIGINS: '*' });
    try {
      const preflight = await request(app.getHttpServer())
        .options('/caption')
        .set('Origin', SITE)
        .set('Access-Control-Request-Method', 'POST')
        .expect(204);
      expect(preflight.headers['access-control-allow-origin']).toBe('*');
    } finally {
      await app.close();
    }
  });

  it('sends no CORS headers by default', async () => {
    const app = await boot({});
    try {
      const answer = await request(app.getHttpServer())
        .post('/caption')
        .set('Origin', SITE)
        .set('Content-Type', 'image/jpeg')
        .send(JPEG);
      expect(
        Object.keys(answer.headers).filter((name) => name.startsWith('access-control-')),
      ).toEqual([]);
      const preflight = await request(app.getHttpServer())
        .options('/caption')
        .set('Origin', SITE)
        .set('Access-Control-Request-Method', 'POST');
      expect(preflight.headers['access-control-allow-origin']).toBeUndefined();
    } finally {
      await app.close();
    }
  });
});
