import { problemOf } from '../../../test/support/problems';
import { decodeBase64Image } from './base64-image';

const BYTES = Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0x00, 0x10, 0xfb, 0xef]);

describe('decodeBase64Image', () => {
  it.each([
    ['base64', BYTES.toString('base64')],
    ['base64 without padding', BYTES.toString('base64').replace(/=+$/, '')],
    ['URL-safe base64', BYTES.toString('base64url')],
    ['a data URL', `data:image/jpeg;base64,${BYTES.toString('base64')}`],
    ['a data URL with parameters', `data:image/jpeg;name=a.jpg;base64,${BYTES.toString('base64')}`],
    ['MIME base64 with line breaks', BYTES.toString('base64').replace(/(.{4})/g, '$1\r\n')],
  ])('decodes %s', (_what, text) => {
    expect(decodeBase64Image(text, 'image', 1024)).toEqual(BYTES);
  });

  it.each([
    ['a number', 42, /must be a string/],
    ['text that is not base64', 'not base64!', /not valid base64/],
    ['a data URL without base64', 'data:image/png,%89PNG', /without ;base64 data/],
    ['a length no base64 can have', 'AAAAA', /not valid base64/],
  ])('refuses %s as validation_failed, naming the field', (_what, value, message) => {
    const problem = problemOf(() => decodeBase64Image(value, 'inputs', 1024));
    expect(problem.code).toBe('validation_failed');
    expect(problem.detail).toMatch(message);
    expect(problem.extras.fields?.errors).toEqual([
      { field: 'inputs', message: expect.stringMatching(message) },
    ]);
  });

  it('calls an empty string a missing image', () => {
    expect(problemOf(() => decodeBase64Image('', 'image', 1024)).code).toBe('missing_image');
  });

  it('refuses an image over the byte limit before decoding it', () => {
    const problem = problemOf(() =>
      decodeBase64Image(Buffer.alloc(2000).toString('base64'), 'image', 1024),
    );
    expect(problem.code).toBe('payload_too_large');
    expect(problem.detail).toBe('The image in image is larger than the limit of 1 KiB.');
    expect(decodeBase64Image(Buffer.alloc(1024).toString('base64'), 'image', 1024)).toHaveLength(
      1024,
    );
  });
});
