/**
 * Image type from the leading bytes, never from the file name or Content-Type. Done by hand, before
 * any decoder sees the bytes, because the image library would happily parse formats we refuse
 * (libvips reads SVG and PDF), and a signature table is simpler than another dependency.
 */
export type AcceptedFormat = 'jpeg' | 'png' | 'webp' | 'gif' | 'tiff' | 'avif';

export const ACCEPTED_MEDIA_TYPES: Record<AcceptedFormat, string> = {
  jpeg: 'image/jpeg',
  png: 'image/png',
  webp: 'image/webp',
  gif: 'image/gif',
  tiff: 'image/tiff',
  avif: 'image/avif',
};

export type SniffResult = { accepted: AcceptedFormat } | { refused: string };

const ascii = (bytes: Uint8Array, start: number, length: number) =>
  String.fromCharCode(...bytes.subarray(start, start + length));

const startsWith = (bytes: Uint8Array, signature: number[], offset = 0) =>
  bytes.length >= offset + signature.length && signature.every((b, i) => bytes[offset + i] === b);

export function sniffImageFormat(bytes: Uint8Array): SniffResult {
  if (startsWith(bytes, [0xff, 0xd8, 0xff])) return { accepted: 'jpeg' };
  if (startsWith(bytes, [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])) {
    return { accepted: 'png' };
  }
  if (ascii(bytes, 0, 6) === 'GIF87a' || ascii(bytes, 0, 6) === 'GIF89a') {
    return { accepted: 'gif' };
  }
  if (ascii(bytes, 0, 4) === 'RIFF' && ascii(bytes, 8, 4) === 'WEBP') return { accepted: 'webp' };
  if (startsWith(bytes, [0x49, 0x49, 0x2a, 0x00]) || startsWith(bytes, [0x4d, 0x4d, 0x00, 0x2a])) {
    return { accepted: 'tiff' };
  }
  if (startsWith(bytes, [0x49, 0x49, 0x2b, 0x00]) || startsWith(bytes, [0x4d, 0x4d, 0x00, 0x2b])) {
    return { accepted: 'tiff' }; // BigTIFF
  }
  if (ascii(bytes, 4, 4) === 'ftyp') {
    const brands = isoBrands(bytes);
    if (brands.includes('avif') || brands.includes('avis')) return { accepted: 'avif' };
    if (brands.some((b) => ['heic', 'heix', 'hevc', 'heim', 'heis', 'mif1', 'msf1'].includes(b))) {
      return { refused: 'image/heic' };
    }
    return { refused: 'video/mp4 or another ISO media file' };
  }
  if (ascii(bytes, 0, 5) === '%PDF-') return { refused: 'application/pdf' };
  if (ascii(bytes, 0, 2) === 'BM') return { refused: 'image/bmp' };
  if (startsWith(bytes, [0x00, 0x00, 0x01, 0x00])) return { refused: 'image/x-icon' };
  if (ascii(bytes, 0, 4) === '8BPS') return { refused: 'image/vnd.adobe.photoshop' };
  if (startsWith(bytes, [0xff, 0x0a]) || ascii(bytes, 4, 4) === 'JXL ') {
    return { refused: 'image/jxl' };
  }
  if (looksLikeXml(bytes)) return { refused: 'image/svg+xml or another XML document' };
  return { refused: 'an unknown format' };
}

/** Major and compatible brands of an ISO base media file's leading ftyp box. */
function isoBrands(bytes: Uint8Array): string[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const boxSize = bytes.length >= 4 ? view.getUint32(0) : 0;
  const end = Math.min(boxSize, bytes.length, 256);
  const brands = [ascii(bytes, 8, 4)];
  for (let at = 16; at + 4 <= end; at += 4) brands.push(ascii(bytes, at, 4));
  return brands;
}

function looksLikeXml(bytes: Uint8Array): boolean {
  const head = new TextDecoder('utf-8', { fatal: false })
    .decode(bytes.subarray(0, 1024))
    .replace(/^\uFEFF/, '');
  return /^\s*</.test(head) && /<(svg|\?xml|!DOCTYPE)/i.test(head);
}
