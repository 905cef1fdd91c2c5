import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { GOLDEN_DIR, PHOTOS } from '../../../test/support/fixtures';
import { ImageHeader, decodeMemoryBytes, readImageHeader } from './image-header';

const MB = 1e6;
const header = (overrides: Partial<ImageHeader>): ImageHeader => ({
  format: 'png',
  width: 7000,
  height: 7000,
  storedWidth: 7000,
  storedHeight: 7000,
  channels: 3,
  bytesPerSample: 1,
  hasAlpha: false,
  progressive: false,
  ...overrides,
});

describe('image header', () => {
  it('reads size, channels, depth and alpha without decoding', async () => {
    expect(await readImageHeader(readFileSync(join(PHOTOS, 'china.jpg')), 'jpeg')).toEqual({
      format: 'jpeg',
      width: 640,
      height: 427,
      storedWidth: 640,
      storedHeight: 427,
      channels: 3,
      bytesPerSample: 1,
      hasAlpha: false,
      progressive: false,
    });
    const rotated = await readImageHeader(
      readFileSync(join(GOLDEN_DIR, 'images', 'china-exif6.jpg')),
      'jpeg',
    );
    expect(rotated).toMatchObject({ width: 320, height: 213, storedWidth: 213, storedHeight: 320 });
    const grey16 = await readImageHeader(
      readFileSync(join(GOLDEN_DIR, 'images', 'china-grey16.png')),
      'png',
    );
    expect(grey16).toMatchObject({ channels: 1, bytesPerSample: 2 });
    const rgba = await readImageHeader(
      readFileSync(join(GOLDEN_DIR, 'images', 'china-rgba.png')),
      'png',
    );
    expect(rgba).toMatchObject({ channels: 4, hasAlpha: true });
  });

  describe('decode memory estimate (figures measured in the doc comment)', () => {
    it('is small for streaming decoders whatever the height', () => {
      expect(decodeMemoryBytes(header({ storedHeight: 7000 }))).toBeLessThan(40 * MB);
      expect(decodeMemoryBytes(header({ format: 'jpeg' }))).toBeLessThan(40 * MB);
      expect(decodeMemoryBytes(header({ format: 'tiff' }))).toBeLessThan(40 * MB);
    });

    it('counts rows of full width: a 1 x 49M line needs over a gigabyte', () => {
      const line = header({ width: 49e6, height: 1, storedWidth: 49e6, storedHeight: 1 });
      expect(decodeMemoryBytes(line)).toBeGreaterThan(1.26e9);
    });

    it('counts the whole frame for decoders that need it', () => {
      const interlaced16 = header({ channels: 4, bytesPerSample: 2, progressive: true });
      expect(decodeMemoryBytes(interlaced16)).toBeGreaterThan(392 * MB);
      expect(decodeMemoryBytes(header({ format: 'webp' }))).toBeGreaterThan(379 * MB);
      expect(
        decodeMemoryBytes(
          header({
            format: 'avif',
            width: 6000,
            height: 6000,
            storedWidth: 6000,
            storedHeight: 6000,
          }),
        ),
      ).toBeGreaterThan(625 * MB);
      expect(decodeMemoryBytes(header({ format: 'jpeg', progressive: true }))).toBeGreaterThan(
        decodeMemoryBytes(header({ format: 'jpeg' })) + 100 * MB,
      );
    });

    it('adds the 8-bit RGB frame an image with alpha keeps between its two passes', () => {
      const rgba = decodeMemoryBytes(header({ channels: 4, hasAlpha: true }));
      expect(rgba - decodeMemoryBytes(header({ channels: 4 }))).toBe(7000 * 7000 * 3);
    });
  });
});
