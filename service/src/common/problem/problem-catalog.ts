/**
 * Every error the API returns, with its HTTP status and a stable machine-readable code.
 * Bodies are RFC 9457 problem details; `type` is a URN naming the code, so clients can switch on
 * either. The README lists them all.
 */
export const PROBLEMS = {
  bad_request: { status: 400, title: 'The HTTP request is malformed' },
  validation_failed: { status: 400, title: 'The request options are invalid' },
  missing_image: { status: 400, title: 'The request carries no image' },
  unsupported_option: { status: 400, title: 'The option is not supported' },
  url_not_allowed: { status: 400, title: 'The image URL is not allowed' },
  too_many_files: { status: 400, title: 'The batch has too many files' },
  not_found: { status: 404, title: 'No such resource' },
  model_not_found: { status: 404, title: 'This service does not serve that model' },
  method_not_allowed: { status: 405, title: 'The method is not allowed on this resource' },
  upload_timeout: { status: 408, title: 'The request did not arrive in time' },
  payload_too_large: { status: 413, title: 'The upload is larger than allowed' },
  image_too_large: { status: 413, title: 'The image is larger than allowed' },
  unsupported_media_type: { status: 415, title: 'The image format is not supported' },
  expectation_failed: { status: 417, title: 'The Expect header cannot be met' },
  invalid_image: { status: 422, title: 'The image cannot be decoded' },
  url_fetch_failed: { status: 422, title: 'The image URL could not be fetched' },
  queue_full: { status: 429, title: 'Too many requests are waiting' },
  intake_full: { status: 429, title: 'Too many uploads are being received or decoded' },
  headers_too_large: { status: 431, title: 'The request headers are too large' },
  // nginx's convention for a client that left before its answer; nobody reads this response, but
  // logs and metrics show it instead of a 500.
  client_closed: { status: 499, title: 'The client closed the connection' },
  internal_error: { status: 500, title: 'Internal error' },
  // The inference worker running the caption stopped; it is replaced, the caption is not retried.
  engine_failed: { status: 500, title: 'The inference engine failed on this caption' },
  not_ready: { status: 503, title: 'The service is not ready' },
  draining: { status: 503, title: 'The service is shutting down' },
  request_timeout: { status: 504, title: 'The caption did not finish in time' },
} as const;

export type ProblemCode = keyof typeof PROBLEMS;

export const PROBLEM_CODES = Object.keys(PROBLEMS) as ProblemCode[];

export function problemType(code: ProblemCode): string {
  return `urn:caption-service:problem:${code}`;
}
