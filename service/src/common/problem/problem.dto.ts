import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { PROBLEM_CODES } from './problem-catalog';

/** RFC 9457 problem details, as every error response carries them. */
export class ProblemDto {
  @ApiProperty({ example: 'urn:caption-service:problem:invalid_image' })
  type: string;

  @ApiProperty({ example: 'The image cannot be decoded' })
  title: string;

  @ApiProperty({ example: 422 })
  status: number;

  @ApiProperty({
    example: 'The jpeg data cannot be decoded: VipsJpeg: premature end of JPEG image',
  })
  detail: string;

  @ApiProperty({ enum: PROBLEM_CODES, example: 'invalid_image' })
  code: string;

  @ApiPropertyOptional({ example: '5f0c2d4e-4a1b-4d7e-9f51-0a6b3c2d1e0f' })
  request_id?: string;
}
