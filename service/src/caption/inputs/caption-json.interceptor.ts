import { CallHandler, ExecutionContext, Inject, Injectable } from '@nestjs/common';
import type { Response } from 'express';
import { Observable } from 'rxjs';
import { APP_CONFIG, AppConfig } from '../../config/app-config';
import { isJsonBody } from '../admission/body-limits';
import { BodyReadingInterceptor } from '../admission/body-reading.interceptor';
import { CaptionAdmission } from '../admission/caption-admission.service';
import { readJsonBody } from '../admission/request-body';
import { UploadedCaptionRequest } from '../caption-upload.interceptor';
import { ImageUrlFetcher } from '../url/image-url-fetcher.service';
import { parseCaptionJsonBody } from './caption-json-body';

export interface JsonCaptionRequest extends UploadedCaptionRequest {
  /** Decoding options given as members of a JSON body. */
  jsonOptions?: Record<string, unknown>;
}

/**
 * POST /caption with a JSON body: `{"url": ...}` (fetched by ImageUrlFetcher) or
 * `{"image": base64}`, options as further members. The body is read within the admitted
 * request's budget (the JSON limit, BODY_TIMEOUT_MS, its deadline and client); a URL's image is
 * fetched under the same deadline and signal, its bytes reserved with admission as an upload's
 * are. Leaves the image where the upload reader puts one, so the rest of the route is the same;
 * other bodies pass through to that reader.
 */
@Injectable()
export class CaptionJsonInterceptor extends BodyReadingInterceptor<JsonCaptionRequest> {
  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly fetcher: ImageUrlFetcher,
  ) {
    super();
  }

  /** Other bodies pass through untouched, to the upload reader. */
  override intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    if (!isJsonBody(context.switchToHttp().getRequest<JsonCaptionRequest>())) return next.handle();
    return super.intercept(context, next);
  }

  protected override async read(request: JsonCaptionRequest, response: Response): Promise<void> {
    const admitted = CaptionAdmission.of(request);
    const body = await readJsonBody(request, response, admitted.bodyBudget);
    const { source, options } = parseCaptionJsonBody(body, this.config.http.maxUploadBytes);
    request.jsonOptions = options;
    request.imageBytes =
      'url' in source
        ? await this.fetcher.fetch(source.url, {
            signal: admitted.signal,
            reserve: (bytes) => admitted.reserve(bytes),
          })
        : source.image;
  }
}
