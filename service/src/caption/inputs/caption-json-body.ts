import { ProblemError } from '../../common/problem/problem.error';
import { decodeBase64Image } from './base64-image';

/** Where a JSON caption request's image is: bytes it carries, or a URL to fetch. */
export type JsonImageSource = { image: Buffer } | { url: string };

export interface CaptionJsonBody {
  source: JsonImageSource;
  /** Every other member: decoding options, checked by DecodingOptionsPipe. */
  options: Record<string, unknown>;
}

/**
 * A JSON body of POST /caption: `{"url": "https://..."}` or `{"image": "<base64 or data URL>"}`,
 * exactly one of them, with decoding options as further members.
 */
export function parseCaptionJsonBody(body: unknown, maxBytes: number): CaptionJsonBody {
  if (!body || typeof body !== 'object' || Array.isArray(body)) {
    throw invalid('body', 'The JSON body must be an object with "url" or "image"');
  }
  const { url, image, ...options } = body as Record<string, unknown>;
  if (url !== undefined && image !== undefined) {
    throw invalid('url', 'Give either "url" or "image", not both');
  }
  if (url !== undefined) {
    if (typeof url !== 'string') throw invalid('url', 'url must be a string');
    return { source: { url }, options };
  }
  if (image !== undefined) {
    return { source: { image: decodeBase64Image(image, 'image', maxBytes) }, options };
  }
  throw new ProblemError(
    'missing_image',
    'The JSON body names no image: give "url" (an http or https URL) or "image" (base64).',
  );
}

function invalid(field: string, message: string): ProblemError {
  return new ProblemError('validation_failed', message, {
    fields: { errors: [{ field, message }] },
  });
}
