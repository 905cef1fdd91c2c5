import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp, { Sharp } from 'sharp';
import { GOLDEN_DIR, PHOTOS } from '../../../test/support/fixtures';
import { pngDeclaring } from '../../../test/support/images';
import { problemOfRejection } from '../../../test/support/problems';
import { AppConfig } from '../../config/app-config';
import { ProblemError } from '../../common/problem/problem.error';
import { ImageIntakeService } from './image-intake.service';

const SIZE = { width: 224, height: 224 };
const IMAGE_LIMITS = {
  maxInputPixels: 50_000_000,
  decodeTimeoutMs: 10_000,
  decodeConcurrency: 1,
  decodeMemoryBytes: 512 * 1024 * 1024,
};
const intakeWith = (limits: Partial<AppConfig['image']> = {}) =>
  new ImageIntakeService({ image: { ...IMAGE_LIMITS, ...limits } } as AppConfig);
const intake = intakeWith();

/** Stated tolerance against the reference (PIL) preprocessing, in 8-bit levels. */
const MAX_ABS_DIFF = 8;
const MAX_MEAN_DIFF = 0.5;

const solid = (r: number, g: number, b: number, width = 64, height = 48) =>
  sharp({ create: { width, height, channels: 3, background: { r, g, b } } })
    .png()
    .toBuffer();

const rawPixels = (path: string) => sharp(path).removeAlpha().raw().toBuffer();
const referencePixels = (name: string) =>
  rawPixels(join(GOLDEN_DIR, 'reference-224', `${name}.png`));

function expectNearReference(rgb: Uint8Array, reference: Buffer): void {
  expect(rgb.length).toBe(reference.length);
  let max = 0;
  let sum = 0;
  for (let i = 0; i < reference.length; i++) {
    const d = Math.abs(reference[i] - rgb[i]);
    max = Math.max(max, d);
    sum += d;
  }
  expect(max).toBeLessThanOrEqual(MAX_ABS_DIFF);
  expect(sum / reference.length).toBeLessThanOrEqual(MAX_MEAN_DIFF);
}

function meanColour(rgb: Uint8Array): [number, number, number] {
  const sum = [0, 0, 0];
  for (let i = 0; i < rgb.length; i++) sum[i % 3] += rgb[i];
  const n = rgb.length / 3;
  return [sum[0] / n, sum[1] / n, sum[2] / n];
}

describe('ImageIntakeService', () => {
  describe('matches the reference preprocessing (PIL bilinear, EXIF applied, RGB)', () => {
    const sources: Record<string, string> = {
      china: join(PHOTOS, 'china.jpg'),
      flower: join(PHOTOS, 'flower.jpg'),
      'china-exif6': join(GOLDEN_DIR, 'images', 'china-exif6.jpg'),
      'china-grey': join(GOLDEN_DIR, 'images', 'china-grey.png'),
      'china-grey16': join(GOLDEN_DIR, 'images', 'china-grey16.png'),
      'china-palette': join(GOLDEN_DIR, 'images', 'china-palette.png'),
      'china-rgba': join(GOLDEN_DIR, 'images', 'china-rgba.png'),
    };
    it.each(Object.keys(sources))(
      `%s is within ${MAX_ABS_DIFF}/255 (mean ${MAX_MEAN_DIFF}/255)`,
      async (name) => {
        const input = await intake.toModelInput(readFileSync(sources[name]), SIZE);
        expectNearReference(input.rgb, await referencePixels(name));
      },
    );

    describe('for a large image (2000x1335: shrink-on-load and pre-shrink territory)', () => {
      const large = readFileSync(join(PHOTOS, 'large', 'china-2000.jpg'));
      const reference = () => rawPixels(join(PHOTOS, 'large', 'china-2000.pil-224.png'));

      it('as a JPEG', async () => {
        expectNearReference((await intake.toModelInput(large, SIZE)).rgb, await reference());
      });

      it('with an alpha channel (which PIL drops before resizing)', async () => {
        // The JPEG's own pixels (sharp decodes them exactly as PIL does) with a ramp of alpha.
        const { data, info } = await sharp(large).raw().toBuffer({ resolveWithObject: true });
        const alpha = Buffer.alloc(info.width * info.height);
        for (let i = 0; i < alpha.length; i++) alpha[i] = i % info.width < 150 ? 0 : i % 256;
        const rgba = await sharp(data, { raw: info })
          .joinChannel(alpha, { raw: { width: info.width, height: info.height, channels: 1 } })
          .png({ compressionLevel: 1 })
          .toBuffer();
        expectNearReference((await intake.toModelInput(rgba, SIZE)).rgb, await reference());
      });
    });
  });

  it('reports the source format and its displayed (EXIF-rotated) size', async () => {
    const input = await intake.toModelInput(
      readFileSync(join(GOLDEN_DIR, 'images', 'china-exif6.jpg')),
      SIZE,
    );
    expect(input.source).toEqual({ format: 'jpeg', width: 320, height: 213 });
  });

  it.each([
    ['webp', (s: Sharp) => s.webp()],
    ['avif', (s: Sharp) => s.avif()],
    ['tiff', (s: Sharp) => s.tiff()],
    ['gif', (s: Sharp) => s.gif()],
    ['cmyk jpeg', (s: Sharp) => s.toColourspace('cmyk').jpeg()],
    ['16-bit rgb png', (s: Sharp) => s.toColourspace('rgb16').png()],
  ])('turns %s into 8-bit RGB at the model size', async (_label, encode) => {
    const bytes = await encode(sharp(await solid(200, 40, 40))).toBuffer();
    const input = await intake.toModelInput(bytes, SIZE);
    expect(input.width).toBe(224);
    expect(input.height).toBe(224);
    const [r, g, b] = meanColour(input.rgb);
    // palette/lossy formats move colours a little; the hue must survive
    expect(r).toBeGreaterThan(150);
    expect(g).toBeLessThan(90);
    expect(b).toBeLessThan(90);
  });

  it.each(['gif', 'tiff'])('takes the first frame of a multi-frame %s', async (format) => {
    const frames = [await solid(255, 0, 0), await solid(0, 0, 255)];
    const joined = sharp(frames, { join: { animated: true } });
    const bytes = await (format === 'gif' ? joined.gif() : joined.tiff()).toBuffer();
    const [r, , b] = meanColour((await intake.toModelInput(bytes, SIZE)).rgb);
    expect(r).toBeGreaterThan(200);
    expect(b).toBeLessThan(60);
  });

  it('refuses SVG and PDF before any decoder sees them (415)', async () => {
    const svg = Buffer.from('<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"/>');
    expect((await problemOfRejection(intake.toModelInput(svg, SIZE))).code).toBe(
      'unsupported_media_type',
    );
    const pdf = Buffer.from('%PDF-1.4\n1 0 obj<<>>endobj\n');
    expect((await problemOfRejection(intake.toModelInput(pdf, SIZE))).code).toBe(
      'unsupported_media_type',
    );
  });

  it('refuses an image over MAX_INPUT_PIXELS from its header, without decoding it (413)', async () => {
    const bomb = pngDeclaring(30000, 30000);
    expect(bomb.length).toBeLessThan(1_100_000);
    const before = process.memoryUsage().rss;
    const started = performance.now();
    const problem = await problemOfRejection(intake.toModelInput(bomb, SIZE));
    expect(problem.code).toBe('image_too_large');
    expect(problem.detail).toContain('30000x30000');
    // 2.7 GB of pixels were never allocated.
    expect(process.memoryUsage().rss - before).toBeLessThan(200 * 1024 * 1024);
    expect(performance.now() - started).toBeLessThan(2000);
  });

  it('honours a lower MAX_INPUT_PIXELS', async () => {
    const strict = intakeWith({ maxInputPixels: 100 * 100 });
    const problem = await problemOfRejection(
      strict.toModelInput(await solid(1, 2, 3, 101, 100), SIZE),
    );
    expect(problem.code).toBe('image_too_large');
    await expect(strict.toModelInput(await solid(1, 2, 3, 100, 100), SIZE)).resolves.toBeDefined();
  });

  it('refuses a truncated JPEG (422)', async () => {
    const whole = readFileSync(join(PHOTOS, 'china.jpg'));
    const problem = await problemOfRejection(
      intake.toModelInput(whole.subarray(0, whole.length / 2), SIZE),
    );
    expect(problem.code).toBe('invalid_image');
  });

  it('refuses bytes that only start like an image (422)', async () => {
    const fake = Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0]), Buffer.alloc(2000, 7)]);
    expect((await problemOfRejection(intake.toModelInput(fake, SIZE))).code).toBe('invalid_image');
    const png = Buffer.concat([
      Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
      Buffer.alloc(100, 1),
    ]);
    expect((await problemOfRejection(intake.toModelInput(png, SIZE))).code).toBe('invalid_image');
  });

  it('enlarges small images like PIL (pixel centres aligned)', async () => {
    // A 2x1 image, black then white: PIL's bilinear gives a ramp symmetric about the centre.
    const tiny = await sharp(Buffer.from([0, 0, 0, 255, 255, 255]), {
      raw: { width: 2, height: 1, channels: 3 },
    })
      .png()
      .toBuffer();
    const input = await intake.toModelInput(tiny, { width: 8, height: 1 });
    const reds = Array.from({ length: 8 }, (_, x) => input.rgb[x * 3]);
    expect(reds).toEqual([0, 0, 32, 96, 159, 223, 255, 255]);
  });

  it('produces a synthetic warm-up image it can read', async () => {
    const input = await intake.toModelInput(await ImageIntakeService.syntheticImage(), SIZE);
    expect(input.source).toEqual({ format: 'png', width: 320, height: 240 });
  });

  describe('bounds', () => {
    it('refuses (413) an image whose decode would need more than DECODE_MEMORY_BYTES', async () => {
      // 3000x3000 RGBA: 27 MB of 8-bit RGB kept between the passes, plus rows and overhead.
      const rgba = await sharp({
        create: { width: 3000, height: 3000, channels: 4, background: '#80808080' },
      })
        .png()
        .toBuffer();
      const tight = intakeWith({ decodeMemoryBytes: 48 * 1024 * 1024 });
      const problem = await problemOfRejection(tight.toModelInput(rgba, SIZE));
      expect(problem.code).toBe('image_too_large');
      expect(problem.detail).toMatch(/needs about \d+ MB; the limit \(DECODE_MEMORY_BYTES\)/);
      expect(tight.gate.stats).toEqual({ running: 0, waiting: 0, reservedBytes: 0 });
      // the same image without alpha streams, and fits
      await expect(
        tight.toModelInput(await sharp(rgba).removeAlpha().png().toBuffer(), SIZE),
      ).resolves.toBeDefined();
    });

    it("answers with the signal's reason at once, and frees the gate when libvips is done", async () => {
      const photo = readFileSync(join(PHOTOS, 'large', 'china-2000.jpg'));
      const gated = intakeWith();
      const client = new AbortController();
      const answer = gated.toModelInput(photo, SIZE, client.signal);
      await new Promise((r) => setTimeout(r, 5)); // header read, decode under way
      client.abort(new ProblemError('client_closed', 'gone'));
      expect((await problemOfRejection(answer)).code).toBe('client_closed');
      const deadline = Date.now() + 5000;
      while (gated.gate.stats.running > 0 && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 10));
      }
      expect(gated.gate.stats).toEqual({ running: 0, waiting: 0, reservedBytes: 0 });
    });

    it('answers 422 once IMAGE_DECODE_TIMEOUT_MS has passed', async () => {
      const photo = readFileSync(join(PHOTOS, 'large', 'china-2000.jpg'));
      const problem = await problemOfRejection(
        intakeWith({ decodeTimeoutMs: 1 }).toModelInput(photo, SIZE),
      );
      expect(problem.code).toBe('invalid_image');
      expect(problem.detail).toContain('IMAGE_DECODE_TIMEOUT_MS (1 ms)');
    });
  });
});
