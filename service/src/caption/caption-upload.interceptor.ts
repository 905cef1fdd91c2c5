import { Inject, Injectable } from '@nestjs/common';
import type { Request, Response } from 'express';
import { APP_CONFIG, AppConfig } from '../config/app-config';
import { ProblemError } from '../common/problem/problem.error';
import { BodyReadingInterceptor } from './admission/body-reading.interceptor';
import { CaptionAdmission } from './admission/caption-admission.service';
import { readMultipartBody, readRawBody } from './admission/request-body';
import { DECODING_OPTION_NAMES } from './decoding-options/decoding-option-catalog';

/** Raw bodies are accepted with these types; curl --data-binary sends the last one by default. */
const RAW_TYPES =
  /^(image\/[\w.+-]+|application\/octet-stream|application\/x-www-form-urlencoded)$/i;

export interface UploadedCaptionRequest extends Request {
  imageBytes?: Buffer;
  /** Multipart text fields (decoding options); a repeated one keeps every value. */
  formFields?: Record<string, string | string[]>;
}

/** Text fields a form may carry: each option, and room for repeats, which the pipe refuses. */
export const MAX_OPTION_FIELDS = 2 * DECODING_OPTION_NAMES.length;

/**
 * Reads the image from a multipart field `file` or from a raw body, within the admitted
 * request's budget (its body limit, BODY_TIMEOUT_MS, its deadline and client) and, per file,
 * MAX_UPLOAD_BYTES. Multipart text fields may only be decoding options. A JSON body was read
 * before, by CaptionJsonInterceptor.
 */
@Injectable()
export class CaptionUploadInterceptor extends BodyReadingInterceptor<UploadedCaptionRequest> {
  constructor(@Inject(APP_CONFIG) private readonly config: AppConfig) {
    super();
  }

  protected override async read(
    request: UploadedCaptionRequest,
    response: Response,
  ): Promise<void> {
    if (request.imageBytes) return;
    const budget = CaptionAdmission.of(request).bodyBudget;
    const type = (request.headers['content-type'] ?? '').split(';')[0].trim();
    if (type.toLowerCase() === 'multipart/form-data') {
      const body = await readMultipartBody(request, response, budget, {
        fileFields: ['file'],
        maxFiles: 1,
        maxFileBytes: this.config.http.maxUploadBytes,
        tooManyFiles: () =>
          new ProblemError(
            'validation_failed',
            'Send one image per request to /caption; POST /captions takes several.',
          ),
        maxFields: MAX_OPTION_FIELDS,
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
      'the image bytes with Content-Type image/*, or JSON {"url": ...} or {"image": base64}.',
  );
}
