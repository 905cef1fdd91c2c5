import { applyDecorators } from '@nestjs/common';
import { ApiExtraModels, ApiResponse, getSchemaPath } from '@nestjs/swagger';
import { PROBLEMS, ProblemCode, problemType } from './problem-catalog';
import { ProblemDto } from './problem.dto';

/** A detail and the extension members each code is sent with, for the examples. */
const EXAMPLES: Partial<Record<ProblemCode, { detail: string } & Record<string, unknown>>> = {
  validation_failed: {
    detail: 'num_beams must be an integer from 1 to 8 (got "abc")',
    errors: [
      { field: 'num_beams', message: 'num_beams must be an integer from 1 to 8 (got "abc")' },
    ],
  },
  unsupported_option: {
    detail:
      'length_penalty=2 only applies to beam search, and num_beams is 1 (greedy decoding): set num_beams above 1, or leave it out.',
    errors: [
      {
        field: 'length_penalty',
        message: 'length_penalty only applies to beam search (num_beams above 1)',
      },
    ],
  },
  payload_too_large: {
    detail: 'The file is larger than the limit of 20 MiB.',
    max_bytes: 20 * 1024 * 1024,
  },
  image_too_large: {
    detail:
      'The image is 30000x30000 = 900,000,000 pixels; the limit (MAX_INPUT_PIXELS) is 50,000,000.',
    width: 30000,
    height: 30000,
    max_pixels: 50_000_000,
  },
  queue_full: { detail: '64 captions are already waiting.' },
  not_ready: {
    detail: 'The model is still loading; retry shortly.',
  },
  model_not_found: {
    detail: 'This service serves Xenova/vit-gpt2-image-captioning, not gpt2.',
    served_model: 'Xenova/vit-gpt2-image-captioning',
  },
};

/** Headers a problem of this status carries. */
const HEADERS: Partial<Record<number, Record<string, { description: string; schema: object }>>> = {
  429: {
    'Retry-After': {
      description: 'Seconds until the queue ahead should have drained at the recent pace.',
      schema: { type: 'integer', minimum: 1 },
    },
  },
};

/** An example problem body for a code, as the problem filter sends it. */
export function problemExample(code: ProblemCode, extra: Record<string, unknown> = {}): object {
  return {
    type: problemType(code),
    title: PROBLEMS[code].title,
    status: PROBLEMS[code].status,
    detail: `${PROBLEMS[code].title}.`,
    code,
    request_id: '5f0c2d4e-4a1b-4d7e-9f51-0a6b3c2d1e0f',
    ...EXAMPLES[code],
    ...extra,
  };
}

/**
 * Documents problem+json responses for the given statuses: the codes each may carry, one example
 * per code (with its extension members), and the headers that come with it.
 */
export function ApiProblems(
  ...statuses: (number | { status: number; codes: ProblemCode[] })[]
): MethodDecorator & ClassDecorator {
  return applyDecorators(
    ApiExtraModels(ProblemDto),
    ...statuses.map((entry) => {
      const status = typeof entry === 'number' ? entry : entry.status;
      const codes =
        typeof entry === 'number'
          ? (Object.keys(PROBLEMS) as ProblemCode[]).filter(
              (c) => PROBLEMS[c].status === status && c !== 'client_closed',
            )
          : entry.codes;
      return ApiResponse({
        status,
        description: codes.map((c) => `\`${c}\`: ${PROBLEMS[c].title}`).join('; '),
        headers: HEADERS[status],
        content: {
          'application/problem+json': {
            schema: { $ref: getSchemaPath(ProblemDto) },
            examples: Object.fromEntries(
              codes.map((c) => [c, { summary: PROBLEMS[c].title, value: problemExample(c) }]),
            ),
          },
        },
      });
    }),
  );
}
