import {
  ArgumentsHost,
  Catch,
  ExceptionFilter,
  HttpException,
  HttpStatus,
  Inject,
  Injectable,
  Logger,
  Optional,
} from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { Express, Request, Response } from 'express';
import { allowedMethods } from '../http/allowed-methods';
import { PROBLEMS, ProblemCode, problemType } from './problem-catalog';
import { ProblemError } from './problem.error';

export const PROBLEM_CONTENT_TYPE = 'application/problem+json';

export interface ProblemBody {
  type: string;
  title: string;
  status: number;
  detail: string;
  code: ProblemCode;
  request_id?: string;
  [extension: string]: unknown;
}

/** Told of every problem response (the metrics count them); provided as PROBLEM_LISTENER. */
export interface ProblemListener {
  onProblem(code: ProblemCode, request: Request): void;
}

export const PROBLEM_LISTENER = Symbol('PROBLEM_LISTENER');

const ERROR_MEMBER = Symbol('problem error member');

/**
 * Problems of this request also carry `error` (the detail again): Hugging Face clients read a
 * server's message from `error`, and would otherwise show only the status line.
 */
export function withErrorMember(request: object): void {
  (request as Record<symbol, boolean>)[ERROR_MEMBER] = true;
}

/**
 * Turns every error, from any module, into an RFC 9457 problem+json response with a stable
 * code. Unknown errors become a 500 whose detail hides internals; they are logged in full.
 */
@Catch()
@Injectable()
export class ProblemFilter implements ExceptionFilter {
  private readonly logger = new Logger('ProblemFilter');

  constructor(
    @Optional() @Inject(PROBLEM_LISTENER) private readonly listener?: ProblemListener,
    @Optional() private readonly adapterHost?: HttpAdapterHost,
  ) {}

  catch(exception: unknown, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    const request = http.getRequest<Request>();
    const response = http.getResponse<Response>();
    const problem = this.methodNotAllowed(toProblem(exception), request);
    if (problem.code === 'internal_error') {
      this.logger.error(exception instanceof Error ? exception.stack : String(exception));
    }
    this.listener?.onProblem(problem.code, request);
    if (response.headersSent) {
      response.end();
      return;
    }
    const body = problemBody(problem, request);
    for (const [name, value] of Object.entries(problem.headers ?? {})) {
      response.setHeader(name, value);
    }
    // res.json keeps the problem+json type set here.
    response.status(body.status).type(PROBLEM_CONTENT_TYPE).json(body);
  }

  /** A path that exists with other methods is a 405 with Allow (RFC 9110 15.5.6), not a 404. */
  private methodNotAllowed(problem: Problem, request: Request): Problem {
    const app = this.adapterHost?.httpAdapter?.getInstance<Express>();
    if (problem.code !== 'not_found' || !app) return problem;
    const allow = allowedMethods(app, request.path);
    if (allow.length === 0) return problem;
    return {
      code: 'method_not_allowed',
      detail: `${request.method} is not allowed on ${request.path}; use ${allow.join(' or ')}.`,
      headers: { Allow: allow.join(', ') },
    };
  }
}

/** The RFC 9457 body of a problem, as this request gets it. */
export function problemBody(problem: Problem, request: object): ProblemBody {
  const requestId = (request as { id?: unknown }).id;
  return {
    type: problemType(problem.code),
    title: PROBLEMS[problem.code].title,
    status: PROBLEMS[problem.code].status,
    detail: problem.detail,
    code: problem.code,
    ...(requestId !== undefined ? { request_id: String(requestId) } : {}),
    ...problem.fields,
    ...((request as Record<symbol, boolean>)[ERROR_MEMBER] ? { error: problem.detail } : {}),
  };
}

export interface Problem {
  code: ProblemCode;
  detail: string;
  headers?: Record<string, string>;
  fields?: Record<string, unknown>;
}

export function toProblem(exception: unknown): Problem {
  if (exception instanceof ProblemError) {
    return { code: exception.code, detail: exception.detail, ...exception.extras };
  }
  if (exception instanceof HttpException) return fromHttpException(exception);
  const bodyError = exception as { type?: string; status?: number; message?: string };
  if (bodyError?.type === 'entity.too.large') {
    const limit = (exception as { limit?: number }).limit;
    return limit === undefined
      ? { code: 'payload_too_large', detail: 'The request body is larger than allowed.' }
      : tooLarge('The request body', limit);
  }
  if (bodyError?.type === 'request.aborted') {
    return { code: 'validation_failed', detail: 'The request body ended early.' };
  }
  return { code: 'internal_error', detail: 'An unexpected error occurred; it has been logged.' };
}

function fromHttpException(exception: HttpException): Problem {
  const status = exception.getStatus();
  const response = exception.getResponse() as
    string | { message?: string | string[]; error?: string; details?: unknown };
  const messages =
    typeof response === 'string' ? [response] : [response.message ?? exception.message].flat();
  const detail = messages.filter(Boolean).join('; ');
  switch (status) {
    case HttpStatus.PAYLOAD_TOO_LARGE:
      return { code: 'payload_too_large', detail: 'The upload is larger than allowed.' };
    case HttpStatus.NOT_FOUND:
      return { code: 'not_found', detail };
    case HttpStatus.UNSUPPORTED_MEDIA_TYPE:
      return { code: 'unsupported_media_type', detail };
    case HttpStatus.SERVICE_UNAVAILABLE:
      // @nestjs/terminus reports failed health checks this way; keep its per-check details.
      return {
        code: 'not_ready',
        detail: 'One or more health checks failed.',
        fields:
          typeof response === 'object' && response.details ? { checks: response.details } : {},
      };
    case HttpStatus.BAD_REQUEST:
      if (/unexpected field/i.test(detail)) {
        return {
          code: 'missing_image',
          detail: "Send the image in a multipart field named 'file'.",
        };
      }
      return { code: 'validation_failed', detail };
    default:
      return status >= 500
        ? { code: 'internal_error', detail: 'An unexpected error occurred; it has been logged.' }
        : { code: 'validation_failed', detail };
  }
}

/** A 413 that names the limit, in bytes and in a unit people read. */
export function tooLarge(what: string, maxBytes: number): Problem {
  return {
    code: 'payload_too_large',
    detail: `${what} is larger than the limit of ${formatBytes(maxBytes)}.`,
    fields: { max_bytes: maxBytes },
  };
}

/** The same 413, thrown. */
export function payloadTooLarge(what: string, maxBytes: number): ProblemError {
  const { detail, fields } = tooLarge(what, maxBytes);
  return new ProblemError('payload_too_large', detail, { fields });
}

export function formatBytes(bytes: number): string {
  const units = ['bytes', 'KiB', 'MiB', 'GiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1 && value % 1024 === 0) {
    value /= 1024;
    unit++;
  }
  if (unit === 0 && bytes >= 1024) return `${bytes.toLocaleString('en')} bytes`;
  return `${value.toLocaleString('en')} ${units[unit]}`;
}
