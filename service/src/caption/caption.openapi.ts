import { applyDecorators } from '@nestjs/common';
import { ApiBody, ApiExtraModels, ApiQuery, OpenAPIObject, getSchemaPath } from '@nestjs/swagger';
import { DECODING_OPTION_NAMES } from './decoding-options/decoding-option-catalog';
import { CaptionOptionsDto } from './dto/caption-options.dto';
import { ACCEPTED_MEDIA_TYPES } from './image/image-format';

/** The multipart form as Swagger UI renders it (file picker plus option fields). */
export function ApiCaptionBody(): MethodDecorator {
  return ApiBody({
    description:
      'The image: multipart field `file`, or the raw bytes with an image/* Content-Type.',
    schema: {
      type: 'object',
      required: ['file'],
      properties: {
        file: { type: 'string', format: 'binary', description: 'The image file.' },
      },
    },
  });
}

/** Each decoding option as an optional query parameter (they may also be sent as form fields). */
export function ApiCaptionOptions(): MethodDecorator {
  return applyDecorators(
    ApiExtraModels(CaptionOptionsDto),
    ...DECODING_OPTION_NAMES.map((name) =>
      ApiQuery({
        name,
        required: false,
        schema: { $ref: `${getSchemaPath(CaptionOptionsDto)}/properties/${name}` },
      }),
    ),
  );
}

/**
 * Raw uploads carry the bytes themselves: each accepted image type gets a binary body, where
 * @ApiBody would give every consumed type the multipart form's schema.
 */
export function documentRawCaptionBodies(document: OpenAPIObject): void {
  const body = document.paths['/caption']?.post?.requestBody;
  if (!body || !('content' in body)) return;
  for (const type of Object.values(ACCEPTED_MEDIA_TYPES)) {
    body.content[type] = { schema: { type: 'string', format: 'binary' } };
  }
}
