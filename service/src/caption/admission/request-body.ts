import busboy from 'busboy';
import type { Request, Response } from 'express';
import { ProblemError } from '../../common/problem/problem.error';
import { payloadTooLarge } from '../../common/problem/problem.filter';
import { ClientClosedError } from '../scheduler/caption-scheduler.service';

/** How much of a body may arrive, how fast, and what else may end the read. */
export interface BodyBudget {
  maxBytes: number;
  /** The whole body must have arrived this many ms after reading starts (408 otherwise). */
  timeoutMs: number;
  /** The request's own signal (deadline, client gone, drain): its reason is the answer. */
  signal: AbortSignal;
}

/** The parts a multipart body may have. */
export interface MultipartShape {
  /** Names a file part may have; the first is named in messages. */
  fileFields: readonly string[];
  maxFiles: number;
  /** Most bytes of one file (the body's own limit, budget.maxBytes, may hold several). */
  maxFileBytes: number;
  /** The answer to a body with more than maxFiles files. */
  tooManyFiles(): ProblemError;
  maxFields: number;
  maxFieldBytes: number;
}

export interface MultipartBody {
  files: { field: string; bytes: Buffer }[];
  /**
   * Text fields by name: a string, or every value in order when the name is repeated (as
   * Express parses a repeated query parameter), so that the options pipe can refuse a repeat.
   */
  fields: Record<string, string | string[]>;
}

/** Where a body's bytes go while they arrive. */
interface BodySink<T> {
  write(chunk: Buffer): void;
  end(): void;
  readonly result: Promise<T>;
}

/** The whole raw body, in one buffer of its declared length when it has one. */
export function readRawBody(request: Request, response: Response, budget: BodyBudget) {
  const collector = new ByteCollector(declaredLength(request), budget.maxBytes);
  let finish!: (bytes: Buffer) => void;
  const result = new Promise<Buffer>((resolve) => (finish = resolve));
  return readBody(request, response, budget, {
    write: (chunk) => collector.push(chunk),
    end: () => finish(collector.bytes()),
    result,
  });
}

/** A multipart/form-data body parsed with busboy: its files (within maxBytes) and text fields. */
export function readMultipartBody(
  request: Request,
  response: Response,
  budget: BodyBudget,
  shape: MultipartShape,
): Promise<MultipartBody> {
  let parser: busboy.Busboy;
  try {
    parser = busboy({
      headers: request.headers,
      limits: {
        fileSize: shape.maxFileBytes,
        files: shape.maxFiles,
        fields: shape.maxFields,
        fieldSize: shape.maxFieldBytes,
        parts: shape.maxFiles + shape.maxFields,
      },
    });
  } catch (error) {
    // e.g. a multipart Content-Type without a boundary
    return Promise.reject(
      new ProblemError(
        'validation_failed',
        `The multipart body cannot be read: ${(error as Error).message}`,
      ),
    );
  }
  const body: MultipartBody = { files: [], fields: Object.create(null) as MultipartBody['fields'] };
  // One file: it is nearly the whole body, so its buffer is allocated once at the declared
  // length. Several: each part's size is unknown, and the declared length would be allocated
  // per file, so their chunks are joined at the end of each part.
  const expectedFileBytes = shape.maxFiles === 1 ? declaredLength(request) : undefined;
  const result = new Promise<MultipartBody>((resolve, reject) => {
    const refuse = (problem: ProblemError) => {
      reject(problem);
      parser.removeAllListeners('close');
    };
    parser.on('file', (field, stream) => {
      if (!shape.fileFields.includes(field)) {
        stream.resume();
        return refuse(
          new ProblemError(
            'missing_image',
            `Send the image in a multipart field named '${shape.fileFields[0]}' (got '${field}').`,
          ),
        );
      }
      const collector = new ByteCollector(expectedFileBytes, shape.maxFileBytes);
      stream.on('data', (chunk: Buffer) => collector.push(chunk));
      stream.on('limit', () => refuse(payloadTooLarge('A file', shape.maxFileBytes)));
      stream.on('end', () => body.files.push({ field, bytes: collector.bytes() }));
    });
    parser.on('field', (field, value, info) => {
      if (info.valueTruncated) {
        return refuse(
          new ProblemError(
            'validation_failed',
            `Multipart field '${field}' is longer than ${shape.maxFieldBytes} bytes.`,
          ),
        );
      }
      const before = body.fields[field];
      body.fields[field] =
        before === undefined ? value : [...(Array.isArray(before) ? before : [before]), value];
    });
    parser.on('filesLimit', () => refuse(shape.tooManyFiles()));
    const tooManyParts = () =>
      refuse(
        new ProblemError(
          'validation_failed',
          `Multipart bodies may have at most ${shape.maxFields} text fields.`,
        ),
      );
    parser.on('fieldsLimit', tooManyParts);
    parser.on('partsLimit', tooManyParts);
    parser.on('error', (error: Error) =>
      refuse(
        new ProblemError(
          'validation_failed',
          `The multipart body cannot be read: ${error.message}`,
        ),
      ),
    );
    parser.on('close', () => resolve(body));
  });
  return readBody(request, response, budget, {
    write: (chunk) => parser.write(chunk),
    end: () => parser.end(),
    result,
  });
}

/**
 * A JSON body, parsed. The raw bytes are dropped once they are text, so what the parse holds is
 * the text and its values (bodyLimitFor reserves for that).
 */
export async function readJsonBody(
  request: Request,
  response: Response,
  budget: BodyBudget,
): Promise<unknown> {
  const text = (await readRawBody(request, response, budget)).toString('utf8');
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    const message = (error as Error).message;
    throw new ProblemError('validation_failed', `The JSON body cannot be parsed: ${message}`, {
      fields: { errors: [{ field: 'body', message }] },
    });
  }
}

/**
 * Feeds a request's body to a sink until the sink has its result, within the budget: more than
 * maxBytes is 413, not all of it within timeoutMs is 408 (upload_timeout), a client that goes
 * away is 499, and the budget's signal ends the read with its own reason. A request that expects
 * `100 Continue` gets it only now, after admission, so a refused client never sends its body.
 * Whenever the read ends early, the connection is marked to close after the answer (what is
 * left of the body is never read).
 */
function readBody<T>(
  request: Request,
  response: Response,
  budget: BodyBudget,
  sink: BodySink<T>,
): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    let received = 0;
    let ended = false;
    const timer = setTimeout(
      () =>
        fail(
          new ProblemError(
            'upload_timeout',
            `The body did not arrive within BODY_TIMEOUT_MS (${budget.timeoutMs} ms); ${received} bytes came.`,
          ),
        ),
      budget.timeoutMs,
    );
    const onData = (chunk: Buffer) => {
      received += chunk.length;
      if (received > budget.maxBytes) return fail(payloadTooLarge('The body', budget.maxBytes));
      try {
        sink.write(chunk);
      } catch (error) {
        fail(error as Error);
      }
    };
    const onEnd = () => {
      ended = true;
      sink.end();
    };
    const onGone = () => {
      if (!ended) fail(new ClientClosedError());
    };
    const onAbort = () => fail(budget.signal.reason as Error);
    const cleanup = () => {
      clearTimeout(timer);
      request.off('data', onData);
      request.off('end', onEnd);
      request.off('aborted', onGone);
      request.off('close', onGone);
      budget.signal.removeEventListener('abort', onAbort);
    };
    let settled = false;
    function fail(error: Error): void {
      if (settled) return;
      settled = true;
      cleanup();
      if (!ended && !response.headersSent) response.setHeader('Connection', 'close');
      request.pause();
      reject(error);
    }
    sink.result.then(
      (value) => {
        if (settled) return;
        settled = true;
        cleanup();
        resolve(value);
      },
      (error: Error) => fail(error),
    );
    if (budget.signal.aborted) return onAbort();
    budget.signal.addEventListener('abort', onAbort, { once: true });
    request.on('data', onData);
    request.on('end', onEnd);
    request.on('aborted', onGone);
    request.on('close', onGone);
    if (/^100-continue$/i.test(request.headers.expect ?? '')) response.writeContinue();
  });
}

/**
 * Collects chunks into one buffer. With the body's declared length (the common case), the buffer
 * is allocated once at that size and chunks are copied in, so a body costs its size once, not
 * twice at the final concatenation; without it, chunks are kept and joined at the end.
 */
export class ByteCollector {
  private readonly whole?: Buffer;
  private filled = 0;
  private readonly overflow: Buffer[] = [];

  constructor(expected: number | undefined, max: number) {
    if (expected !== undefined && expected <= max) this.whole = Buffer.allocUnsafe(expected);
  }

  push(chunk: Buffer): void {
    if (
      this.whole &&
      this.overflow.length === 0 &&
      this.filled + chunk.length <= this.whole.length
    ) {
      chunk.copy(this.whole, this.filled);
      this.filled += chunk.length;
    } else {
      this.overflow.push(chunk);
    }
  }

  bytes(): Buffer {
    const head = this.whole ? this.whole.subarray(0, this.filled) : Buffer.alloc(0);
    return this.overflow.length === 0 ? head : Buffer.concat([head, ...this.overflow]);
  }
}

/** Content-Length, when the body has one (a chunked body has none). */
export function declaredLength(request: Request): number | undefined {
  const header = request.headers['content-length'];
  if (header === undefined || request.headers['transfer-encoding'] !== undefined) return undefined;
  const length = Number(header);
  return Number.isSafeInteger(length) && length >= 0 ? length : undefined;
}
