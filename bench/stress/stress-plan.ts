/** What the stress run sends: the burst, bombs, slow and stalled uploads, and when. */
import { QUICK } from '../settings';
import { StressKind, pngCopy } from './stress-images';
import { Upload, multipartBody } from './stress-client';

export const PLAN = QUICK
  ? { rgba16: 6, rgba8: 6, incompressible: 4, bombs: 2, slow: 1, short: 4, capSeconds: 90 }
  : { rgba16: 30, rgba8: 30, incompressible: 20, bombs: 8, slow: 4, short: 20, capSeconds: 330 };

/** Seconds between the small normal captions sent while the burst is in flight. */
export const SMALL_EVERY_SECONDS = 2;

/**
 * Everything sent at the burst's first instant. Uploads alternate between the two ways the API
 * takes a file (multipart field `file`, raw body), which buffer through different code.
 */
export function burstUploads(images: Record<StressKind, Buffer>, smallPng: Buffer): Upload[] {
  const uploads: Upload[] = [];
  const add = (group: string, kind: StressKind, count: number, pace: Upload['pace']) => {
    for (let i = 0; i < count; i++) {
      const png = pngCopy(images[kind], `${group}-${i}-${process.pid}`);
      const raw = i % 2 === 1;
      const { body, contentType } = raw
        ? { body: png, contentType: 'image/png' }
        : multipartBody(png, `${group}-${i}`);
      uploads.push({ group, body, contentType, pace });
    }
  };
  add('burst: RGBA 16-bit interlaced 7000x7000', 'rgba16-interlaced', PLAN.rgba16, 'whole');
  add('burst: RGBA 8-bit 7000x7000', 'rgba8', PLAN.rgba8, 'whole');
  add('burst: incompressible 18.8 MB', 'incompressible', PLAN.incompressible, 'whole');
  add('bomb: 1x49,000,000', 'bomb', PLAN.bombs, 'whole');
  add('upload stopping one byte short (18.8 MB)', 'incompressible', PLAN.short, 'one-byte-short');
  for (let i = 0; i < PLAN.slow; i++) {
    uploads.push({
      group: 'upload at 1 byte/s',
      body: pngCopy(smallPng, `slow-${i}-${process.pid}`),
      contentType: 'image/png',
      pace: 'one-byte-per-second',
    });
  }
  return uploads;
}
