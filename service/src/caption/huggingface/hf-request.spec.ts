import { problemOf } from '../../../test/support/problems';
import { parseHfJsonRequest } from './hf-request';

const IMAGE = Buffer.from([0xff, 0xd8, 0xff, 0xe0]);
const inputs = IMAGE.toString('base64');
const parse = (body: unknown) => parseHfJsonRequest(body, 1024);

describe('parseHfJsonRequest', () => {
  it('decodes inputs and flattens the generation parameters', () => {
    expect(
      parse({
        inputs: `data:image/jpeg;base64,${inputs}`,
        parameters: { max_new_tokens: 9, generation_parameters: { num_beams: 2 } },
      }),
    ).toEqual({ image: IMAGE, options: { max_new_tokens: 9, num_beams: 2 } });
    expect(parse({ inputs, parameters: { generate_kwargs: { early_stopping: true } } })).toEqual({
      image: IMAGE,
      options: { early_stopping: true },
    });
    expect(parse({ inputs })).toEqual({ image: IMAGE, options: {} });
  });

  it('passes names it does not know on, for the options pipe to name', () => {
    expect(parse({ inputs, parameters: { temperature: 0.7 } }).options).toEqual({
      temperature: 0.7,
    });
  });

  it('refuses a parameter given at two levels, whatever their order', () => {
    for (const parameters of [
      { max_new_tokens: 5, generation_parameters: { max_new_tokens: 6 } },
      { generation_parameters: { max_new_tokens: 6 }, max_new_tokens: 5 },
      { generation_parameters: { num_beams: 2 }, generate_kwargs: { num_beams: 2 } },
    ]) {
      const problem = problemOf(() => parse({ inputs, parameters }));
      expect(problem.code).toBe('validation_failed');
      expect(problem.extras.fields?.errors).toEqual([
        expect.objectContaining({ field: expect.stringMatching(/max_new_tokens|num_beams/) }),
      ]);
    }
  });

  it.each([
    ['a list', [inputs], 'validation_failed'],
    ['no inputs', { parameters: {} }, 'missing_image'],
    ['inputs that are not base64', { inputs: 'a cat!' }, 'validation_failed'],
    ['an unknown member', { inputs, options: { wait_for_model: true } }, 'validation_failed'],
    ['parameters that are not an object', { inputs, parameters: [1] }, 'validation_failed'],
    [
      'nested parameters that are not an object',
      { inputs, parameters: { generate_kwargs: 3 } },
      'validation_failed',
    ],
  ])('refuses %s', (_what, body, code) => {
    expect(problemOf(() => parse(body)).code).toBe(code);
  });
});
