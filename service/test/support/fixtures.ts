import { cpSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join, resolve } from 'node:path';
import sharp from 'sharp';

export const FIXTURES = resolve(__dirname, '..', 'fixtures');
export const TINY_MODEL = join(FIXTURES, 'models', 'vit-gpt2-tiny');
export const TINY_EOS_MODEL = join(FIXTURES, 'models', 'vit-gpt2-tiny-eos');
export const GOLDEN_DIR = join(FIXTURES, 'golden');
export const PHOTOS = join(FIXTURES, 'images');

export interface GoldenFile {
  images: string[];
  settings: Record<
    string,
    { options: Record<string, number | boolean | string>; ids: Record<string, number[]> }
  >;
}

export function readGolden(name: 'golden' | 'golden-eos'): GoldenFile {
  return JSON.parse(readFileSync(join(GOLDEN_DIR, `${name}.json`), 'utf8')) as GoldenFile;
}

/** The 224x224 RGB bytes the reference preprocessing fed the encoder for a golden image. */
export async function referencePixels(image: string): Promise<Uint8Array> {
  const { data, info } = await sharp(join(GOLDEN_DIR, 'reference-224', `${image}.png`))
    .removeAlpha()
    .raw()
    .toBuffer({ resolveWithObject: true });
  if (info.channels !== 3) throw new Error(`${image}: expected RGB`);
  return new Uint8Array(data.buffer, data.byteOffset, data.length);
}

/**
 * A private, writable copy of a fixture model's stock files (preparing writes optimized graphs
 * beside it). Graphs prepared earlier beside the fixture are left out, so a test that expects to
 * prepare does not find them already done.
 */
export function copyModel(source: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'caption-model-'));
  cpSync(source, dir, { recursive: true, filter: (path) => basename(path) !== 'optimized' });
  return dir;
}
