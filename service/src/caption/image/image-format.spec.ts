import { sniffImageFormat } from './image-format';

const bytes = (...parts: (string | number[])[]) =>
  Buffer.concat(
    parts.map((p) => (typeof p === 'string' ? Buffer.from(p, 'latin1') : Buffer.from(p))),
  );

describe('sniffImageFormat', () => {
  it.each([
    ['jpeg', bytes([0xff, 0xd8, 0xff, 0xe0], 'JFIF')],
    ['png', bytes([0x89], 'PNG', [0x0d, 0x0a, 0x1a, 0x0a], 'IHDR')],
    ['gif', bytes('GIF89a', [1, 0, 1, 0])],
    ['gif', bytes('GIF87a', [1, 0, 1, 0])],
    ['webp', bytes('RIFF', [0x10, 0, 0, 0], 'WEBPVP8 ')],
    ['tiff', bytes('II', [0x2a, 0], [8, 0, 0, 0])],
    ['tiff', bytes('MM', [0, 0x2a], [0, 0, 0, 8])],
    ['avif', bytes([0, 0, 0, 0x1c], 'ftypavif', [0, 0, 0, 0], 'avifmif1miaf')],
    ['avif', bytes([0, 0, 0, 0x18], 'ftypmif1', [0, 0, 0, 0], 'avifmiaf')],
  ])('accepts %s by its signature', (format, data) => {
    expect(sniffImageFormat(data)).toEqual({ accepted: format });
  });

  it.each([
    ['image/svg+xml', bytes('<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"/>')],
    ['image/svg+xml', Buffer.from('\uFEFF  <svg width="1" height="1"></svg>', 'utf8')],
    ['application/pdf', bytes('%PDF-1.7\n')],
    ['image/heic', bytes([0, 0, 0, 0x18], 'ftypheic', [0, 0, 0, 0], 'mif1heic')],
    ['image/bmp', bytes('BM', [0, 0, 0, 0])],
    ['an unknown format', bytes('hello world')],
    ['an unknown format', bytes()],
  ])('refuses %s', (what, data) => {
    expect(sniffImageFormat(data)).toEqual({ refused: expect.stringContaining(what) });
  });

  it('ignores the claimed type: a PNG named .jpg is a PNG', () => {
    expect(sniffImageFormat(bytes([0x89], 'PNG', [0x0d, 0x0a, 0x1a, 0x0a]))).toEqual({
      accepted: 'png',
    });
  });
});
