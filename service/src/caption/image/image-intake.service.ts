import { Inject, Injectable, Optional } from '@nestjs/common';
import sharp, { Sharp } from 'sharp';
import { APP_CONFIG, AppConfig } from '../../config/app-config';
import { ProblemError } from '../../common/problem/problem.error';
import { CaptionMetrics } from '../../metrics/caption-metrics.service';
import { DecodeGate } from './decode-gate';
import { ACCEPTED_MEDIA_TYPES, AcceptedFormat, sniffImageFormat } from './image-format';
import { ImageHeader, decodeMemoryBytes, readImageHeader } from './image-header';
import { RawImage, Size, enlargeLikePil, shrinkLikePil } from './pil-resize';

export interface ModelInput {
  /** width x height x 3 bytes, 8-bit sRGB, row-major. */
  rgb: Uint8Array;
  width: number;
  height: number;
  source: { format: AcceptedFormat; width: number; height: number };
}

// Decoded pixels are used once; libvips' operation cache would only hold on to memory.
sharp.cache(false);
// One libvips thread per decode: the decode gate decides how many run at once (each on one libuv
// thread), so CPU use is DECODE_CONCURRENCY threads, not that times the CPU count. On one
// 7000x7000 PNG, two threads saved nothing (0.76 s vs 0.56-1.56 s, the engine idle).
sharp.concurrency(1);

const NEVER = new AbortController().signal;

/**
 * Turns uploaded bytes into the model's input pixels: type from magic bytes, size limits from
 * the header before any pixel is decoded, EXIF orientation applied, any colour model or depth
 * to 8-bit RGB (alpha dropped, as the reference `Image.convert("RGB")` does), and a resize that
 * reproduces PIL's bilinear filter, which the model was trained and evaluated with.
 *
 * Every decode passes the decode gate with its memory estimate: at most DECODE_CONCURRENCY run
 * at once within DECODE_MEMORY_BYTES, and one that could never fit is refused (413) at once.
 * libvips cannot be stopped from outside (sharp's only stop is its own coarse timeout), so a
 * request whose deadline passes or whose client leaves is answered at once and the decode runs
 * out holding its reservation.
 */
@Injectable()
export class ImageIntakeService {
  readonly gate: DecodeGate;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Optional() private readonly metrics?: CaptionMetrics,
  ) {
    this.gate = new DecodeGate(config.image.decodeConcurrency, config.image.decodeMemoryBytes);
  }

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

  /** `signal` aborts (deadline, client gone, shutdown) with the problem to answer. */
  async toModelInput(bytes: Buffer, size: Size, signal: AbortSignal = NEVER): Promise<ModelInput> {
    const header = await this.readHeader(bytes);
    const need = decodeMemoryBytes(header);
    if (need > this.gate.memoryBytes) {
      throw new ProblemError(
        'image_too_large',
        `Decoding this ${header.storedWidth}x${header.storedHeight} ${header.format} needs about ` +
          `${megabytes(need)} MB; the limit (DECODE_MEMORY_BYTES) is ${megabytes(this.gate.memoryBytes)} MB.`,
        { fields: { decode_bytes: need, max_decode_bytes: this.gate.memoryBytes } },
      );
    }
    const release = await this.gate.acquire(need, signal);
    this.publishGate();
    const decoding = this.decode(bytes, header, size).finally(() => {
      release();
      this.publishGate();
    });
    const rgb = await settleFirst(decoding, signal, this.config.image.decodeTimeoutMs, header);
    return {
      rgb: new Uint8Array(rgb.buffer, rgb.byteOffset, rgb.length),
      ...size,
      source: { format: header.format, width: header.width, height: header.height },
    };
  }

  private publishGate(): void {
    this.metrics?.decodeMemoryReserved(this.gate.stats.reservedBytes);
  }

  private async readHeader(bytes: Buffer): Promise<ImageHeader> {
    const sniffed = sniffImageFormat(bytes);
    if ('refused' in sniffed) {
      throw new ProblemError(
        'unsupported_media_type',
        `The upload looks like ${sniffed.refused}. Accepted: ${Object.values(ACCEPTED_MEDIA_TYPES).join(', ')}.`,
      );
    }
    const format = sniffed.accepted;
    const header = await readImageHeader(bytes, format).catch((error: Error) => {
      throw invalid(format, error);
    });
    if (!header) throw new ProblemError('invalid_image', `The ${format} header declares no size.`);
    const pixels = header.storedWidth * header.storedHeight;
    const { maxInputPixels } = this.config.image;
    if (pixels > maxInputPixels) {
      throw new ProblemError(
        'image_too_large',
        `The image is ${header.storedWidth}x${header.storedHeight} = ${pixels.toLocaleString('en')} pixels; ` +
          `the limit (MAX_INPUT_PIXELS) is ${maxInputPixels.toLocaleString('en')}.`,
        {
          fields: {
            width: header.storedWidth,
            height: header.storedHeight,
            max_pixels: maxInputPixels,
          },
        },
      );
    }
    return header;
  }

  /**
   * Without alpha, one libvips pipeline: decode, orient, shrink, convert to 8-bit sRGB. With
   * alpha, two: sharp premultiplies alpha before any resize and drops alpha only after it (its
   * order of operations is fixed), which on the fixture RGBA image put pixels up to 255/255 off
   * PIL (mean 9.5), since PIL drops alpha first. So alpha is dropped in a first pass that keeps
   * the decoded 8-bit RGB frame, the one full-size buffer the intake holds (counted in the
   * decode memory estimate, freed when the second pass ends).
   */
  private async decode(bytes: Buffer, header: ImageHeader, size: Size): Promise<Buffer> {
    const seconds = Math.max(1, Math.ceil(this.config.image.decodeTimeoutMs / 1000));
    const finish = (pipeline: Sharp) =>
      pipeline
        .toColourspace('srgb')
        .removeAlpha()
        .raw({ depth: 'uchar' })
        .timeout({ seconds })
        .toBuffer({ resolveWithObject: true }) as Promise<RawImage>;
    // Converting to sRGB first, as PIL's convert("RGB") does, also turns off sharp's JPEG
    // shrink-on-load (DCT-domain box averaging), which put a 4000x2669 photo max 52/255 (mean
    // 2.5) off PIL; with it off, max 7 (mean 0.51). fastShrinkOnLoad: false only halves it.
    const open = sharp(bytes, {
      failOn: 'truncated',
      limitInputPixels: this.config.image.maxInputPixels,
      sequentialRead: true,
      pages: 1,
    })
      .pipelineColourspace('srgb')
      .rotate();
    let shrunk: RawImage;
    try {
      if (header.hasAlpha) {
        const frame = await finish(open);
        shrunk = await finish(shrinkLikePil(sharp(frame.data, { raw: frame.info }), header, size));
      } else {
        shrunk = await finish(shrinkLikePil(open, header, size));
      }
    } catch (error) {
      throw invalid(header.format, error as Error);
    }
    const { data, info } = await enlargeLikePil(shrunk, size);
    if (info.width !== size.width || info.height !== size.height || info.channels !== 3) {
      throw new Error(`resize produced ${info.width}x${info.height}x${info.channels}`);
    }
    return data;
  }
}

/**
 * The decode's outcome, or the request's abort reason, or 422 past IMAGE_DECODE_TIMEOUT_MS,
 * whichever comes first. A decode that loses keeps running (and holding its gate reservation)
 * until libvips returns; its result is dropped.
 */
function settleFirst(
  decoding: Promise<Buffer>,
  signal: AbortSignal,
  timeoutMs: number,
  header: ImageHeader,
): Promise<Buffer> {
  return new Promise<Buffer>((resolve, reject) => {
    const timer = setTimeout(
      () =>
        done(
          new ProblemError(
            'invalid_image',
            `Decoding the ${header.format} image took longer than IMAGE_DECODE_TIMEOUT_MS (${timeoutMs} ms).`,
          ),
        ),
      timeoutMs,
    );
    const onAbort = () => done(signal.reason as Error);
    let settled = false;
    function done(error?: Error, rgb?: Buffer): void {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      signal.removeEventListener('abort', onAbort);
      if (error) reject(error);
      else resolve(rgb!);
    }
    if (signal.aborted) return onAbort();
    signal.addEventListener('abort', onAbort, { once: true });
    decoding.then(
      (rgb) => done(undefined, rgb),
      (error: Error) => done(error),
    );
  });
}

function megabytes(bytes: number): number {
  return Math.ceil(bytes / 1e6);
}

function invalid(format: AcceptedFormat, error: Error): ProblemError {
  if (error instanceof ProblemError) return error;
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
