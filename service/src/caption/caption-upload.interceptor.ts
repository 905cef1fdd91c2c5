import { CallHandler, ExecutionContext, Inject, Injectable, NestInterceptor } from '@nestjs/common';
import type { Request, Response } from 'express';
import { Observable, from, switchMap } from 'rxjs';
import { APP_CONFIG, AppConfig } from '../config/app-config';
import { ProblemError } from '../common/problem/problem.error';
import { CaptionAdmission } from './admission/caption-admission.service';
import { BodyBudget, readMultipartBody, readRawBody } from './admission/request-body';
import { DECODING_OPTION_NAMES } from './decoding-options/decoding-option-catalog';

/** Raw bodies are accepted with these types; curl --data-binary sends the last one by default. */
const RAW_TYPES =
  /^(image\/[\w.+-]+|application\/octet-stream|application\/x-www-form-urlencoded)$/i;

export interface UploadedCaptionRequest extends Request {
  imageBytes?: Buffer;
  /** Multipart text fields (decoding options). */
  formFields?: Record<string, string>;
}

/**
 * Reads the image from a multipart field `file` or from a raw body, within the admitted
 * request's budget: MAX_UPLOAD_BYTES, BODY_TIMEOUT_MS, and its deadline and client. Multipart
 * text fields may only be decoding options.
 */
@Injectable()
export class CaptionUploadInterceptor implements NestInterceptor {
  constructor(@Inject(APP_CONFIG) private readonly config: AppConfig) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const request = context.switchToHttp().getRequest<UploadedCaptionRequest>();
    const response = context.switchToHttp().getResponse<Response>();
    return from(this.read(request, response)).pipe(switchMap(() => next.handle()));
  }

  private async read(request: UploadedCaptionRequest, response: Response): Promise<void> {
    // A JSON body was read before (CaptionJsonInterceptor).
    if (request.imageBytes) return;
    const budget: BodyBudget = {
      maxBytes: this.config.http.maxUploadBytes,
      timeoutMs: this.config.http.bodyTimeoutMs,
      signal: CaptionAdmission.of(request).signal,
    };
    const type = (request.headers['content-type'] ?? '').split(';')[0].trim();
    if (type.toLowerCase() === 'multipart/form-data') {
      const body = await readMultipartBody(request, response, budget, {
        fileFields: ['file'],
        maxFiles: 1,
        maxFields: DECODING_OPTION_NAMES.length,
        maxFieldBytes: 64,
      });
      request.imageBytes = body.files[0]?.bytes;
      request.formFields = body.fields;
      return;
    }
    if (!type) {
      if (!hasBody(request)) return;
      throw mediaTypeProblem('(none)');
    }
    if (!RAW_TYPES.test(type)) throw mediaTypeProblem(type);
    request.imageBytes = await readRawBody(request, response, budget);
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
