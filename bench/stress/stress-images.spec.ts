import { crc32 } from 'node:zlib';
import sharp from 'sharp';
import { distinctCopy } from './stress-images';

/** Chunk types of a PNG whose every CRC is right (decoders only warn on an ancillary one). */
function checkedChunks(png: Buffer): string[] {
  const types: string[] = [];
  for (let at = 8; at < png.length;) {
    const length = png.readUInt32BE(at);
    const typeAndData = png.subarray(at + 4, at + 8 + length);
    if (crc32(typeAndData) !== png.readUInt32BE(at + 8 + length)) throw new Error('bad CRC');
    types.push(typeAndData.toString('latin1', 0, 4));
    at += 12 + length;
  }
  return types;
}

async function pixels(image: Buffer): Promise<Buffer> {
  return sharp(image).raw().toBuffer();
}

describe('distinctCopy', () => {
  const raw = Buffer.from(Array.from({ length: 16 * 8 * 3 }, (_, i) => (i * 7) % 256));
  const source = { raw: { width: 16, height: 8, channels: 3 as const } };

  it.each([
    ['PNG', () => sharp(raw, source).png().toBuffer()],
    ['JPEG', () => sharp(raw, source).jpeg({ quality: 90 }).toBuffer()],
  ])('gives a %s with other bytes and the same decoded pixels', async (_kind, make) => {
    const original = await make();
    const a = distinctCopy(original, 'copy-a');
    const b = distinctCopy(original, 'copy-b');
    expect(a.equals(original)).toBe(false);
    expect(a.equals(b)).toBe(false);
    expect((await pixels(a)).equals(await pixels(original))).toBe(true);
    expect((await pixels(b)).equals(await pixels(original))).toBe(true);
    expect((await sharp(a).metadata()).width).toBe(16);
  });

  it('inserts a well-formed tEXt chunk right after IHDR', async () => {
    const copy = distinctCopy(await sharp(raw, source).png().toBuffer(), 'copy-a');
    expect(checkedChunks(copy).slice(0, 2)).toEqual(['IHDR', 'tEXt']);
    expect(copy.includes(Buffer.from('Comment\0copy-a', 'latin1'))).toBe(true);
  });
});
