/**
 * POST /caption with JSON: an image URL (served here by a local HTTP server, admitted through
 * URL_ALLOWED_PRIVATE_HOSTS) or base64 bytes, on the real app with the tiny model. The fetcher's
 * refusals are covered class by class in its own spec and address-policy.spec (which never
 * connect anywhere but loopback, nor does this one); here, that they reach the client as
 * problems, and that a JSON image captions like the same bytes uploaded.
 */
import { NestExpressApplication } from '@nestjs/platform-express';
import { Server, createServer } from 'node:http';
import { readFileSync, rmSync } from 'node:fs';
import { AddressInfo } from 'node:net';
import { join } from 'node:path';
import request from 'supertest';
import { ModelLoaderService } from '../src/caption/model-loader.service';
import { bootApp, testConfig } from './support/app';
import { PHOTOS, TINY_MODEL, copyModel } from './support/fixtures';

const CHINA = readFileSync(join(PHOTOS, 'china.jpg'));
const MAX_UPLOAD = 256 * 1024;

describe('image URLs and JSON bodies (tiny model, e2e)', () => {
  let app: NestExpressApplication;
  let http: ReturnType<NestExpressApplication['getHttpServer']>;
  let images: Server;
  let origin: string;
  let modelDir: string;
  let uploaded: { caption: string };

  beforeAll(async () => {
    images = createServer((req, res) => {
      if (req.url === '/china.jpg') return res.writeHead(200).end(CHINA);
      if (req.url === '/moved') return res.writeHead(302, { location: '/china.jpg' }).end();
      if (req.url === '/to-loopback') {
        return res.writeHead(302, { location: `http://localhost:${port()}/china.jpg` }).end();
      }
      if (req.url === '/big') return res.writeHead(200).end(Buffer.alloc(MAX_UPLOAD + 1));
      if (req.url === '/slow') return res.writeHead(200).write(CHINA.subarray(0, 10));
      res.writeHead(404).end();
    });
    await new Promise<void>((resolve) => images.listen(0, '127.0.0.1', resolve));
    const port = () => (images.address() as AddressInfo).port;
    origin = `http://127.0.0.1:${port()}`;
    modelDir = copyModel(TINY_MODEL);
    app = await bootApp(
      testConfig({
        MODEL_DIR: modelDir,
        MAX_UPLOAD_BYTES: String(MAX_UPLOAD),
        // the local server is admitted by its address; "localhost" is not
        URL_ALLOWED_PRIVATE_HOSTS: '127.0.0.1',
        URL_FETCH_TIMEOUT_MS: '500',
      }),
    );
    http = app.getHttpServer();
    await app.get(ModelLoaderService).load();
    uploaded = (await request(http).post('/caption').attach('file', CHINA, 'c.jpg').expect(200))
      .body;
  });

  afterAll(async () => {
    await app?.close();
    images.closeAllConnections();
    await new Promise<void>((resolve) => images.close(() => resolve()));
    rmSync(modelDir, { recursive: true, force: true });
  });

  it('captions the image at a URL like the same bytes uploaded', async () => {
    const answer = await request(http)
      .post('/caption')
      .send({ url: `${origin}/china.jpg` })
      .expect(200);
    expect(answer.body.caption).toBe(uploaded.caption);
    expect(answer.headers['server-timing']).toMatch(/total;dur=/);
  });

  it('follows a redirect, and takes options as JSON members', async () => {
    const answer = await request(http)
      .post('/caption')
      .send({ url: `${origin}/moved`, num_beams: 1, max_new_tokens: 4 })
      .expect(200);
    expect(answer.body.decoding).toMatchObject({ num_beams: 1, max_new_tokens: 4 });
  });

  it('captions an image given as base64 or a data URL', async () => {
    for (const image of [
      CHINA.toString('base64'),
      `data:image/jpeg;base64,${CHINA.toString('base64')}`,
    ]) {
      const answer = await request(http).post('/caption').send({ image }).expect(200);
      expect(answer.body.caption).toBe(uploaded.caption);
    }
  });

  it.each([
    [
      'a host that resolves to loopback and is not admitted',
      () => ({ url: 'http://localhost:9/x' }),
      400,
      'url_not_allowed',
    ],
    ['a redirect to such a host', () => ({ url: `${origin}/to-loopback` }), 400, 'url_not_allowed'],
    ['a file URL', () => ({ url: 'file:///etc/passwd' }), 400, 'url_not_allowed'],
    ['an image over MAX_UPLOAD_BYTES', () => ({ url: `${origin}/big` }), 413, 'payload_too_large'],
    ['a server that stalls', () => ({ url: `${origin}/slow` }), 422, 'url_fetch_failed'],
    ['a 404', () => ({ url: `${origin}/missing.jpg` }), 422, 'url_fetch_failed'],
    [
      'both url and image',
      () => ({ url: `${origin}/china.jpg`, image: 'AAAA' }),
      400,
      'validation_failed',
    ],
    ['neither', () => ({ num_beams: 2 }), 400, 'missing_image'],
    [
      'an option given in the JSON and the query',
      () => ({ image: CHINA.toString('base64'), num_beams: 2 }),
      400,
      'validation_failed',
    ],
  ])('refuses %s', async (_what, body, status, code) => {
    const response = await request(http).post('/caption?num_beams=2').send(body());
    expect({ status: response.status, code: response.body.code }).toEqual({ status, code });
    expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
  });

  it('refuses JSON that does not parse', async () => {
    const response = await request(http)
      .post('/caption')
      .set('Content-Type', 'application/json')
      .send('{"url": ');
    expect(response.body).toMatchObject({ status: 400, code: 'validation_failed' });
  });
});
