/**
 * The stress uploads, generated with sharp into BENCH_DIR/stress (never committed): the issue's
 * legal-but-heavy PNGs and decode-time bombs. Each kind is encoded once; the copies sent in a
 * burst differ by a text chunk (same pixels, same decode cost, different bytes), so the
 * service's response cache cannot answer one from another.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import sharp from 'sharp';
import { log } from '../processes';

export type StressKind = 'rgba16-interlaced' | 'rgba8' | 'incompressible' | 'bomb';

export const STRESS_KINDS: Record<StressKind, { what: string; make: () => Promise<Buffer> }> = {
  // ~406 KB: 392 MB of 16-bit RGBA pixels once decoded.
  'rgba16-interlaced': {
    what: 'RGBA 16-bit interlaced 7000x7000 PNG',
    make: () =>
      sharp({ create: { width: 7000, height: 7000, channels: 4, background: fill(0.5) } })
        .toColourspace('rgb16')
        .png({ progressive: true, compressionLevel: 9, adaptiveFiltering: true })
        .toBuffer(),
  },
  // ~206 KB: 196 MB of 8-bit RGBA pixels.
  rgba8: {
    what: 'RGBA 8-bit 7000x7000 PNG',
    make: () =>
      sharp({ create: { width: 7000, height: 7000, channels: 4, background: fill(0.5) } })
        .png({ compressionLevel: 9 })
        .toBuffer(),
  },
  // ~18.8 MB of random pixels, stored uncompressed (random data does not deflate).
  incompressible: {
    what: 'incompressible 2500x2500 RGB PNG',
    make: () =>
      sharp(randomBytes(2500 * 2500 * 3), { raw: { width: 2500, height: 2500, channels: 3 } })
        .png({ compressionLevel: 0 })
        .toBuffer(),
  },
  // ~191 KB: one row of 49,000,000 RGBA pixels, under MAX_INPUT_PIXELS, slow to shrink.
  bomb: {
    what: '1x49,000,000 RGBA PNG (decode-time bomb)',
    make: () =>
      sharp({ create: { width: 49_000_000, height: 1, channels: 4, background: fill(0.5) } })
        .png({ compressionLevel: 9 })
        .toBuffer(),
  },
};

function fill(alpha: number) {
  return { r: 180, g: 120, b: 60, alpha };
}

/** The base file of each kind, made once and kept in `dir`. */
export async function stressImages(dir: string): Promise<Record<StressKind, Buffer>> {
  mkdirSync(dir, { recursive: true });
  const out = {} as Record<StressKind, Buffer>;
  for (const [kind, spec] of Object.entries(STRESS_KINDS) as [
    StressKind,
    (typeof STRESS_KINDS)[StressKind],
  ][]) {
    const path = join(dir, `${kind}.png`);
    if (!existsSync(path)) {
      log(`generating ${spec.what}`);
      writeFileSync(path, await spec.make());
    }
    out[kind] = readFileSync(path);
  }
  return out;
}

/** The same image with a comment naming the copy (PNG tEXt chunk, JPEG COM segment). */
export function distinctCopy(image: Buffer, label: string): Buffer {
  if (image[0] === 0xff && image[1] === 0xd8) {
    const text = Buffer.from(label, 'latin1');
    const segment = Buffer.alloc(4 + text.length);
    segment.writeUInt16BE(0xfffe, 0);
    segment.writeUInt16BE(2 + text.length, 2);
    text.copy(segment, 4);
    return Buffer.concat([image.subarray(0, 2), segment, image.subarray(2)]);
  }
  return pngCopy(image, label);
}

/** The same PNG with a tEXt chunk after IHDR naming the copy: different bytes, same image. */
export function pngCopy(png: Buffer, label: string): Buffer {
  const ihdrEnd = 8 + 8 + 13 + 4; // signature, IHDR length+type, IHDR data, CRC
  if (png.toString('latin1', 12, 16) !== 'IHDR') throw new Error('not a PNG');
  const data = Buffer.from(`Comment\0${label}`, 'latin1');
  const chunk = Buffer.alloc(12 + data.length);
  chunk.writeUInt32BE(data.length, 0);
  chunk.write('tEXt', 4, 'latin1');
  data.copy(chunk, 8);
  chunk.writeUInt32BE(crc32(chunk.subarray(4, 8 + data.length)), 8 + data.length);
  return Buffer.concat([png.subarray(0, ihdrEnd), chunk, png.subarray(ihdrEnd)]);
}
