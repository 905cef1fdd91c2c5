import { ExecutionContext, createParamDecorator } from '@nestjs/common';
import type { Request } from 'express';
import { ProblemError } from '../common/problem/problem.error';
import { AdmissionTicket } from './admission/admitted-request';
import { CaptionAdmission } from './admission/caption-admission.service';
import { UploadedCaptionRequest } from './caption-upload.interceptor';
import { RawOptions } from './decoding-options/decoding-options.pipe';
import type { JsonCaptionRequest } from './inputs/caption-json.interceptor';

/** The uploaded image bytes (read by CaptionUploadInterceptor); 400 when there are none. */
export const UploadedImage = createParamDecorator(
  (_: unknown, context: ExecutionContext): Buffer => {
    const bytes = context.switchToHttp().getRequest<UploadedCaptionRequest>().imageBytes;
    if (!bytes || bytes.length === 0) {
      throw new ProblemError(
        'missing_image',
        "No image: send multipart/form-data with a field named 'file', or the image bytes with Content-Type image/*.",
      );
    }
    return bytes;
  },
);

/**
 * Raw decoding options from the query string and, for multipart uploads, the form fields, kept
 * apart so that DecodingOptionsPipe can refuse a value given in both.
 */
export const CaptionOptions = createParamDecorator(
  (_: unknown, context: ExecutionContext): RawOptions => {
    const request = context.switchToHttp().getRequest<UploadedCaptionRequest>();
    const form = request.formFields;
    const body = (request as JsonCaptionRequest).jsonOptions;
    return { query: request.query as Record<string, unknown>, form, body };
  },
);

/** The request's admission: its deadline, its abort signal, its intake slot. */
export const Admission = createParamDecorator(
  (_: unknown, context: ExecutionContext): AdmissionTicket =>
    CaptionAdmission.of(context.switchToHttp().getRequest<Request>()),
);
