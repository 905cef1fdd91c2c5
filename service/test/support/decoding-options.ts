import { defaultDecodingOptions } from '../../src/caption/decoding-options/decoding-option-catalog';
import { DecodingOptions } from '../../src/caption/engine/caption-engine';
import { DEFAULTS } from '../../src/config/environment';

/**
 * Decoding options for a test: what a request that sets nothing gets (the catalog's defaults,
 * DEFAULT_NUM_BEAMS beams), with the fields the test cares about overridden.
 */
export function decodingOptions(overrides: Partial<DecodingOptions> = {}): DecodingOptions {
  return { ...defaultDecodingOptions(DEFAULTS.DEFAULT_NUM_BEAMS), ...overrides };
}

/**
 * The engine's options for a golden setting, written with Hugging Face `generate` names and
 * defaults (tools/golden/make_golden.py); `max_length` counts the decoder start token.
 */
export function fromGenerateKwargs(hf: Record<string, number | boolean | string>): DecodingOptions {
  const maxNew =
    typeof hf.max_new_tokens === 'number' ? hf.max_new_tokens : (hf.max_length as number) - 1;
  return {
    maxNewTokens: maxNew,
    minNewTokens: (hf.min_new_tokens as number) ?? 0,
    numBeams: (hf.num_beams as number) ?? 1,
    lengthPenalty: (hf.length_penalty as number) ?? 1,
    earlyStopping: (hf.early_stopping as boolean | 'never') ?? false,
    noRepeatNgramSize: (hf.no_repeat_ngram_size as number) ?? 0,
    repetitionPenalty: (hf.repetition_penalty as number) ?? 1,
    numReturnSequences: (hf.num_return_sequences as number) ?? 1,
  };
}
