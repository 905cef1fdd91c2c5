import { ApiProperty } from '@nestjs/swagger';
import { DEFAULTS } from '../../config/environment';
import {
  DECODING_OPTIONS,
  DecodingOptionName,
  DecodingOptionSpec,
} from '../decoding-options/decoding-option-catalog';

export class ModelInfoDto {
  @ApiProperty({
    example: 'Xenova/vit-gpt2-image-captioning',
    description:
      'What is served: the hub id for a pinned hub revision, else the name of the model folder.',
  })
  id: string;

  @ApiProperty({
    example: '0123456789abcdef0123456789abcdef01234567',
    description: 'Hub commit, or "local" for an unpinned folder.',
  })
  revision: string;

  @ApiProperty({ enum: ['fp32', 'q8'], example: 'q8' })
  dtype: string;
}

/** A decoding option as the response echoes it: the value used, default when not given. */
function UsedOption(name: DecodingOptionName): PropertyDecorator {
  const spec: DecodingOptionSpec = DECODING_OPTIONS[name];
  return spec.kind === 'early_stopping'
    ? ApiProperty({
        oneOf: [{ type: 'boolean' }, { type: 'string', enum: ['never'] }],
        example: spec.default,
      })
    : ApiProperty({
        type: spec.kind,
        example: typeof spec.default === 'number' ? spec.default : DEFAULTS[spec.default],
      });
}

/** The decoding options used, every one filled in (names as in the request). */
export class DecodingDto {
  @UsedOption('num_beams') num_beams: number;
  @UsedOption('max_new_tokens') max_new_tokens: number;
  @UsedOption('min_new_tokens') min_new_tokens: number;
  @UsedOption('length_penalty') length_penalty: number;
  @UsedOption('early_stopping') early_stopping: boolean | 'never';
  @UsedOption('no_repeat_ngram_size') no_repeat_ngram_size: number;
  @UsedOption('repetition_penalty') repetition_penalty: number;
  @UsedOption('num_return_sequences') num_return_sequences: number;
}

const CONFIDENCE = {
  type: 'number',
  minimum: 0,
  maximum: 1,
  description:
    "The model's own certainty of the caption: the exponential of the mean log-probability it " +
    'gave each generated token (end-of-text included), from its raw next-token distribution ' +
    'before penalties and bans; the per-token geometric mean of the caption likelihood.',
} as const;

/** One returned caption and its confidence. */
export class RankedCaptionDto {
  @ApiProperty({ example: 'a man riding a wave on top of a surfboard' })
  caption: string;

  @ApiProperty({ ...CONFIDENCE, example: 0.62 })
  confidence: number;
}

export class TimingsDto {
  @ApiProperty({ example: 12.5, description: 'Decoding and resizing the upload.' })
  image_decode: number;
  @ApiProperty({ example: 0.8, description: 'Waiting for the engine.' }) queue_wait: number;
  @ApiProperty({ example: 95.1, description: 'Vision encoder and cross-attention keys/values.' })
  encoder: number;
  @ApiProperty({ example: 140.2, description: 'Token-by-token decoding.' }) decoding: number;
  @ApiProperty({ example: 251.0 }) total: number;
}

export class CaptionResponseDto {
  @ApiProperty({
    example: 'a man riding a wave on top of a surfboard',
    description: 'The best caption (captions[0]).',
  })
  caption: string;

  @ApiProperty({ ...CONFIDENCE, example: 0.62, description: 'The confidence of the best caption.' })
  confidence: number;

  @ApiProperty({
    type: [RankedCaptionDto],
    description:
      'The num_return_sequences captions in rank order (beam score with length penalty, as ' +
      'Hugging Face generate ranks them), each with its confidence; the first is `caption`.',
  })
  captions: RankedCaptionDto[];

  @ApiProperty({ type: ModelInfoDto })
  model: ModelInfoDto;

  @ApiProperty({ type: DecodingDto })
  decoding: DecodingDto;

  @ApiProperty({
    type: 'integer',
    example: 11,
    description: 'Generated tokens of the best caption, end-of-text included when produced.',
  })
  tokens: number;

  @ApiProperty({ example: false, description: 'Answered from the response cache.' })
  cached: boolean;

  @ApiProperty({
    type: 'integer',
    example: 3,
    description: 'Images that shared the encoder batch.',
  })
  batch_images: number;

  @ApiProperty({
    type: TimingsDto,
    description:
      'Milliseconds per stage of this request; a cached answer ran none, only its total counts.',
  })
  timings_ms: TimingsDto;
}
