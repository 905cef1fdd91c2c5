import { randomUUID } from 'node:crypto';
import { IncomingMessage, STATUS_CODES, Server, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { PROBLEMS, ProblemCode, problemType } from '../problem/problem-catalog';
import { PROBLEM_CONTENT_TYPE } from '../problem/problem.filter';

export interface HttpServerLimits {
  headersTimeoutMs: number;
  bodyTimeoutMs: number;
}

/** Node's own errors on a connection, before or outside any route. */
const CLIENT_ERRORS: Record<string, { code: ProblemCode; detail: string }> = {
  ERR_HTTP_REQUEST_TIMEOUT: {
    code: 'upload_timeout',
    detail: 'The request headers (or body) did not arrive within HEADERS_TIMEOUT_MS.',
  },
  HPE_HEADER_OVERFLOW: {
    code: 'headers_too_large',
    detail: 'The request line and headers are larger than 16 KiB.',
  },
};

/**
 * Timeouts and Node-level errors of the HTTP server, answered as problem+json where Node lets
 * us: a request whose headers do not arrive within HEADERS_TIMEOUT_MS gets 408, oversized
 * headers 431, an unparsable request 400, an Expect other than 100-continue 417. Node's
 * requestTimeout is a backstop above the body timeout the upload reader enforces itself (408
 * with the request's id, through the problem filter). What cannot be answered: a connection
 * whose response has already started, or that the client already closed (it is just closed).
 * `Expect: 100-continue` is answered by the upload reader once the request is admitted, so a
 * refused client never sends its body.
 */
export function configureHttpServer(
  server: Server,
  limits: HttpServerLimits,
  log: (message: string) => void,
): void {
  server.headersTimeout = limits.headersTimeoutMs;
  server.requestTimeout = limits.headersTimeoutMs + limits.bodyTimeoutMs + 5_000;
  // Node checks both timeouts on this interval (default 30 s, so a 10 s timeout could take 40);
  // it is read when the server starts listening.
  (server as Server & { connectionsCheckingInterval: number }).connectionsCheckingInterval =
    Math.min(1000, limits.headersTimeoutMs / 4);
  server.on('clientError', (error: NodeJS.ErrnoException, socket: Socket) => {
    const known = error.code ? CLIENT_ERRORS[error.code] : undefined;
    const parseError = error.code?.startsWith('HPE_') === true;
    const inFlight = (socket as Socket & { _httpMessage?: ServerResponse })._httpMessage;
    if (!socket.writable || inFlight?.headersSent || (!known && !parseError)) {
      socket.destroy();
      return;
    }
    const problem = known ?? {
      code: 'bad_request',
      detail: `The request cannot be parsed (${error.code}).`,
    };
    log(`${problem.code} from ${socket.remoteAddress ?? 'a client'}: ${error.code}`);
    socket.end(rawProblemResponse(problem.code, problem.detail));
  });
  server.on('checkContinue', (request: IncomingMessage, response: ServerResponse) =>
    server.emit('request', request, response),
  );
  server.on('checkExpectation', (_request: IncomingMessage, response: ServerResponse) => {
    const body = problemBody('expectation_failed', 'Only Expect: 100-continue is supported.');
    response.writeHead(417, {
      'Content-Type': PROBLEM_CONTENT_TYPE,
      'Content-Length': Buffer.byteLength(body),
      Connection: 'close',
    });
    response.end(body);
  });
}

function problemBody(code: ProblemCode, detail: string, requestId = randomUUID()): string {
  const { status, title } = PROBLEMS[code];
  return JSON.stringify({
    type: problemType(code),
    title,
    status,
    detail,
    code,
    request_id: requestId,
  });
}

/** A whole HTTP/1.1 response for a connection Node has no response object for. */
function rawProblemResponse(code: ProblemCode, detail: string): string {
  const requestId = randomUUID();
  const body = problemBody(code, detail, requestId);
  return (
    `HTTP/1.1 ${PROBLEMS[code].status} ${STATUS_CODES[PROBLEMS[code].status]}\r\n` +
    `Content-Type: ${PROBLEM_CONTENT_TYPE}\r\n` +
    `Content-Length: ${Buffer.byteLength(body)}\r\n` +
    `X-Request-Id: ${requestId}\r\n` +
    'Connection: close\r\n\r\n' +
    body
  );
}
