import { ApiProperty } from '@nestjs/swagger';

const CHECKS_EXAMPLE = {
  model: {
    status: 'up',
    state: 'ready',
    draining: false,
    model: 'Xenova/vit-gpt2-image-captioning@0123456789abcdef0123456789abcdef01234567',
    dtype: 'q8',
    queue_depth: 0,
    in_flight: 1,
  },
};

const Checks = (description: string, example: object) =>
  ApiProperty({
    type: 'object',
    additionalProperties: { type: 'object', additionalProperties: true },
    description,
    example,
  });

/** A passing health check as @nestjs/terminus sends it (a failing one is a `not_ready` problem). */
export class HealthResultDto {
  @ApiProperty({ enum: ['ok'], example: 'ok' }) status: 'ok';
  @Checks('Checks that are up, by name.', CHECKS_EXAMPLE) info: Record<string, unknown>;
  @Checks('Checks that are down: none when the status is ok.', {}) error: Record<string, unknown>;
  @Checks('Every check, by name.', CHECKS_EXAMPLE) details: Record<string, unknown>;
}
