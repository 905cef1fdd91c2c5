import { INestApplication } from '@nestjs/common';
import { DocumentBuilder, OpenAPIObject, SwaggerModule } from '@nestjs/swagger';
import { documentRawCaptionBodies } from './caption/caption.openapi';
import {
  DECODING_OPTIONS,
  DECODING_OPTION_NAMES,
} from './caption/decoding-options/decoding-option-catalog';
import { APP_CONFIG, AppConfig } from './config/app-config';

/**
 * Options the service refuses with `unsupported_option` when num_beams is 1 (the catalog says
 * which); marked in the document so clients (the page at /) offer them only with beams. The
 * page's e2e spec checks this list against the service's answers.
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
    .build();
  const document = SwaggerModule.createDocument(app, config);
  documentRawCaptionBodies(document);
  // The beam default is a setting (DEFAULT_NUM_BEAMS), so the document states the one in force.
  const options = document.components?.schemas?.CaptionOptionsDto;
  if (options && 'properties' in options && options.properties) {
    const beams = options.properties.num_beams;
    if (beams && 'type' in beams) beams.default = app.get<AppConfig>(APP_CONFIG).defaultNumBeams;
    for (const name of BEAM_SEARCH_ONLY_OPTIONS) {
      const option = options.properties[name];
      if (option && !('$ref' in option)) Object.assign(option, { 'x-beam-search-only': true });
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
