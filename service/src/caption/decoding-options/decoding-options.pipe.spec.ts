import { problemOf } from '../../../test/support/problems';
import { FieldError } from '../../common/problem/problem.error';
import { AppConfig } from '../../config/app-config';
import {
  DECODING_OPTIONS,
  DECODING_OPTION_NAMES,
  DecodingOptionSpec,
} from './decoding-option-catalog';
import { DecodingOptionsPipe, RawOptions } from './decoding-options.pipe';

const pipe = (defaultNumBeams = 4) => new DecodingOptionsPipe({ defaultNumBeams } as AppConfig);
/** Options as a query string gives them. */
const query = (values: Record<string, unknown>, beams = 4) =>
  pipe(beams).transform({ query: values });

const errorsOf = (raw: RawOptions) =>
  problemOf(() => pipe().transform(raw)).extras.fields?.errors as FieldError[] | undefined;

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
      query({
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
    expect(query({ early_stopping: 'true' }).earlyStopping).toBe(true);
    expect(query({ early_stopping: 'false' }).earlyStopping).toBe(false);
  });

  it('takes typed values from a JSON body', () => {
    expect(
      pipe().transform({
        body: { num_beams: 2, early_stopping: true, length_penalty: 0.5, max_new_tokens: 9 },
      }),
    ).toMatchObject({ numBeams: 2, earlyStopping: true, lengthPenalty: 0.5, maxNewTokens: 9 });
    expect(errorsOf({ body: { num_beams: '2x' } })).toEqual([
      { field: 'num_beams', message: 'num_beams must be an integer from 1 to 8 (got "2x")' },
    ]);
    expect(errorsOf({ body: { num_beams: 2.5 } })?.[0].field).toBe('num_beams');
    expect(errorsOf({ body: { early_stopping: 1 } })?.[0].field).toBe('early_stopping');
  });

  describe.each(DECODING_OPTION_NAMES)('%s', (name) => {
    const spec: DecodingOptionSpec = DECODING_OPTIONS[name];
    const beams = spec.beamSearchOnly ? { num_beams: '2' } : {};

    if (spec.kind === 'early_stopping') {
      it('refuses anything but true, false or never, with one message', () => {
        expect(errorsOf({ query: { ...beams, [name]: 'maybe' } })).toEqual([
          { field: name, message: 'early_stopping must be true, false or never (got "maybe")' },
        ]);
      });
      return;
    }

    it(`accepts its bounds ${spec.minimum} and ${spec.maximum}`, () => {
      for (const value of [spec.minimum, spec.maximum]) {
        const raw = { ...beams, [name]: String(value) };
        if (name === 'min_new_tokens') Object.assign(raw, { max_new_tokens: '64' });
        if (name === 'num_return_sequences') Object.assign(raw, { num_beams: '8' });
        expect(query(raw)[spec.field]).toBe(value);
      }
    });

    const kind = spec.kind === 'integer' ? 'an integer' : 'a number';
    const rule = `${name} must be ${kind} from ${spec.minimum} to ${spec.maximum}`;
    it.each([
      ['below its minimum', String(spec.minimum - 1)],
      ['above its maximum', String(spec.maximum + 1)],
      ['not a number', 'lots'],
      ['hexadecimal', '0x2'],
      ['in exponent notation', '1e0'],
      ['padded with spaces', ' 1 '],
      ['empty', ''],
      ['Infinity', 'Infinity'],
    ])('refuses a value %s with one message naming the range', (_what, value) => {
      const problem = problemOf(() => query({ ...beams, [name]: value }));
      expect(problem.code).toBe('validation_failed');
      expect(problem.extras.fields?.errors).toEqual([
        { field: name, message: `${rule} (got ${JSON.stringify(value)})` },
      ]);
      expect(problem.detail).toBe(`${rule} (got ${JSON.stringify(value)})`);
    });

    if (spec.kind === 'integer') {
      it('refuses a fraction', () => {
        expect(errorsOf({ query: { [name]: '1.5' } })?.[0].message).toContain(rule);
      });
    }
  });

  it('refuses unknown options, naming the accepted ones, and lists every error', () => {
    const problem = problemOf(() => query({ beams: '2', num_beams: '0' }));
    expect(problem.code).toBe('validation_failed');
    expect(problem.extras.fields?.errors).toEqual([
      {
        field: 'beams',
        message: `beams is not an option; the options are ${DECODING_OPTION_NAMES.join(', ')}`,
      },
      { field: 'num_beams', message: 'num_beams must be an integer from 1 to 8 (got "0")' },
    ]);
    expect(problem.detail).toContain('; num_beams must be');
  });

  it.each(['__proto__', 'constructor', 'toString', 'hasOwnProperty'])(
    'refuses %s, a name every object has',
    (name) => {
      const values = JSON.parse(`{"${name}": "1"}`) as Record<string, unknown>;
      expect(Object.keys(values)).toEqual([name]);
      expect(errorsOf({ query: values })?.map((e) => e.field)).toEqual([name]);
    },
  );

  it('refuses a value repeated or given in two places', () => {
    expect(errorsOf({ query: { num_beams: ['2', '3'] } })).toEqual([
      {
        field: 'num_beams',
        message: 'num_beams is given 2 times in the query string; give it once',
      },
    ]);
    expect(errorsOf({ query: { num_beams: '2' }, form: { num_beams: '2' } })).toEqual([
      {
        field: 'num_beams',
        message: 'num_beams is given in both the query string and the form; give it once',
      },
    ]);
    expect(errorsOf({ query: { max_new_tokens: '2' }, body: { max_new_tokens: 2 } })).toEqual([
      expect.objectContaining({ field: 'max_new_tokens' }),
    ]);
    expect(errorsOf({ query: { num_beams: { a: '1' } } })).toEqual([
      { field: 'num_beams', message: 'num_beams must be a single value, not an object' },
    ]);
  });

  it('refuses more returned sequences than beams', () => {
    expect(query({ num_beams: '4', num_return_sequences: '4' }).numReturnSequences).toBe(4);
    const problem = problemOf(() => query({ num_beams: '2', num_return_sequences: '3' }));
    expect(problem.code).toBe('validation_failed');
    expect(problem.extras.fields?.errors).toEqual([
      {
        field: 'num_return_sequences',
        message: 'num_return_sequences (3) must not exceed num_beams (2)',
      },
    ]);
    // greedy decoding has one caption
    expect(problemOf(() => query({ num_return_sequences: '2' }, 1)).detail).toBe(
      'num_return_sequences (2) must not exceed num_beams (1)',
    );
  });

  it('refuses min_new_tokens above max_new_tokens', () => {
    const problem = problemOf(() => query({ min_new_tokens: '9', max_new_tokens: '3' }));
    expect(problem.code).toBe('validation_failed');
    expect(problem.detail).toBe('min_new_tokens (9) must not exceed max_new_tokens (3)');
    // against the default maximum as well
    expect(problemOf(() => query({ min_new_tokens: '16' })).detail).toContain('(15)');
  });

  it('accepts beam-search-only options at their defaults with greedy decoding', () => {
    // What Swagger UI's "Try it out" sends, and what a 200 response echoes in `decoding`.
    expect(query({ num_beams: '1', length_penalty: '1', early_stopping: 'false' })).toMatchObject({
      numBeams: 1,
      lengthPenalty: 1,
      earlyStopping: false,
    });
    expect(query({ length_penalty: '1.0' }, 1).numBeams).toBe(1);
  });

  it('refuses beam-search-only options that would change something with greedy decoding', () => {
    const both = problemOf(() =>
      query({ num_beams: '1', length_penalty: '2', early_stopping: 'true' }),
    );
    expect(both.code).toBe('unsupported_option');
    expect(both.detail).toBe(
      'length_penalty=2 and early_stopping=true only apply to beam search, and num_beams is 1 ' +
        '(greedy decoding): set num_beams above 1, or leave them out.',
    );
    expect(both.extras.fields?.errors).toEqual([
      expect.objectContaining({ field: 'length_penalty' }),
      expect.objectContaining({ field: 'early_stopping' }),
    ]);
    const one = problemOf(() => query({ length_penalty: '2' }, 1));
    expect(one.code).toBe('unsupported_option');
    expect(one.detail).toMatch(/^length_penalty=2 only applies to beam search.*leave it out\.$/);
    expect(query({ num_beams: '2', length_penalty: '2' }).lengthPenalty).toBe(2);
  });
});
