import { decodingOptions } from '../../../test/support/decoding-options';
import { toDecodingDto } from '../dto/caption-response.mapper';
import {
  DECODING_OPTIONS,
  DECODING_OPTION_NAMES,
  defaultDecodingOptions,
} from './decoding-option-catalog';

describe('decoding option catalog', () => {
  it('gives every option a default inside its range', () => {
    for (const name of DECODING_OPTION_NAMES) {
      const spec = DECODING_OPTIONS[name];
      if (spec.kind === 'early_stopping' || typeof spec.default !== 'number') continue;
      expect(spec.default).toBeGreaterThanOrEqual(spec.minimum);
      expect(spec.default).toBeLessThanOrEqual(spec.maximum);
    }
  });

  it('maps each option to its own field, both ways', () => {
    const fields = DECODING_OPTION_NAMES.map((name) => DECODING_OPTIONS[name].field);
    expect(new Set(fields).size).toBe(fields.length);
    const options = decodingOptions({ maxNewTokens: 7, numBeams: 2, earlyStopping: 'never' });
    expect(toDecodingDto(options)).toEqual({
      max_new_tokens: 7,
      min_new_tokens: 0,
      num_beams: 2,
      length_penalty: 1,
      early_stopping: 'never',
      no_repeat_ngram_size: 0,
      repetition_penalty: 1,
      num_return_sequences: 1,
    });
  });

  it("defaults to the seed's 15 new tokens and the given beams", () => {
    expect(defaultDecodingOptions(2)).toMatchObject({ maxNewTokens: 15, numBeams: 2 });
  });
});
