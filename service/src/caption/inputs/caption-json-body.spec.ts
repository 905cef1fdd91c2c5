import { problemOf } from '../../../test/support/problems';
import { parseCaptionJsonBody } from './caption-json-body';

const parse = (body: unknown) => parseCaptionJsonBody(body, 1024);

describe('parseCaptionJsonBody', () => {
  it('takes a URL and leaves the other members as options', () => {
    expect(parse({ url: 'https://example.org/cat.jpg', num_beams: 2 })).toEqual({
      source: { url: 'https://example.org/cat.jpg' },
      options: { num_beams: 2 },
    });
  });

  it('decodes an image given as base64', () => {
    expect(parse({ image: Buffer.from('abc').toString('base64') })).toEqual({
      source: { image: Buffer.from('abc') },
      options: {},
    });
  });

  it.each([
    ['an array', [], 'validation_failed'],
    ['a string', 'https://example.org', 'validation_failed'],
    ['null', null, 'validation_failed'],
    ['both url and image', { url: 'https://x.org/a', image: 'AAAA' }, 'validation_failed'],
    ['a URL that is not a string', { url: 7 }, 'validation_failed'],
    ['neither url nor image', { num_beams: 2 }, 'missing_image'],
  ])('refuses %s', (_what, body, code) => {
    expect(problemOf(() => parse(body)).code).toBe(code);
  });
});
