import { Inject, Injectable } from '@nestjs/common';
import type { Request, Response } from 'express';
import { APP_CONFIG, AppConfig } from '../../config/app-config';
import { ProblemError } from '../../common/problem/problem.error';
import { isJsonBody } from '../admission/body-limits';
import { BodyReadingInterceptor } from '../admission/body-reading.interceptor';
import { CaptionAdmission } from '../admission/caption-admission.service';
import { readJsonBody, readRawBody } from '../admission/request-body';
import { RawOptions } from '../decoding-options/decoding-options.pipe';
import { parseHfJsonRequest } from './hf-request';

export interface HfRequest extends Request {
  hfInput?: { image: Buffer; options: RawOptions };
}

/**
 * Reads a Hugging Face image-to-text body: JSON (`{"inputs": base64, "parameters": {...}}`)
 * when the Content-Type says so, else the raw image bytes whatever the type (the JavaScript
 * client sends none; the type comes from the bytes), with options in the query string. Both
 * within the admitted request's budget, as /caption reads its bodies.
 */
@Injectable()
export class HfBodyInterceptor extends BodyReadingInterceptor<HfRequest> {
  constructor(@Inject(APP_CONFIG) private readonly config: AppConfig) {
    super();
  }

  protected override async read(request: HfRequest, response: Response): Promise<void> {
    const query = request.query as Record<string, unknown>;
    const budget = CaptionAdmission.of(request).bodyBudget;
    if (isJsonBody(request)) {
      const body = await readJsonBody(request, response, budget);
      const { image, options } = parseHfJsonRequest(body, this.config.http.maxUploadBytes);
      request.hfInput = { image, options: { query, body: options } };
      return;
    }
    const image = await readRawBody(request, response, budget);
    if (image.length === 0) {
      throw new ProblemError(
        'missing_image',
        'No image: send the image bytes as the body, or JSON {"inputs": "<base64>"}.',
      );
    }
    request.hfInput = { image, options: { query } };
  }
}
