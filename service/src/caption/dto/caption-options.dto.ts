import { DecodingOption } from '../decoding-options/decoding-option.decorator';

/**
 * Decoding options as a request sends them (query parameters or multipart form fields), with
 * Hugging Face `generate` names. Ranges, defaults and meanings live in the decoding option
 * catalog; unknown options are refused. DecodingOptionsPipe turns this into DecodingOptions.
 */
export class CaptionOptionsDto {
  @DecodingOption('max_new_tokens') max_new_tokens?: number;
  @DecodingOption('min_new_tokens') min_new_tokens?: number;
  @DecodingOption('num_beams') num_beams?: number;
  @DecodingOption('length_penalty') length_penalty?: number;
  @DecodingOption('early_stopping') early_stopping?: boolean | 'never';
  @DecodingOption('no_repeat_ngram_size') no_repeat_ngram_size?: number;
  @DecodingOption('repetition_penalty') repetition_penalty?: number;
  @DecodingOption('num_return_sequences') num_return_sequences?: number;
}
