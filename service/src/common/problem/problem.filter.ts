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
import type { Request, Response } from 'express';
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

/**
 * Turns every error, from any module, into an RFC 9457 problem+json response with a stable
 * code. Unknown errors become a 500 whose detail hides internals; they are logged in full.
 */
@Catch()
@Injectable()
export class ProblemFilter implements ExceptionFilter {
  private readonly logger = new Logger('ProblemFilter');

  constructor(@Optional() @Inject(PROBLEM_LISTENER) private readonly listener?: ProblemListener) {}

  catch(exception: unknown, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    const request = http.getRequest<Request>();
    const response = http.getResponse<Response>();
    const problem = toProblem(exception);
    if (problem.code === 'internal_error') {
      this.logger.error(exception instanceof Error ? exception.stack : String(exception));
    }
    this.listener?.onProblem(problem.code, request);
    if (response.headersSent) {
      response.end();
      return;
    }
    const requestId = (request as Request & { id?: unknown }).id;
    const body: ProblemBody = {
      type: problemType(problem.code),
      title: PROBLEMS[problem.code].title,
      status: PROBLEMS[problem.code].status,
      detail: problem.detail,
      code: problem.code,
      ...(requestId !== undefined ? { request_id: String(requestId) } : {}),
      ...problem.fields,
    };
    for (const [name, value] of Object.entries(problem.headers ?? {})) {
      response.setHeader(name, value);
    }
    response.status(body.status).type(PROBLEM_CONTENT_TYPE).send(JSON.stringify(body));
  }
}

interface Problem {
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
    return {
      code: 'payload_too_large',
      detail: 'The request body is larger than MAX_UPLOAD_BYTES.',
    };
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
      return { code: 'payload_too_large', detail: 'The upload is larger than MAX_UPLOAD_BYTES.' };
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
      return { code: 'validation_failed', detail, fields: { errors: messages } };
    default:
      return status >= 500
        ? { code: 'internal_error', detail: 'An unexpected error occurred; it has been logged.' }
        : { code: 'validation_failed', detail };
  }
}
