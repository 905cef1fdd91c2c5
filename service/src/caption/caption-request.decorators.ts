import { ExecutionContext, createParamDecorator } from '@nestjs/common';
import type { Response } from 'express';
import { ProblemError } from '../common/problem/problem.error';
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
    const form =
      request.is('multipart/form-data') && request.body && typeof request.body === 'object'
        ? (request.body as Record<string, unknown>)
        : undefined;
    const body = (request as JsonCaptionRequest).jsonOptions;
    return { query: request.query as Record<string, unknown>, form, body };
  },
);

/** Aborts when the client disconnects before its response is sent. */
export const ClientGone = createParamDecorator(
  (_: unknown, context: ExecutionContext): AbortSignal => {
    const response = context.switchToHttp().getResponse<Response>();
    const controller = new AbortController();
    response.once('close', () => {
      if (!response.writableFinished) controller.abort();
    });
    return controller.signal;
  },
);
