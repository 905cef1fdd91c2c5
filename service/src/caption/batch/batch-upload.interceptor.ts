import { CallHandler, ExecutionContext, Inject, Injectable, NestInterceptor } from '@nestjs/common';
import type { Request, Response } from 'express';
import multer from 'multer';
import { Observable, from, switchMap } from 'rxjs';
import { ProblemError } from '../../common/problem/problem.error';
import { formatBytes } from '../../common/problem/problem.filter';
import { APP_CONFIG, AppConfig } from '../../config/app-config';
import { DECODING_OPTION_NAMES } from '../decoding-options/decoding-option-catalog';

export interface BatchRequest extends Request {
  batchFiles?: Buffer[];
}

/**
 * Reads the images of a batch: repeated multipart fields `files`, each within MAX_UPLOAD_BYTES,
 * at most MAX_BATCH_FILES of them; text fields may only be decoding options.
 */
@Injectable()
export class BatchUploadInterceptor implements NestInterceptor {
  private readonly multipart: ReturnType<typeof multer>;

  constructor(@Inject(APP_CONFIG) private readonly config: AppConfig) {
    this.multipart = multer({
      storage: multer.memoryStorage(),
      limits: {
        fileSize: config.http.maxUploadBytes,
        files: config.batch.maxFiles,
        fields: DECODING_OPTION_NAMES.length * 2,
        fieldSize: 64,
        parts: config.batch.maxFiles + DECODING_OPTION_NAMES.length * 2,
      },
    });
  }

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const request = context.switchToHttp().getRequest<BatchRequest>();
    const response = context.switchToHttp().getResponse<Response>();
    return from(this.read(request, response)).pipe(switchMap(() => next.handle()));
  }

  private async read(request: BatchRequest, response: Response): Promise<void> {
    if (!request.is('multipart/form-data')) {
      throw new ProblemError(
        'unsupported_media_type',
        `Send the images as multipart/form-data, each in a field named 'files' (got ${request.headers['content-type'] ?? 'no Content-Type'}).`,
      );
    }
    await new Promise<void>((resolve, reject) =>
      this.multipart.array('files', this.config.batch.maxFiles)(request, response, (error) =>
        error ? reject(this.problem(error)) : resolve(),
      ),
    );
    const files = (request.files as Express.Multer.File[] | undefined) ?? [];
    request.batchFiles = files.map((file) => file.buffer);
  }

  private problem(error: unknown): ProblemError {
    const { code, field } = error as { code?: string; field?: string };
    const { maxFiles } = this.config.batch;
    switch (code) {
      case 'LIMIT_FILE_COUNT':
      case 'LIMIT_UNEXPECTED_FILE':
        return field && field !== 'files'
          ? new ProblemError(
              'missing_image',
              `Send each image in a field named 'files' (got '${field}').`,
            )
          : new ProblemError(
              'too_many_files',
              `A batch takes at most ${maxFiles} files (MAX_BATCH_FILES); send the rest in another.`,
            );
      case 'LIMIT_FILE_SIZE':
        return new ProblemError(
          'payload_too_large',
          `A file is larger than the limit of ${formatBytes(this.config.http.maxUploadBytes)}.`,
          { fields: { max_bytes: this.config.http.maxUploadBytes } },
        );
      default:
        return new ProblemError(
          'validation_failed',
          `The multipart body cannot be read: ${(error as Error).message}`,
        );
    }
  }
}
