import { ProblemError } from '../../common/problem/problem.error';
import { formatBytes } from '../../common/problem/problem.filter';

// Standard or URL-safe alphabet, padding optional; line breaks (MIME) are removed first.
const BASE64 = /^[A-Za-z0-9+/_-]*={0,2}$/;
const DATA_URL = /^data:([^,;]*)((?:;[^,;]*)*?);base64,/i;

/**
 * The image bytes of a JSON string member: base64, or a `data:` URL with base64 data (what
 * browsers' FileReader.readAsDataURL gives). Checked character by character first, since
 * Buffer.from(..., 'base64') silently skips what is not base64; the decoded size is bounded by
 * maxBytes before decoding, so a huge string costs no second copy.
 */
export function decodeBase64Image(value: unknown, field: string, maxBytes: number): Buffer {
  if (typeof value !== 'string') {
    throw invalid(field, `${field} must be a string: the image as base64 or a data: URL`);
  }
  const data = value.replace(DATA_URL, '').replace(/[\r\n]/g, '');
  if (value.startsWith('data:') && data === value.replace(/[\r\n]/g, '')) {
    throw invalid(field, `${field} is a data: URL without ;base64 data`);
  }
  if (data.length === 0) {
    throw new ProblemError('missing_image', `${field} is empty: send the image as base64.`);
  }
  if (!BASE64.test(data) || data.replace(/=+$/, '').length % 4 === 1) {
    throw invalid(field, `${field} is not valid base64`);
  }
  const decodedLength = Math.floor((data.replace(/=+$/, '').length * 3) / 4);
  if (decodedLength > maxBytes) {
    throw new ProblemError(
      'payload_too_large',
      `The image in ${field} is larger than the limit of ${formatBytes(maxBytes)}.`,
      { fields: { max_bytes: maxBytes } },
    );
  }
  return Buffer.from(data, data.includes('-') || data.includes('_') ? 'base64url' : 'base64');
}

function invalid(field: string, message: string): ProblemError {
  return new ProblemError('validation_failed', message, {
    fields: { errors: [{ field, message }] },
  });
}
