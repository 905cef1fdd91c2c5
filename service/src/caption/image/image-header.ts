import sharp from 'sharp';
import { AcceptedFormat } from './image-format';

/** What the intake decides from an image's header, before any pixel is decoded. */
export interface ImageHeader {
  format: AcceptedFormat;
  /** As displayed (EXIF orientation applied): what the resize works from. */
  width: number;
  height: number;
  /** As stored, one page: what MAX_INPUT_PIXELS counts. */
  storedWidth: number;
  storedHeight: number;
  channels: number;
  bytesPerSample: number;
  hasAlpha: boolean;
  /** Interlaced PNG, progressive JPEG: the decoder needs the whole frame before any row. */
  progressive: boolean;
}

const BYTES_PER_SAMPLE: Record<string, number> = {
  uchar: 1,
  char: 1,
  ushort: 2,
  short: 2,
  uint: 4,
  int: 4,
  float: 4,
  complex: 8,
  double: 8,
  dpcomplex: 16,
};

/** Reads the header only (no pixel limit, so an oversized image can be told its real size). */
export async function readImageHeader(
  bytes: Buffer,
  format: AcceptedFormat,
): Promise<ImageHeader | undefined> {
  const header = await sharp(bytes, { limitInputPixels: false, pages: 1 }).metadata();
  const storedHeight = header.pageHeight ?? header.height;
  if (!header.width || !storedHeight || !header.height) return undefined;
  return {
    format,
    width: header.autoOrient?.width ?? header.width,
    height: header.autoOrient?.height ?? storedHeight,
    storedWidth: header.width,
    storedHeight,
    channels: header.channels ?? 3,
    bytesPerSample: BYTES_PER_SAMPLE[header.depth ?? 'uchar'] ?? 8,
    hasAlpha: header.hasAlpha ?? false,
    progressive: header.isProgressive ?? false,
  };
}

/**
 * Rows of full width libvips holds in flight on a streaming decode (sequential read, one libvips
 * thread). Measured: a 1 x 49,000,000 RGB PNG (147 MB a row) peaked 1.26 GB above the idle
 * process, 8.5 rows; 10 leaves room.
 */
const ROWS_IN_FLIGHT = 10;

/** What every decode holds besides rows and frames (a 7000x7000 LZW TIFF: 27 MB). */
const DECODE_OVERHEAD_BYTES = 32 * 1024 * 1024;

/**
 * Bytes per pixel of decoders that need the whole frame before they hand out a row, measured
 * as peak RSS above an idle process over pixels: WebP 7.7 (7000x7000 lossy RGB: libwebp's YUV
 * planes plus its RGBA output), GIF 4.4 (5000x5000: an RGBA canvas), AVIF 17 (6000x6000, 8-bit:
 * libheif's planes and colour conversion). Interlaced PNG and progressive JPEG keep the frame at
 * their own sample size (PNG) or as 2-byte DCT coefficients (JPEG).
 */
function wholeFrameBytesPerPixel(header: ImageHeader): number {
  switch (header.format) {
    case 'webp':
      return 8;
    case 'gif':
      return 5;
    case 'avif':
      return 18;
    case 'jpeg':
      return header.progressive ? header.channels * 2 : 0;
    case 'png':
      return header.progressive ? header.channels * header.bytesPerSample : 0;
    case 'tiff':
      return 0;
  }
}

/**
 * The most memory decoding this image can take, from its header, for the decode gate: rows in
 * flight, the whole frame for decoders that need it, and for images with alpha the 8-bit RGB
 * frame the intake keeps between its two passes (see ImageIntakeService for why). Checked on
 * this machine (sharp 0.35.5, libvips 8.18, one libvips thread) against peak RSS above an idle
 * process: 7000x7000 16-bit RGBA interlaced PNG 515 MB (estimate 573), 7000x7000 RGBA PNG 151
 * (181), 1 x 49M PNG 1256 (1504), 8000x6000 progressive JPEG 134 (322), 7000x7000 WebP 379
 * (426), 6000x6000 AVIF 625 (682). The estimate errs high: the gate reserves it for the whole run.
 */
export function decodeMemoryBytes(header: ImageHeader): number {
  const pixels = header.storedWidth * header.storedHeight;
  const rows = header.storedWidth * header.channels * header.bytesPerSample * ROWS_IN_FLIGHT;
  const frame = pixels * wholeFrameBytesPerPixel(header);
  const alphaFrame = header.hasAlpha ? header.width * header.height * 3 : 0;
  return DECODE_OVERHEAD_BYTES + rows + frame + alphaFrame;
}
