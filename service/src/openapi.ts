import { INestApplication } from '@nestjs/common';
import { DocumentBuilder, OpenAPIObject, SwaggerModule } from '@nestjs/swagger';
import { documentCaptionRoute } from './caption/caption.openapi';
import { documentHuggingFaceRoute } from './caption/huggingface/hf.openapi';
import { APP_CONFIG, AppConfig } from './config/app-config';

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
  return document;
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
