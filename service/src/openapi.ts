import { INestApplication } from '@nestjs/common';
import { DocumentBuilder, OpenAPIObject, SwaggerModule } from '@nestjs/swagger';
import { ACCEPTED_MEDIA_TYPES } from './caption/image/image-format';

export function buildOpenApiDocument(app: INestApplication): OpenAPIObject {
  const config = new DocumentBuilder()
    .setTitle('Image caption service')
    .setDescription(
      'Captions images with ViT-GPT2 (Xenova/vit-gpt2-image-captioning) on ONNX Runtime. ' +
        'Errors are RFC 9457 problem+json with a stable `code`.',
    )
    .setVersion('1')
    .build();
  const document = SwaggerModule.createDocument(app, config);
  // Raw uploads carry the bytes themselves; only the multipart form has fields.
  const body = document.paths['/caption']?.post?.requestBody;
  if (body && 'content' in body) {
    for (const type of Object.values(ACCEPTED_MEDIA_TYPES)) {
      body.content[type] = { schema: { type: 'string', format: 'binary' } };
    }
  }
  return document;
}

export function setupOpenApi(app: INestApplication): void {
  SwaggerModule.setup('docs', app, () => buildOpenApiDocument(app), {
    jsonDocumentUrl: 'docs-json',
    customSiteTitle: 'Image caption service',
  });
}
