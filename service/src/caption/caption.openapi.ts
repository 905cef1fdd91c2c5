import { applyDecorators } from '@nestjs/common';
import { ApiBody, ApiExtraModels, ApiQuery, getSchemaPath } from '@nestjs/swagger';
import { DECODING_OPTION_NAMES } from './decoding-options/decoding-option-catalog';
import { CaptionOptionsDto } from './dto/caption-options.dto';

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
