import { ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsBoolean, IsInt, IsNumber, IsOptional, Max, Min, ValidateIf } from 'class-validator';

const toNumber = ({ value }: { value: unknown }) =>
  typeof value === 'string' && value.trim() !== '' && !Number.isNaN(Number(value))
    ? Number(value)
    : value;
const toEarlyStopping = ({ value }: { value: unknown }) =>
  value === 'true' ? true : value === 'false' ? false : value;

/**
 * Decoding options, as query parameters or multipart form fields, with Hugging Face `generate`
 * names and meanings. Unset options take the defaults below; unknown ones are refused.
 */
export class CaptionOptionsDto {
  @ApiPropertyOptional({
    minimum: 1,
    maximum: 64,
    default: 15,
    description: "Most tokens to generate (the seed's max_length=16 is 15 new tokens).",
  })
  @IsOptional()
  @Transform(toNumber)
  @IsInt()
  @Min(1)
  @Max(64)
  max_new_tokens?: number;

  @ApiPropertyOptional({
    minimum: 0,
    maximum: 64,
    default: 0,
    description: 'Fewest tokens before end-of-text may be chosen.',
  })
  @IsOptional()
  @Transform(toNumber)
  @IsInt()
  @Min(0)
  @Max(64)
  min_new_tokens?: number;

  @ApiPropertyOptional({
    minimum: 1,
    maximum: 8,
    description: 'Beam width; 1 decodes greedily. Default: DEFAULT_NUM_BEAMS (4, as the seed).',
  })
  @IsOptional()
  @Transform(toNumber)
  @IsInt()
  @Min(1)
  @Max(8)
  num_beams?: number;

  @ApiPropertyOptional({
    default: 1,
    minimum: -5,
    maximum: 5,
    description: 'Beam scores are divided by length^length_penalty.',
  })
  @IsOptional()
  @Transform(toNumber)
  @IsNumber({ allowNaN: false, allowInfinity: false })
  @Min(-5)
  @Max(5)
  length_penalty?: number;

  @ApiPropertyOptional({
    enum: ['true', 'false', 'never'],
    default: 'false',
    description: 'Beam search stop rule, as in Hugging Face generate.',
  })
  @IsOptional()
  @Transform(toEarlyStopping)
  @ValidateIf((o: CaptionOptionsDto) => o.early_stopping !== 'never')
  @IsBoolean({ message: 'early_stopping must be true, false or never' })
  early_stopping?: boolean | 'never';

  @ApiPropertyOptional({
    minimum: 0,
    maximum: 8,
    default: 0,
    description: 'Forbid repeating any n-gram of this size (0: off).',
  })
  @IsOptional()
  @Transform(toNumber)
  @IsInt()
  @Min(0)
  @Max(8)
  no_repeat_ngram_size?: number;

  @ApiPropertyOptional({
    minimum: 0.5,
    maximum: 5,
    default: 1,
    description: 'Penalty for tokens already generated (1: off).',
  })
  @IsOptional()
  @Transform(toNumber)
  @IsNumber({ allowNaN: false, allowInfinity: false })
  @Min(0.5)
  @Max(5)
  repetition_penalty?: number;
}

export const CAPTION_OPTION_NAMES = [
  'max_new_tokens',
  'min_new_tokens',
  'num_beams',
  'length_penalty',
  'early_stopping',
  'no_repeat_ngram_size',
  'repetition_penalty',
] as const;
