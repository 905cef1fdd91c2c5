import { CallHandler, ExecutionContext, Inject, Injectable, NestInterceptor } from '@nestjs/common';
import type { Request } from 'express';
import getRawBody from 'raw-body';
import { Observable, from, switchMap } from 'rxjs';
import { APP_CONFIG, AppConfig } from '../../config/app-config';
import { ProblemError } from '../../common/problem/problem.error';
import { RawOptions } from '../decoding-options/decoding-options.pipe';
import { maxJsonBytes, parseJson } from '../inputs/caption-json.interceptor';
import { parseHfJsonRequest } from './hf-request';

export interface HfRequest extends Request {
  hfInput?: { image: Buffer; options: RawOptions };
}

/**
 * Reads a Hugging Face image-to-text body: JSON (`{"inputs": base64, "parameters": {...}}`)
 * when the Content-Type says so, else the raw image bytes whatever the type (the JavaScript
 * client sends none; the type comes from the bytes), with options in the query string.
 */
@Injectable()
export class HfBodyInterceptor implements NestInterceptor {
  constructor(@Inject(APP_CONFIG) private readonly config: AppConfig) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const request = context.switchToHttp().getRequest<HfRequest>();
    return from(this.read(request)).pipe(switchMap(() => next.handle()));
  }

  private async read(request: HfRequest): Promise<void> {
    const query = request.query as Record<string, unknown>;
    const maxBytes = this.config.http.maxUploadBytes;
    if (request.is('application/json')) {
      const text = await getRawBody(request, { limit: maxJsonBytes(maxBytes), encoding: 'utf8' });
      const body = parseJson(text);
      const { image, options } = parseHfJsonRequest(body, maxBytes);
      request.hfInput = { image, options: { query, body: options } };
      return;
    }
    const image = await getRawBody(request, {
      limit: maxBytes,
      length: request.headers['content-length'],
    });
    if (image.length === 0) {
      throw new ProblemError(
        'missing_image',
        'No image: send the image bytes as the body, or JSON {"inputs": "<base64>"}.',
      );
    }
    request.hfInput = { image, options: { query } };
  }
}
