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
    return sharp(pixels, { raw: { width, height, channels: 3 } })
      .png()
      .toBuffer();
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
      sharp(input, {
        failOn: 'truncated',
        limitInputPixels: maxInputPixels,
        sequentialRead: true,
        pages: 1,
      });

    // The header is read without the pixel limit, so an oversized image gets its real size in the answer.
    const header = await sharp(bytes, { limitInputPixels: false, pages: 1 })
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
        pipeline = sharp(data, {
          raw: { width: info.width, height: info.height, channels: info.channels },
        });
      }
      const { data, info } = await resizeLikePil(
        pipeline.toColourspace('srgb'),
        width,
        height,
        size,
        timeout,
      );
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

interface RawImage {
  data: Buffer;
  info: { width: number; height: number; channels: number };
}

/**
 * PIL's bilinear resize, per axis. Shrinking widens the triangle filter by the scale factor,
 * which libvips' reduce with the linear kernel also does. Enlarging interpolates between pixel
 * centres with edge pixels repeated; sharp's resize aligns corners instead (half a pixel off)
 * and its affine transform fills outside the image with black, so enlarged axes are padded with
 * copies of their edge, transformed with centre offsets, and cropped.
 */
async function resizeLikePil(
  pipeline: Sharp,
  width: number,
  height: number,
  target: { width: number; height: number },
  timeout: { seconds: number },
): Promise<RawImage> {
  const enlargeX = target.width > width;
  const enlargeY = target.height > height;
  const shrunk = {
    width: enlargeX ? width : target.width,
    height: enlargeY ? height : target.height,
  };
  if (shrunk.width !== width || shrunk.height !== height) {
    pipeline = pipeline.resize(shrunk.width, shrunk.height, { fit: 'fill', kernel: 'linear' });
  }
  if (!enlargeX && !enlargeY) {
    return pipeline
      .removeAlpha()
      .raw({ depth: 'uchar' })
      .timeout(timeout)
      .toBuffer({ resolveWithObject: true });
  }
  const padX = enlargeX ? 1 : 0;
  const padY = enlargeY ? 1 : 0;
  const padded = await pipeline
    .removeAlpha()
    .extend({ left: padX, right: padX, top: padY, bottom: padY, extendWith: 'copy' })
    .raw({ depth: 'uchar' })
    .timeout(timeout)
    .toBuffer({ resolveWithObject: true });
  const ax = target.width / shrunk.width;
  const ay = target.height / shrunk.height;
  // Output pixel X samples input (X + 0.5) / a - 0.5, shifted by the padding.
  const enlarged = await sharp(padded.data, { raw: padded.info })
    .affine(
      [
        [ax, 0],
        [0, ay],
      ],
      {
        idx: 0.5 - padX,
        idy: 0.5 - padY,
        odx: -0.5,
        ody: -0.5,
        interpolator: sharp.interpolators.bilinear,
      },
    )
    .raw({ depth: 'uchar' })
    .toBuffer({ resolveWithObject: true });
  return {
    data: cropTopLeft(enlarged, target),
    info: { ...target, channels: enlarged.info.channels },
  };
}

function cropTopLeft(image: RawImage, size: { width: number; height: number }): Buffer {
  const { width, channels } = image.info;
  if (image.info.width < size.width || image.info.height < size.height) {
    throw new Error(
      `enlarged to ${image.info.width}x${image.info.height}, short of ${size.width}x${size.height}`,
    );
  }
  const out = Buffer.alloc(size.width * size.height * channels);
  for (let y = 0; y < size.height; y++) {
    image.data.copy(
      out,
      y * size.width * channels,
      y * width * channels,
      (y * width + size.width) * channels,
    );
  }
  return out;
}

function invalid(format: AcceptedFormat, error: Error): ProblemError {
  const message = error.message ?? String(error);
  if (/pixel limit/i.test(message)) {
    return new ProblemError(
      'image_too_large',
      `The image has more pixels than MAX_INPUT_PIXELS allows.`,
    );
  }
  if (/timeout/i.test(message)) {
    return new ProblemError(
      'invalid_image',
      `Decoding the ${format} image took longer than IMAGE_DECODE_TIMEOUT_MS.`,
    );
  }
  return new ProblemError(
    'invalid_image',
    `The ${format} data cannot be decoded: ${firstLine(message)}`,
  );
}

function firstLine(message: string): string {
  return message.split('\n')[0].slice(0, 200);
}
