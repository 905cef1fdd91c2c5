import { ApiProperty, getSchemaPath } from '@nestjs/swagger';
import { ProblemDto } from '../../common/problem/problem.dto';
import { CaptionResponseDto } from '../dto/caption-response.dto';

export class CaptionBatchResponseDto {
  @ApiProperty({
    description:
      'One entry per file, in upload order: the caption answer, or the problem of that file ' +
      '(as a single request would get it).',
    type: 'array',
    items: {
      oneOf: [{ $ref: getSchemaPath(CaptionResponseDto) }, { $ref: getSchemaPath(ProblemDto) }],
    },
  })
  results: (CaptionResponseDto | ProblemDto)[];
}
