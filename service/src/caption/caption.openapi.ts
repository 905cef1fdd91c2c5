import { applyDecorators } from '@nestjs/common';
import { ApiBody, ApiExtraModels, ApiQuery, OpenAPIObject, getSchemaPath } from '@nestjs/swagger';
import type {
  ParameterObject,
  SchemaObject,
} from '@nestjs/swagger/dist/interfaces/open-api-spec.interface';
import {
  DECODING_OPTIONS,
  DECODING_OPTION_NAMES,
  DecodingOptionName,
  DecodingOptionSpec,
} from './decoding-options/decoding-option-catalog';
import { numericSchema } from './decoding-options/decoding-option.decorator';
import { CaptionImageRequestDto, CaptionUrlRequestDto } from './dto/caption-json-request.dto';
import { ACCEPTED_MEDIA_TYPES } from './image/image-format';

/** The multipart form as Swagger UI renders it (a file picker; options go in the query). */
export function ApiCaptionBody(): MethodDecorator {
  return applyDecorators(
    ApiExtraModels(CaptionUrlRequestDto, CaptionImageRequestDto),
    ApiBody({
      description:
        'The image: multipart field `file`, the raw bytes with an image/* Content-Type, or JSON ' +
        '`{"url": ...}` or `{"image": base64}`. Decoding options may also be multipart fields or ' +
        'JSON members, but each in one place only.',
      schema: {
        type: 'object',
        required: ['file'],
        properties: {
          file: { type: 'string', format: 'binary', description: 'The image file.' },
        },
      },
    }),
  );
}

/**
 * A decoding option as a query parameter, with its own schema (type, range, default and
 * description inline: Swagger UI shows none of them through a $ref into a DTO property).
 */
export function optionQuerySchema(name: DecodingOptionName): SchemaObject {
  const spec: DecodingOptionSpec = DECODING_OPTIONS[name];
  const schema: SchemaObject =
    spec.kind === 'early_stopping'
      ? {
          type: 'string',
          enum: [...spec.values],
          default: String(spec.default),
          description: spec.description,
        }
      : numericSchema(spec);
  // As on the option schemas (see openapi.ts): clients offer these only with beams.
  return spec.beamSearchOnly ? ({ ...schema, 'x-beam-search-only': true } as SchemaObject) : schema;
}

/** Each decoding option as an optional query parameter. */
export function ApiCaptionOptions(): MethodDecorator {
  return applyDecorators(
    ...DECODING_OPTION_NAMES.map((name) =>
      ApiQuery({
        name,
        required: false,
        description: DECODING_OPTIONS[name].description,
        schema: optionQuerySchema(name),
      }),
    ),
  );
}

/**
 * What only the running configuration knows, and what decorators cannot say: raw uploads carry
 * the bytes themselves (each accepted image type gets a binary body, where @ApiBody would give
 * every consumed type the multipart form's schema), and num_beams defaults to DEFAULT_NUM_BEAMS.
 */
export function documentCaptionRoute(document: OpenAPIObject, defaultNumBeams: number): void {
  const post = document.paths['/caption']?.post;
  const body = post?.requestBody;
  if (body && 'content' in body) {
    for (const type of Object.values(ACCEPTED_MEDIA_TYPES)) {
      body.content[type] = { schema: { type: 'string', format: 'binary' } };
    }
    body.content['application/json'] = {
      schema: {
        oneOf: [
          { $ref: getSchemaPath(CaptionUrlRequestDto) },
          { $ref: getSchemaPath(CaptionImageRequestDto) },
        ],
      },
    };
  }
  setNumBeamsDefault(post?.parameters as ParameterObject[] | undefined, defaultNumBeams);
  const batch = document.paths['/captions']?.post;
  setNumBeamsDefault(batch?.parameters as ParameterObject[] | undefined, defaultNumBeams);
}

export function setNumBeamsDefault(
  parameters: ParameterObject[] | undefined,
  defaultNumBeams: number,
): void {
  const numBeams = parameters?.find((p) => p.name === 'num_beams');
  if (numBeams?.schema && !('$ref' in numBeams.schema)) numBeams.schema.default = defaultNumBeams;
}
