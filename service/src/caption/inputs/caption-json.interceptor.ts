import { CallHandler, ExecutionContext, Inject, Injectable, NestInterceptor } from '@nestjs/common';
import type { Response } from 'express';
import getRawBody from 'raw-body';
import { Observable, from, switchMap } from 'rxjs';
import { ProblemError } from '../../common/problem/problem.error';
import { APP_CONFIG, AppConfig } from '../../config/app-config';
import { UploadedCaptionRequest } from '../caption-upload.interceptor';
import { ImageUrlFetcher } from '../url/image-url-fetcher.service';
import { parseCaptionJsonBody } from './caption-json-body';

export interface JsonCaptionRequest extends UploadedCaptionRequest {
  /** Decoding options given as members of a JSON body. */
  jsonOptions?: Record<string, unknown>;
}

/** The most JSON a caption request may send: a base64 image (4/3 of its bytes) and options. */
export function maxJsonBytes(maxUploadBytes: number): number {
  return Math.ceil((maxUploadBytes * 4) / 3) + 64 * 1024;
}

/**
 * POST /caption with a JSON body: `{"url": ...}` (fetched by ImageUrlFetcher) or
 * `{"image": base64}`, options as further members. Leaves the image where the upload reader
 * puts one, so the rest of the route is the same; other bodies pass through to it.
 */
@Injectable()
export class CaptionJsonInterceptor implements NestInterceptor {
  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly fetcher: ImageUrlFetcher,
  ) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const request = context.switchToHttp().getRequest<JsonCaptionRequest>();
    const response = context.switchToHttp().getResponse<Response>();
    if (!request.is('application/json')) return next.handle();
    return from(this.read(request, response)).pipe(switchMap(() => next.handle()));
  }

  private async read(request: JsonCaptionRequest, response: Response): Promise<void> {
    const maxBytes = this.config.http.maxUploadBytes;
    const text = await getRawBody(request, { limit: maxJsonBytes(maxBytes), encoding: 'utf8' });
    const { source, options } = parseCaptionJsonBody(parseJson(text), maxBytes);
    request.jsonOptions = options;
    request.imageBytes =
      'url' in source ? await this.fetcher.fetch(source.url, gone(response)) : source.image;
  }
}

export function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new ProblemError(
      'validation_failed',
      `The JSON body cannot be parsed: ${(error as Error).message}`,
      { fields: { errors: [{ field: 'body', message: (error as Error).message }] } },
    );
  }
}

/** Aborts when the client leaves before its answer. */
function gone(response: Response): AbortSignal {
  const controller = new AbortController();
  response.once('close', () => {
    if (!response.writableFinished) controller.abort();
  });
  return controller.signal;
}
