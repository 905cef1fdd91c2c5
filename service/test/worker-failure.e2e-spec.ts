/**
 * An inference worker dies over real HTTP, with the real engine on the tiny model: the caption it
 * was running answers 500 engine_failed, readiness turns 503 while no worker can serve (here the
 * replacement also fails to start until its file comes back), new captions get 503 not_ready,
 * and the caption that was queued runs on the replacement as soon as it is ready.
 */
import { NestExpressApplication } from '@nestjs/platform-express';
import { readFileSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import request from 'supertest';
import { findOrPrepare } from '../src/caption/engine/prepare/model-preparer';
import { OnnxEngine } from '../src/caption/engine/runtime/onnx-engine';
import { ModelLoaderService } from '../src/caption/model-loader.service';
import { bootApp, testConfig } from './support/app';
import { PHOTOS, TINY_MODEL, copyModel } from './support/fixtures';

const CHINA = readFileSync(join(PHOTOS, 'china.jpg'));
// Long enough on the tiny model to still be running when the worker is killed.
const SLOW = '?num_beams=8&max_new_tokens=64&min_new_tokens=64';

describe('inference worker failure (e2e, real engine)', () => {
  let app: NestExpressApplication;
  let http: ReturnType<NestExpressApplication['getHttpServer']>;
  let engine: OnnxEngine;
  let dir: string;
  let stepPath = '';

  const ready = () => request(http).get('/health/ready');
  const details = async () => (await ready()).body.details?.model as Record<string, unknown>;
  async function until(condition: () => Promise<boolean>, timeoutMs = 30_000): Promise<void> {
    const started = Date.now();
    while (!(await condition())) {
      if (Date.now() - started > timeoutMs) throw new Error('condition not met in time');
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  }

  beforeAll(async () => {
    dir = copyModel(TINY_MODEL);
    engine = new OnnxEngine({
      locateModel: () => Promise.resolve(dir),
      revisionOf: () => 'local',
      prepare: async (modelDir) => {
        const prepared = await findOrPrepare(modelDir, 'fp32', dir, () => undefined);
        stepPath = prepared.stepPath;
        return prepared;
      },
      dtype: 'fp32',
      fidelity: 'exact',
      workers: 1,
      threadsPerWorker: 1,
      spinning: false,
      // One caption at a time, so the second one waits in the queue.
      maxRows: 1,
      maxImages: 1,
      joinBudgetMs: 100,
      log: () => undefined,
      restartBackoffMs: 100,
      testHooks: true,
    });
    app = await bootApp(
      testConfig({
        MODEL_DIR: dir,
        MODEL_DTYPE: 'fp32',
        ENGINE_MAX_BATCH: '1',
        ENGINE_MAX_WAIT_MS: '0',
        CACHE_MAX_ENTRIES: '0',
        REQUEST_TIMEOUT_MS: '60000',
      }),
      engine,
    );
    await app.listen(0, '127.0.0.1');
    http = app.getHttpServer();
    await app.get(ModelLoaderService).load();
  });

  afterAll(async () => {
    await app?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('answers the lost caption 500, is unready until a worker serves, then runs the queued one', async () => {
    expect((await ready()).status).toBe(200);
    const running = request(http)
      .post(`/caption${SLOW}`)
      .attach('file', CHINA, 'a.jpg')
      .then((r) => r);
    await until(async () => (await details()).in_flight === 1);
    const queued = request(http)
      .post('/caption?max_new_tokens=5')
      .attach('file', CHINA, 'b.jpg')
      .then((r) => r);
    await until(async () => (await details()).queue_depth === 1);

    renameSync(stepPath, `${stepPath}.away`); // the replacement cannot load, for now
    try {
      engine.crashWorker(0, 'throw');
      const lost = await running;
      expect(lost.status).toBe(500);
      expect(lost.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(lost.body).toMatchObject({ code: 'engine_failed', status: 500 });

      const unready = await ready();
      expect(unready.status).toBe(503);
      expect(unready.body.checks.model).toMatchObject({ state: 'ready', workers_ready: 0 });
      const refused = await request(http).post('/caption').attach('file', CHINA, 'c.jpg');
      expect(refused.status).toBe(503);
      expect(refused.body).toMatchObject({ code: 'not_ready' });
      expect(refused.body.detail).toMatch(/No inference worker is running/);
    } finally {
      renameSync(`${stepPath}.away`, stepPath);
    }
    const served = await queued; // started the moment the replacement was ready
    expect(served.status).toBe(200);
    expect(typeof served.body.caption).toBe('string');
    expect((await ready()).status).toBe(200);
    expect(await details()).toMatchObject({ workers_ready: 1, workers_starting: 0 });
  });
});
