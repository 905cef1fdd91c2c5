/**
 * The OpenAPI document against the wire: what Swagger UI needs to show every option (no $ref
 * into DTO properties), problem bodies with their extension members, and the response check
 * every e2e spec runs (support/openapi-validation.ts) failing on a response that does not match.
 */
import { NestExpressApplication } from '@nestjs/platform-express';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import request from 'supertest';
import { CaptionService } from '../src/caption/caption.service';
import { DECODING_OPTION_NAMES } from '../src/caption/decoding-options/decoding-option-catalog';
import { ModelLoaderService } from '../src/caption/model-loader.service';
import { bootApp, testConfig } from './support/app';
import { FakeEngine } from './support/fake-engine';
import { PHOTOS } from './support/fixtures';

const FLOWER = readFileSync(join(PHOTOS, 'flower.jpg'));

async function boot(env: Record<string, string> = {}): Promise<NestExpressApplication> {
  const engine = new FakeEngine();
  engine.autoComplete = true;
  const app = await bootApp(testConfig({ MODEL_DIR: '/fake-model', ...env }), engine);
  await app.get(ModelLoaderService).load();
  return app;
}

/** Every `$ref` in a document, with where it is. */
function refs(node: unknown, at = '#'): [string, string][] {
  if (!node || typeof node !== 'object') return [];
  return Object.entries(node).flatMap(([key, value]) =>
    key === '$ref' && typeof value === 'string'
      ? [[at, value] as [string, string]]
      : refs(value, `${at}/${key}`),
  );
}

interface Parameter {
  name: string;
  in: string;
  description?: string;
  schema: Record<string, unknown>;
}

describe('OpenAPI document', () => {
  let app: NestExpressApplication;
  let doc: Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

  beforeAll(async () => {
    app = await boot({ DEFAULT_NUM_BEAMS: '3' });
    doc = (await request(app.getHttpServer()).get('/docs-json').expect(200)).body;
  });
  afterAll(() => app.close());

  it('has no $ref into the properties of a schema', () => {
    expect(refs(doc).filter(([, ref]) => ref.includes('/properties/'))).toEqual([]);
  });

  it('gives every option its type, range, default and description inline', () => {
    const parameters = doc.paths['/caption'].post.parameters as Parameter[];
    expect(parameters.map((p) => p.name).sort()).toEqual([...DECODING_OPTION_NAMES].sort());
    const byName = Object.fromEntries(parameters.map((p) => [p.name, p]));
    expect(byName.num_beams).toMatchObject({
      in: 'query',
      description: expect.stringMatching(/1 decodes greedily/),
      schema: { type: 'integer', minimum: 1, maximum: 8, default: 3 },
    });
    expect(byName.max_new_tokens.schema).toMatchObject({ type: 'integer', default: 15 });
    expect(byName.length_penalty.schema).toMatchObject({ type: 'number', minimum: -5, maximum: 5 });
    expect(byName.early_stopping.schema).toMatchObject({
      type: 'string',
      enum: ['true', 'false', 'never'],
      default: 'false',
    });
    for (const parameter of parameters) {
      expect(parameter.description).toBeTruthy();
      expect(parameter.schema.default).toBeDefined();
    }
  });

  it('documents problems with their extension members, integers as integers', () => {
    const problem = doc.components.schemas.ProblemDto;
    expect(problem.properties).toMatchObject({
      status: { type: 'integer' },
      errors: { type: 'array', items: { $ref: '#/components/schemas/FieldErrorDto' } },
      checks: { type: 'object' },
      width: { type: 'integer' },
      height: { type: 'integer' },
      max_pixels: { type: 'integer' },
      max_bytes: { type: 'integer' },
    });
    expect(doc.components.schemas.FieldErrorDto.required).toEqual(['field', 'message']);
    const tooLarge =
      doc.paths['/caption'].post.responses['413'].content['application/problem+json'];
    expect(tooLarge.examples.image_too_large.value).toMatchObject({
      width: 30000,
      max_pixels: 5e7,
    });
    const busy = doc.paths['/caption'].post.responses['429'];
    expect(busy.headers['Retry-After'].schema).toEqual({ type: 'integer', minimum: 1 });
  });

  it('documents the health probes as sent: a result, or a not_ready problem', () => {
    for (const probe of ['/health/ready', '/health/startup']) {
      const responses = doc.paths[probe].get.responses;
      expect(Object.keys(responses['503'].content)).toEqual(['application/problem+json']);
      expect(responses['200'].content['application/json'].schema.$ref).toBe(
        '#/components/schemas/HealthResultDto',
      );
    }
    expect(JSON.stringify(doc.paths['/health/ready'])).not.toMatch(/redis|database/);
  });

  it('names a server, a licence and no authentication', () => {
    expect(doc.servers).toEqual([{ url: '/', description: 'This service' }]);
    expect(doc.info.license.name).toBe('Apache-2.0');
    expect(doc.security).toEqual([]);
  });

  it('checks every response of the e2e specs against the document, and catches a mismatch', async () => {
    const other = await boot();
    const captions = other.get(CaptionService);
    const real = captions.caption.bind(captions);
    captions.caption = async (...args: Parameters<typeof real>) =>
      ({ ...(await real(...args)), tokens: 'three', undocumented: true }) as never;
    await request(other.getHttpServer())
      .post('/caption')
      .set('Content-Type', 'image/jpeg')
      .send(FLOWER)
      .expect(200);
    const closing = other.close();
    await expect(closing).rejects.toThrow(/1 response\(s\) did not match the OpenAPI document/);
    await expect(closing).rejects.toThrow(/POST \/caption: .*tokens must be integer/);
    await expect(closing).rejects.toThrow(/must NOT have additional properties/);
  });
});
