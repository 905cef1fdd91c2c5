import { Inject, Injectable } from '@nestjs/common';
import sharp, { Sharp } from 'sharp';
import { APP_CONFIG, AppConfig } from '../../config/app-config';
import { ProblemError } from '../../common/problem/problem.error';
import { ACCEPTED_MEDIA_TYPES, AcceptedFormat, sniffImageFormat } from './image-format';

export interface ModelInput {
  /** width x height x 3 bytes, 8-bit sRGB, row-major. */
  rgb: Uint8Array;
  width: number;
  height: number;
  source: { format: AcceptedFormat; width: number; height: number };
}

// Decoded pixels are used once; libvips' operation cache would only hold on to memory.
sharp.cache(false);

/**
 * Turns uploaded bytes into the model's input pixels: type from magic bytes, size limits from
 * the header before any pixel is decoded, EXIF orientation applied, any colour model or depth
 * to 8-bit RGB (alpha dropped, as the reference `Image.convert("RGB")` does), and a resize that
 * reproduces PIL's bilinear filter, which the model was trained and evaluated with.
 */
@Injectable()
export class ImageIntakeService {
  constructor(@Inject(APP_CONFIG) private readonly config: AppConfig) {}

  /** A deterministic colour-gradient PNG: a real image for warming the model up at boot. */
  static async syntheticImage(width = 320, height = 240): Promise<Buffer> {
    const pixels = Buffer.alloc(width * height * 3);
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) {
        const i = (y * width + x) * 3;
        pixels[i] = (255 * x) / (width - 1);
        pixels[i + 1] = (255 * y) / (height - 1);
        pixels[i + 2] = 128 + 127 * Math.sin((x + y) / 20);
      }
    }
    return sharp(pixels, { raw: { width, height, channels: 3 } }).png().toBuffer();
  }

  async toModelInput(bytes: Buffer, size: { width: number; height: number }): Promise<ModelInput> {
    const sniffed = sniffImageFormat(bytes);
    if ('refused' in sniffed) {
      throw new ProblemError(
        'unsupported_media_type',
        `The upload looks like ${sniffed.refused}. Accepted: ${Object.values(ACCEPTED_MEDIA_TYPES).join(', ')}.`,
      );
    }
    const format = sniffed.accepted;
    const { maxInputPixels, decodeTimeoutMs } = this.config.image;
    const open = (input: Buffer) =>
      sharp(input, { failOn: 'truncated', limitInputPixels: maxInputPixels, sequentialRead: true, pages: 1 });

    const header = await open(bytes)
      .metadata()
      .catch((error: Error) => {
        throw invalid(format, error);
      });
    const width = header.autoOrient?.width ?? header.width;
    const height = header.autoOrient?.height ?? header.height;
    const pageHeight = header.pageHeight ?? header.height;
    if (!width || !height || !header.width || !pageHeight) {
      throw new ProblemError('invalid_image', `The ${format} header declares no image size.`);
    }
    const pixels = header.width * pageHeight;
    if (pixels > maxInputPixels) {
      throw new ProblemError(
        'image_too_large',
        `The image is ${header.width}x${pageHeight} = ${pixels.toLocaleString('en')} pixels; ` +
          `the limit (MAX_INPUT_PIXELS) is ${maxInputPixels.toLocaleString('en')}.`,
        { fields: { width: header.width, height: pageHeight, max_pixels: maxInputPixels } },
      );
    }

    const timeout = { seconds: Math.max(1, Math.ceil(decodeTimeoutMs / 1000)) };
    try {
      let pipeline = open(bytes).rotate();
      if (header.hasAlpha) {
        // sharp premultiplies alpha while resizing, which would darken what the reference keeps;
        // so drop alpha at full size first, then resize the plain RGB.
        const { data, info } = await pipeline
          .removeAlpha()
          .toColourspace('srgb')
          .raw({ depth: 'uchar' })
          .timeout(timeout)
          .toBuffer({ resolveWithObject: true });
        pipeline = sharp(data, { raw: { width: info.width, height: info.height, channels: info.channels } });
      }
      const { data, info } = await resizeLikePil(pipeline.toColourspace('srgb'), width, height, size)
        .removeAlpha()
        .raw({ depth: 'uchar' })
        .timeout(timeout)
        .toBuffer({ resolveWithObject: true });
      if (info.width !== size.width || info.height !== size.height || info.channels !== 3) {
        throw new Error(`resize produced ${info.width}x${info.height}x${info.channels}`);
      }
      return {
        rgb: new Uint8Array(data.buffer, data.byteOffset, data.length),
        width: info.width,
        height: info.height,
        source: { format, width, height },
      };
    } catch (error) {
      if (error instanceof ProblemError) throw error;
      throw invalid(format, error as Error);
    }
  }
}

/**
 * PIL's bilinear resize, per axis: shrinking widens the triangle filter by the scale factor
 * (libvips' reduce with the linear kernel does the same), enlarging interpolates between pixel
 * centres (sharp's resize aligns corners instead, off by half a pixel, so enlarging goes through
 * an affine transform with centre offsets).
 */
function resizeLikePil(
  pipeline: Sharp,
  width: number,
  height: number,
  target: { width: number; height: number },
): Sharp {
  const scaleX = target.width / width;
  const scaleY = target.height / height;
  const shrunk = { width: scaleX < 1 ? target.width : width, height: scaleY < 1 ? target.height : height };
  let out = pipeline;
  if (shrunk.width !== width || shrunk.height !== height) {
    out = out.resize(shrunk.width, shrunk.height, { fit: 'fill', kernel: 'linear' });
  }
  if (scaleX > 1 || scaleY > 1) {
    const ax = Math.max(scaleX, 1);
    const ay = Math.max(scaleY, 1);
    out = out.affine([[ax, 0], [0, ay]], {
      idx: ax > 1 ? 0.5 : 0,
      idy: ay > 1 ? 0.5 : 0,
      odx: ax > 1 ? -0.5 : 0,
      ody: ay > 1 ? -0.5 : 0,
      interpolator: sharp.interpolators.bilinear,
    });
  }
  return out;
}

function invalid(format: AcceptedFormat, error: Error): ProblemError {
  const message = error.message ?? String(error);
  if (/pixel limit/i.test(message)) {
    return new ProblemError('image_too_large', `The image has more pixels than MAX_INPUT_PIXELS allows.`);
  }
  if (/timeout/i.test(message)) {
    return new ProblemError('invalid_image', `Decoding the ${format} image took longer than IMAGE_DECODE_TIMEOUT_MS.`);
  }
  return new ProblemError('invalid_image', `The ${format} data cannot be decoded: ${firstLine(message)}`);
}

function firstLine(message: string): string {
  return message.split('\n')[0].slice(0, 200);
}
