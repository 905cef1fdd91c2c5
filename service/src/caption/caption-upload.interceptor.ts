import { CallHandler, ExecutionContext, Inject, Injectable, NestInterceptor } from '@nestjs/common';
import type { Request, Response } from 'express';
import multer from 'multer';
import getRawBody from 'raw-body';
import { Observable, from, switchMap } from 'rxjs';
import { APP_CONFIG, AppConfig } from '../config/app-config';
import { ProblemError } from '../common/problem/problem.error';
import { DECODING_OPTION_NAMES } from './decoding-options/decoding-option-catalog';

/** Raw bodies are accepted with these types; curl --data-binary sends the last one by default. */
const RAW_TYPES =
  /^(image\/[\w.+-]+|application\/octet-stream|application\/x-www-form-urlencoded)$/i;

export interface UploadedCaptionRequest extends Request {
  imageBytes?: Buffer;
}

/**
 * Reads the image from a multipart field `file` or from a raw body, in memory, never past
 * MAX_UPLOAD_BYTES. Multipart text fields may only be decoding options.
 */
@Injectable()
export class CaptionUploadInterceptor implements NestInterceptor {
  private readonly multipart: ReturnType<typeof multer>;

  constructor(@Inject(APP_CONFIG) private readonly config: AppConfig) {
    this.multipart = multer({
      storage: multer.memoryStorage(),
      limits: {
        fileSize: config.http.maxUploadBytes,
        files: 1,
        fields: DECODING_OPTION_NAMES.length,
        fieldSize: 64,
        parts: DECODING_OPTION_NAMES.length + 1,
      },
    });
  }

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const request = context.switchToHttp().getRequest<UploadedCaptionRequest>();
    const response = context.switchToHttp().getResponse<Response>();
    return from(this.read(request, response)).pipe(switchMap(() => next.handle()));
  }

  private async read(request: UploadedCaptionRequest, response: Response): Promise<void> {
    // A JSON body was read before (CaptionJsonInterceptor).
    if (request.imageBytes) return;
    const type = (request.headers['content-type'] ?? '').split(';')[0].trim();
    if (type.toLowerCase() === 'multipart/form-data') {
      await new Promise<void>((resolve, reject) =>
        this.multipart.single('file')(request, response, (error: unknown) =>
          error ? reject(multerProblem(error)) : resolve(),
        ),
      );
      request.imageBytes = request.file?.buffer;
      return;
    }
    if (!type) {
      if (!hasBody(request)) return;
      throw mediaTypeProblem('(none)');
    }
    if (!RAW_TYPES.test(type)) throw mediaTypeProblem(type);
    request.imageBytes = await getRawBody(request, {
      limit: this.config.http.maxUploadBytes,
      length: request.headers['content-length'],
    });
  }
}

function hasBody(request: Request): boolean {
  return (
    request.headers['transfer-encoding'] !== undefined ||
    Number(request.headers['content-length'] ?? 0) > 0
  );
}

function mediaTypeProblem(type: string): ProblemError {
  return new ProblemError(
    'unsupported_media_type',
    `Content-Type ${type} is not an upload: send multipart/form-data with a field named 'file', ` +
      'or the image bytes with Content-Type image/*.',
  );
}

function multerProblem(error: unknown): ProblemError {
  const code = (error as { code?: string }).code;
  const field = (error as { field?: string }).field;
  switch (code) {
    case 'LIMIT_FILE_SIZE':
      return new ProblemError('payload_too_large', 'The file is larger than MAX_UPLOAD_BYTES.');
    case 'LIMIT_UNEXPECTED_FILE':
      return new ProblemError(
        'missing_image',
        `Send the image in a multipart field named 'file' (got '${field}').`,
      );
    case 'LIMIT_FILE_COUNT':
      return new ProblemError('validation_failed', 'Send one image per request.');
    case 'LIMIT_FIELD_COUNT':
    case 'LIMIT_PART_COUNT':
    case 'LIMIT_FIELD_VALUE':
    case 'LIMIT_FIELD_KEY':
      return new ProblemError(
        'validation_failed',
        `Multipart fields may only be decoding options (${code}).`,
      );
    default:
      return new ProblemError(
        'validation_failed',
        `The multipart body cannot be read: ${(error as Error).message}`,
      );
  }
}
