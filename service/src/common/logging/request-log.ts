import type { IncomingMessage, ServerResponse } from 'node:http';

/** nginx's status for a client that closed the connection before its answer was sent. */
export const CLIENT_CLOSED_STATUS = 499;

const PROBE_ROUTES = /^\/(health\/|metrics)/;

/**
 * Load shedding and deadlines the service answers on purpose: a client that sees them did
 * nothing wrong and nothing broke, so they are logged without an error or a stack.
 */
const EXPECTED_REFUSALS = new Set([429, 503, 504, CLIENT_CLOSED_STATUS]);

/**
 * The status the client saw: the response's, once it was sent in full; 499 when the connection
 * closed first (the handler may still set another status afterwards, nobody receives it).
 */
export function statusSeen(response: ServerResponse): number {
  return response.writableFinished ? response.statusCode : CLIENT_CLOSED_STATUS;
}

export type RequestLogLevel = 'debug' | 'info' | 'warn' | 'error';

/**
 * Probes and scrapes at debug whatever they answer (a 503 from readiness during warm-up or
 * drain is the probe working); 429 and 499 at info, 503/504 at warn, other client errors at
 * warn, and only unexpected server errors at error.
 */
export function requestLogLevel(
  request: IncomingMessage,
  response: ServerResponse,
  error?: Error,
): RequestLogLevel {
  if (PROBE_ROUTES.test(request.url ?? '')) return 'debug';
  const status = statusSeen(response);
  if (status === 429 || status === CLIENT_CLOSED_STATUS) return 'info';
  if (EXPECTED_REFUSALS.has(status)) return 'warn';
  if (error || status >= 500) return 'error';
  return status >= 400 ? 'warn' : 'info';
}

/** Whether a failed request's log line should carry an error object (with its stack). */
export function isUnexpectedFailure(response: ServerResponse): boolean {
  return !EXPECTED_REFUSALS.has(statusSeen(response));
}
