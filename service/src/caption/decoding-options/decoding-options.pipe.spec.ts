import { ProblemError } from '../../common/problem/problem.error';
import { AppConfig } from '../../config/app-config';
import {
  DECODING_OPTIONS,
  DECODING_OPTION_NAMES,
  DecodingOptionSpec,
} from './decoding-option-catalog';
import { DecodingOptionsPipe } from './decoding-options.pipe';

const pipe = (defaultNumBeams = 4) => new DecodingOptionsPipe({ defaultNumBeams } as AppConfig);

function problemOf(action: () => unknown): ProblemError {
  try {
    action();
  } catch (error) {
    expect(error).toBeInstanceOf(ProblemError);
    return error as ProblemError;
  }
  throw new Error('expected a problem');
}

describe('DecodingOptionsPipe', () => {
  it('fills every option with its catalog default, beams from DEFAULT_NUM_BEAMS', () => {
    expect(pipe(3).transform({})).toEqual({
      maxNewTokens: 15,
      minNewTokens: 0,
      numBeams: 3,
      lengthPenalty: 1,
      earlyStopping: false,
      noRepeatNgramSize: 0,
      repetitionPenalty: 1,
      numReturnSequences: 1,
    });
  });

  it('parses the text of every option into its field', () => {
    expect(
      pipe().transform({
        max_new_tokens: '20',
        min_new_tokens: '2',
        num_beams: '5',
        length_penalty: '-0.5',
        early_stopping: 'never',
        no_repeat_ngram_size: '3',
        repetition_penalty: '1.25',
        num_return_sequences: '3',
      }),
    ).toEqual({
      maxNewTokens: 20,
      minNewTokens: 2,
      numBeams: 5,
      lengthPenalty: -0.5,
      earlyStopping: 'never',
      noRepeatNgramSize: 3,
      repetitionPenalty: 1.25,
      numReturnSequences: 3,
    });
    expect(pipe().transform({ early_stopping: 'true' }).earlyStopping).toBe(true);
    expect(pipe().transform({ early_stopping: 'false' }).earlyStopping).toBe(false);
  });

  describe.each(DECODING_OPTION_NAMES)('%s', (name) => {
    const spec: DecodingOptionSpec = DECODING_OPTIONS[name];
    const beams = spec.beamSearchOnly ? { num_beams: '2' } : {};

    if (spec.kind === 'early_stopping') {
      it('refuses anything but true, false or never', () => {
        const problem = problemOf(() => pipe().transform({ ...beams, [name]: 'maybe' }));
        expect(problem.code).toBe('validation_failed');
        expect(problem.detail).toBe('early_stopping must be true, false or never');
      });
      return;
    }

    it(`accepts its bounds ${spec.minimum} and ${spec.maximum}`, () => {
      for (const value of [spec.minimum, spec.maximum]) {
        const raw = { ...beams, [name]: String(value) };
        if (name === 'min_new_tokens') Object.assign(raw, { max_new_tokens: '64' });
        if (name === 'num_return_sequences') Object.assign(raw, { num_beams: '8' });
        expect(pipe().transform(raw)[spec.field]).toBe(value);
      }
    });

    it.each([
      ['below its minimum', () => String(spec.minimum - 1), /must not be less than/],
      ['above its maximum', () => String(spec.maximum + 1), /must not be greater than/],
      ['not a number', () => 'lots', spec.kind === 'integer' ? /integer/ : /number/],
    ])('refuses a value %s', (_what, value, message) => {
      const problem = problemOf(() => pipe().transform({ ...beams, [name]: value() }));
      expect(problem.code).toBe('validation_failed');
      expect(problem.detail).toMatch(message);
      expect(problem.detail).toContain(name);
    });

    if (spec.kind === 'integer') {
      it('refuses a fraction', () => {
        expect(problemOf(() => pipe().transform({ [name]: '1.5' })).detail).toMatch(
          `${name} must be an integer`,
        );
      });
    }
  });

  it('refuses unknown options and lists every error', () => {
    const problem = problemOf(() => pipe().transform({ beams: '2', num_beams: '0' }));
    expect(problem.code).toBe('validation_failed');
    expect(problem.extras.fields?.errors).toEqual([
      'property beams should not exist',
      'num_beams must not be less than 1',
    ]);
  });

  it('refuses min_new_tokens above max_new_tokens', () => {
    const problem = problemOf(() => pipe().transform({ min_new_tokens: '9', max_new_tokens: '3' }));
    expect(problem.code).toBe('validation_failed');
    expect(problem.detail).toBe('min_new_tokens (9) must not exceed max_new_tokens (3)');
    // against the default maximum as well
    expect(problemOf(() => pipe().transform({ min_new_tokens: '16' })).detail).toContain('(15)');
  });

  it('refuses beam-search-only options with greedy decoding, naming them', () => {
    const both = problemOf(() =>
      pipe().transform({ num_beams: '1', length_penalty: '2', early_stopping: 'true' }),
    );
    expect(both.code).toBe('unsupported_option');
    expect(both.detail).toMatch(/^length_penalty and early_stopping only apply to beam search/);
    // greedy by default counts too
    expect(problemOf(() => pipe(1).transform({ length_penalty: '2' })).code).toBe(
      'unsupported_option',
    );
    expect(pipe().transform({ num_beams: '2', length_penalty: '2' }).lengthPenalty).toBe(2);
  });
});
