import { applyDecorators } from '@nestjs/common';
import { ApiExtraModels, ApiResponse, getSchemaPath } from '@nestjs/swagger';
import { PROBLEMS, ProblemCode } from './problem-catalog';
import { ProblemDto } from './problem.dto';

/** Documents problem+json responses for the given statuses, listing the codes each may carry. */
export function ApiProblems(...statuses: number[]): MethodDecorator & ClassDecorator {
  return applyDecorators(
    ApiExtraModels(ProblemDto),
    ...statuses.map((status) => {
      const codes = (Object.keys(PROBLEMS) as ProblemCode[]).filter(
        (c) => PROBLEMS[c].status === status,
      );
      return ApiResponse({
        status,
        description: codes.map((c) => `\`${c}\`: ${PROBLEMS[c].title}`).join('; '),
        content: {
          'application/problem+json': {
            schema: { $ref: getSchemaPath(ProblemDto) },
            example: {
              type: `urn:caption-service:problem:${codes[0]}`,
              title: PROBLEMS[codes[0]].title,
              status,
              detail: PROBLEMS[codes[0]].title + '.',
              code: codes[0],
              request_id: '5f0c2d4e-4a1b-4d7e-9f51-0a6b3c2d1e0f',
            },
          },
        },
      });
    }),
  );
}
