import type { Request } from 'express';
import { AppConfig } from '../../config/app-config';

/** The bodies a caption route takes: one image (raw, multipart or JSON), or a batch of files. */
export type CaptionRoute = 'single' | 'batch';

/** What admission allows a request's body, decided from its route and Content-Type. */
export interface BodyLimit {
  /** Most bytes the body may have, declared or read; more is 413. */
  maxBytes: number;
  /**
   * Bytes of UPLOAD_BUFFER_BYTES a body of `length` bytes holds at its peak (see JSON_MEMORY_FACTOR);
   * never more than UPLOAD_BUFFER_BYTES for a body within maxBytes, so an idle service admits it.
   */
  reserve(length: number): number;
}

/**
 * Boundaries, part headers and option fields of a multipart body, on top of its files: 1 KiB per
 * file part and 16 KiB for the fields (at most twice the option names, 64 bytes each), so that a
 * file of exactly MAX_UPLOAD_BYTES is not refused for its framing.
 */
export const MULTIPART_FIELDS_BYTES = 16 * 1024;
export const MULTIPART_PART_BYTES = 1024;

/** Options and the rest of a JSON body besides its base64 image. */
export const JSON_EXTRA_BYTES = 64 * 1024;

/**
 * A base64 JSON body holds, at its peak, the body bytes, their text, the parsed image string and
 * the decoded image: measured 100.1 MiB for a 26.7 MiB body carrying a 20 MiB image (3.75x, Node
 * 20, process.memoryUsage() around Buffer.toString, JSON.parse and Buffer.from(..., 'base64')).
 * Admission reserves 4x its length, so UPLOAD_BUFFER_BYTES bounds the memory as it does for raw
 * uploads, which are held once.
 */
export const JSON_MEMORY_FACTOR = 4;

/** The most JSON a caption request may send: a base64 image (4/3 of MAX_UPLOAD_BYTES) and options. */
export function maxJsonBytes(maxUploadBytes: number): number {
  return Math.ceil((maxUploadBytes * 4) / 3) + JSON_EXTRA_BYTES;
}

/** The body's media type, lowercased, without parameters ('' when none is given). */
function mediaType(request: Request): string {
  return (request.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase();
}

/** True for a JSON body (the URL or base64 inputs of /caption, the Hugging Face JSON request). */
export function isJsonBody(request: Request): boolean {
  return mediaType(request) === 'application/json';
}

function isMultipartBody(request: Request): boolean {
  return mediaType(request) === 'multipart/form-data';
}

/**
 * The body limit of a caption request, one rule per way an image enters:
 * - raw image bytes: MAX_UPLOAD_BYTES;
 * - multipart: MAX_UPLOAD_BYTES per file (MAX_BATCH_FILES files on the batch route, one
 *   elsewhere) plus the framing above;
 * - JSON: the base64 of MAX_UPLOAD_BYTES plus JSON_EXTRA_BYTES, reserved JSON_MEMORY_FACTOR times.
 * Every limit is capped so that its reservation fits UPLOAD_BUFFER_BYTES: a body that could never
 * be admitted is a 413 naming the limit, not a 429 its client would retry forever.
 */
export function bodyLimitFor(route: CaptionRoute, request: Request, config: AppConfig): BodyLimit {
  const { maxUploadBytes } = config.http;
  const { uploadBufferBytes } = config.intake;
  if (isJsonBody(request)) {
    return {
      maxBytes: Math.min(
        maxJsonBytes(maxUploadBytes),
        Math.floor(uploadBufferBytes / JSON_MEMORY_FACTOR),
      ),
      reserve: (length) => length * JSON_MEMORY_FACTOR,
    };
  }
  const files = route === 'batch' ? config.batch.maxFiles : 1;
  const multipart = isMultipartBody(request)
    ? MULTIPART_FIELDS_BYTES + files * MULTIPART_PART_BYTES
    : 0;
  return {
    maxBytes: Math.min(files * maxUploadBytes + multipart, uploadBufferBytes),
    reserve: (length) => length,
  };
}
