import { Inject, Injectable } from '@nestjs/common';
import type { Request, Response } from 'express';
import { ProblemError } from '../../common/problem/problem.error';
import { APP_CONFIG, AppConfig } from '../../config/app-config';
import { BodyReadingInterceptor } from '../admission/body-reading.interceptor';
import { CaptionAdmission } from '../admission/caption-admission.service';
import { readMultipartBody } from '../admission/request-body';
import { MAX_OPTION_FIELDS } from '../caption-upload.interceptor';

export interface BatchRequest extends Request {
  batchFiles?: Buffer[];
  /** Multipart text fields (decoding options); a repeated one keeps every value. */
  formFields?: Record<string, string | string[]>;
}

/**
 * Reads the images of a batch with the shared multipart reader, within the admitted request's
 * budget (the batch body limit, BODY_TIMEOUT_MS, its deadline and client): repeated fields
 * `files`, at most MAX_BATCH_FILES, each within MAX_UPLOAD_BYTES; text fields may only be
 * decoding options.
 */
@Injectable()
export class BatchUploadInterceptor extends BodyReadingInterceptor<BatchRequest> {
  constructor(@Inject(APP_CONFIG) private readonly config: AppConfig) {
    super();
  }

  protected override async read(request: BatchRequest, response: Response): Promise<void> {
    if (!request.is('multipart/form-data')) {
      throw new ProblemError(
        'unsupported_media_type',
        `Send the images as multipart/form-data, each in a field named 'files' (got ${request.headers['content-type'] ?? 'no Content-Type'}).`,
      );
    }
    const { maxFiles } = this.config.batch;
    const body = await readMultipartBody(
      request,
      response,
      CaptionAdmission.of(request).bodyBudget,
      {
        fileFields: ['files'],
        maxFiles,
        maxFileBytes: this.config.http.maxUploadBytes,
        tooManyFiles: () =>
          new ProblemError(
            'too_many_files',
            `A batch takes at most ${maxFiles} files (MAX_BATCH_FILES); send the rest in another.`,
          ),
        maxFields: MAX_OPTION_FIELDS,
        maxFieldBytes: 64,
      },
    );
    request.batchFiles = body.files.map((file) => file.bytes);
    request.formFields = body.fields;
  }
}
