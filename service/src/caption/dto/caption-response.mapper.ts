import { CachedCaption } from '../cache/caption-cache.service';
import {
  DECODING_OPTIONS,
  DECODING_OPTION_NAMES,
} from '../decoding-options/decoding-option-catalog';
import { DecodingOptions } from '../engine/caption-engine';
import { LoadedModel } from '../model-status.service';
import { CaptionResponseDto, DecodingDto } from './caption-response.dto';

/** The answer to a caption request, from a fresh or a cached caption. */
export function toCaptionResponse(
  answer: CachedCaption,
  options: DecodingOptions,
  model: LoadedModel,
  cached: boolean,
): CaptionResponseDto {
  return {
    caption: answer.caption,
    confidence: answer.confidence,
    captions: answer.captions,
    model: { id: model.modelId, revision: model.revision, dtype: model.dtype },
    decoding: toDecodingDto(options),
    tokens: answer.tokens,
    cached,
    batch_images: answer.batchImages,
    timings_ms: answer.timings,
  };
}

/** The options used, under the names the request gives them (the catalog maps the two). */
export function toDecodingDto(options: DecodingOptions): DecodingDto {
  const used: Record<string, unknown> = {};
  for (const name of DECODING_OPTION_NAMES) used[name] = options[DECODING_OPTIONS[name].field];
  return used as unknown as DecodingDto;
}
