import { applyDecorators } from '@nestjs/common';
import { ApiExtraModels, ApiOkResponse, OpenAPIObject, getSchemaPath } from '@nestjs/swagger';
import type {
  OperationObject,
  ParameterObject,
} from '@nestjs/swagger/dist/interfaces/open-api-spec.interface';
import { ApiCaptionOptions, setNumBeamsDefault } from '../caption.openapi';
import { CaptionOptionsDto } from '../dto/caption-options.dto';
import { ACCEPTED_MEDIA_TYPES } from '../image/image-format';
import { HfGeneratedTextDto, HfImageToTextRequestDto, HfParametersDto } from './hf.dto';
import { HF_SHAPE_HEADERS } from './hf-response';

const TIMING = {
  'Server-Timing': {
    description: 'queue, image decode, encoder, decoding and total durations (ms).',
    schema: { type: 'string' },
  },
  Vary: {
    description: `${HF_SHAPE_HEADERS.join(', ')}: the shape depends on them.`,
    schema: { type: 'string' },
  },
};

/** The answer in either shape, and the options as query parameters. */
export function ApiHuggingFaceRoute(): MethodDecorator {
  return applyDecorators(
    ApiExtraModels(HfGeneratedTextDto, HfImageToTextRequestDto, HfParametersDto, CaptionOptionsDto),
    ApiCaptionOptions(),
    ApiOkResponse({
      description:
        'The caption as `[{"generated_text": ...}]` (what huggingface_hub parses), or as one ' +
        '`{"generated_text": ...}` object for a User-Agent naming `@huggingface/inference` ' +
        '(which refuses a list).',
      headers: TIMING,
      content: {
        'application/json': {
          schema: {
            oneOf: [
              { type: 'array', items: { $ref: getSchemaPath(HfGeneratedTextDto) } },
              { $ref: getSchemaPath(HfGeneratedTextDto) },
            ],
          },
        },
      },
    }),
  );
}

/**
 * The route's path and body, which decorators cannot say. {model_id} may contain a slash
 * (owner/name, as hub ids do), which an OpenAPI path parameter cannot: the operation is listed
 * under /models/{model_id} for one-segment ids (a model folder's name) and again under
 * /models/{owner}/{name}. The body is the image bytes of any type (or none: the type is read
 * from the bytes) or the JSON request.
 */
export function documentHuggingFaceRoute(document: OpenAPIObject, defaultNumBeams: number): void {
  const post = document.paths['/models/{model_id}']?.post;
  if (!post) return;
  setNumBeamsDefault(post.parameters as ParameterObject[] | undefined, defaultNumBeams);
  const image = { schema: { type: 'string', format: 'binary' } };
  post.requestBody = {
    required: true,
    description:
      'The image bytes, with any or no Content-Type (the type is read from the bytes; options ' +
      'in the query string), or JSON `{"inputs": "<base64 or data URL>", "parameters": {...}}`.',
    content: {
      'application/octet-stream': image,
      ...Object.fromEntries(Object.values(ACCEPTED_MEDIA_TYPES).map((type) => [type, image])),
      'application/json': { schema: { $ref: getSchemaPath(HfImageToTextRequestDto) } },
    },
  };
  const options = (post.parameters ?? []).filter((p) => !('in' in p) || p.in !== 'path');
  const pathParameter = (name: string, description: string, example: string) => ({
    name,
    in: 'path' as const,
    required: true,
    description,
    schema: { type: 'string' as const },
    example,
  });
  const single: OperationObject = {
    ...post,
    operationId: 'HuggingFaceController_imageToText',
    parameters: [
      pathParameter(
        'model_id',
        'The served model, when its id has one segment (an unpinned model folder is served ' +
          'under its name); another id is a 404 model_not_found naming the one served.',
        'vit-gpt2-image-captioning',
      ),
      ...options,
    ],
  };
  const owned: OperationObject = {
    ...post,
    operationId: 'HuggingFaceController_imageToTextOwnerName',
    parameters: [
      pathParameter('owner', 'Owner of the served hub model.', 'Xenova'),
      pathParameter('name', 'Name of the served hub model.', 'vit-gpt2-image-captioning'),
      ...options,
    ],
  };
  document.paths['/models/{model_id}'] = { post: single };
  document.paths['/models/{owner}/{name}'] = { post: owned };
}
