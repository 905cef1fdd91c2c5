import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { PROBLEM_CODES } from './problem-catalog';

/** One bad input of a request. */
export class FieldErrorDto {
  @ApiProperty({ example: 'num_beams', description: 'The option, form field or member at fault.' })
  field: string;

  @ApiProperty({ example: 'num_beams must be an integer from 1 to 8 (got "abc")' })
  message: string;
}

/**
 * RFC 9457 problem details, as every error response carries them, with the extension members
 * some codes add. Unknown members must be ignored by clients (RFC 9457 section 3.2).
 */
export class ProblemDto {
  @ApiProperty({ example: 'urn:caption-service:problem:invalid_image' })
  type: string;

  @ApiProperty({ example: 'The image cannot be decoded' })
  title: string;

  @ApiProperty({ type: 'integer', example: 422 })
  status: number;

  @ApiProperty({
    example: 'The jpeg data cannot be decoded: VipsJpeg: premature end of JPEG image',
  })
  detail: string;

  @ApiProperty({ enum: PROBLEM_CODES, example: 'invalid_image' })
  code: string;

  @ApiPropertyOptional({ example: '5f0c2d4e-4a1b-4d7e-9f51-0a6b3c2d1e0f' })
  request_id?: string;

  @ApiPropertyOptional({
    type: [FieldErrorDto],
    description: '`validation_failed`, `unsupported_option`: every bad field, one message each.',
  })
  errors?: FieldErrorDto[];

  @ApiPropertyOptional({
    type: 'object',
    additionalProperties: true,
    description: '`not_ready` from a health probe: the state of each check.',
    example: { model: { status: 'down', state: 'loading', draining: false } },
  })
  checks?: Record<string, unknown>;

  @ApiPropertyOptional({ type: 'integer', description: '`image_too_large`: the image width.' })
  width?: number;

  @ApiPropertyOptional({ type: 'integer', description: '`image_too_large`: the image height.' })
  height?: number;

  @ApiPropertyOptional({
    type: 'integer',
    description: '`image_too_large`: the most pixels accepted (MAX_INPUT_PIXELS).',
  })
  max_pixels?: number;

  @ApiPropertyOptional({
    type: 'integer',
    description:
      '`image_too_large`: the memory decoding this image would need, estimated from its header.',
  })
  decode_bytes?: number;

  @ApiPropertyOptional({
    type: 'integer',
    description:
      '`image_too_large`: the most decode memory one image may need (DECODE_MEMORY_BYTES).',
  })
  max_decode_bytes?: number;

  @ApiPropertyOptional({
    type: 'integer',
    description:
      "`payload_too_large`: the most bytes accepted for what was too large: the body (its route's " +
      'limit), a file or a fetched image (MAX_UPLOAD_BYTES).',
  })
  max_bytes?: number;

  @ApiPropertyOptional({
    description: '`model_not_found`: the model id this service serves.',
    example: 'Xenova/vit-gpt2-image-captioning',
  })
  served_model?: string;

  @ApiPropertyOptional({
    description:
      'On the Hugging Face-compatible route only: `detail` again, where Hugging Face clients read it.',
  })
  error?: string;
}
