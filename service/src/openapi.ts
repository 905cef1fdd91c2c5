import { INestApplication } from '@nestjs/common';
import { DocumentBuilder, OpenAPIObject, SwaggerModule } from '@nestjs/swagger';
import { documentCaptionRoute } from './caption/caption.openapi';
import {
  DECODING_OPTIONS,
  DECODING_OPTION_NAMES,
} from './caption/decoding-options/decoding-option-catalog';
import { documentHuggingFaceRoute } from './caption/huggingface/hf.openapi';
import { APP_CONFIG, AppConfig } from './config/app-config';

/**
 * Options the service refuses with `unsupported_option` when num_beams is 1 and they are set
 * away from their defaults (the catalog says which); marked in the document so clients (the
 * page at /) offer them only with beams. The page's e2e spec checks this list against the
 * service's answers.
 */
export const BEAM_SEARCH_ONLY_OPTIONS = DECODING_OPTION_NAMES.filter(
  (name) => DECODING_OPTIONS[name].beamSearchOnly,
);

export function buildOpenApiDocument(app: INestApplication): OpenAPIObject {
  const config = new DocumentBuilder()
    .setTitle('Image caption service')
    .setDescription(
      'Captions images with ViT-GPT2 (Xenova/vit-gpt2-image-captioning) on ONNX Runtime. ' +
        'Errors are RFC 9457 problem+json with a stable `code`.',
    )
    .setVersion('1')
    .setLicense('Apache-2.0', 'https://www.apache.org/licenses/LICENSE-2.0')
    // Relative: the document describes the server that serves it, wherever it is deployed.
    .addServer('/', 'This service')
    .build();
  const document = SwaggerModule.createDocument(app, config);
  // The API has no authentication: said once for every operation.
  document.security = [];
  const { defaultNumBeams } = app.get<AppConfig>(APP_CONFIG);
  documentCaptionRoute(document, defaultNumBeams);
  documentHuggingFaceRoute(document, defaultNumBeams);
  documentMetrics(document);
  markOptionSchema(document, defaultNumBeams);
  return document;
}

/**
 * Every schema that carries the decoding options (CaptionOptionsDto and the JSON bodies that
 * extend it) states the num_beams default in force (DEFAULT_NUM_BEAMS, a setting) and marks the
 * beam-search-only options; the query parameters get the same from caption.openapi.ts.
 */
function markOptionSchema(document: OpenAPIObject, defaultNumBeams: number): void {
  for (const schema of Object.values(document.components?.schemas ?? {})) {
    if (!('properties' in schema) || !schema.properties) continue;
    const beams = schema.properties.num_beams;
    if (beams && !('$ref' in beams)) beams.default = defaultNumBeams;
    for (const name of BEAM_SEARCH_ONLY_OPTIONS) {
      const option = schema.properties[name];
      if (option && !('$ref' in option)) Object.assign(option, { 'x-beam-search-only': true });
    }
  }
}

/** /metrics comes from @willsoto/nestjs-prometheus, whose controller carries no documentation. */
function documentMetrics(document: OpenAPIObject): void {
  const get = document.paths['/metrics']?.get;
  if (!get) return;
  get.summary = 'Prometheus metrics';
  get.description = 'The Prometheus text exposition format; the README lists the metrics.';
  get.tags = ['metrics'];
  get.responses = {
    '200': {
      description: 'The metrics.',
      content: { 'text/plain': { schema: { type: 'string' } } },
    },
  };
}

export function setupOpenApi(app: INestApplication): void {
  SwaggerModule.setup('docs', app, () => buildOpenApiDocument(app), {
    jsonDocumentUrl: 'docs-json',
    customSiteTitle: 'Image caption service',
  });
}
