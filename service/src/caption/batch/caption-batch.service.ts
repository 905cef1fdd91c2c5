import { Inject, Injectable, Logger, Optional } from '@nestjs/common';
import type { Request } from 'express';
import { ProblemError } from '../../common/problem/problem.error';
import {
  PROBLEM_LISTENER,
  ProblemBody,
  ProblemListener,
  problemBody,
  toProblem,
} from '../../common/problem/problem.filter';
import { APP_CONFIG, AppConfig } from '../../config/app-config';
import { AdmissionTicket } from '../admission/admitted-request';
import { CaptionService } from '../caption.service';
import { CaptionResponseDto } from '../dto/caption-response.dto';
import { DecodingOptions } from '../engine/caption-engine';
import { CaptionScheduler } from '../scheduler/caption-scheduler.service';

export type BatchResult = CaptionResponseDto | ProblemBody;

/**
 * Captions the images of a batch as single requests would be captioned: each goes through the
 * cache, intake and the scheduler on its own, so they share engine batches with each other and
 * with everyone else, and count against the same queue. One bad image answers with its own
 * problem and does not fail the others.
 */
@Injectable()
export class CaptionBatchService {
  private readonly logger = new Logger(CaptionBatchService.name);

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly captions: CaptionService,
    private readonly scheduler: CaptionScheduler,
    @Optional() @Inject(PROBLEM_LISTENER) private readonly listener?: ProblemListener,
  ) {}

  async captionAll(
    images: Buffer[],
    options: DecodingOptions,
    admission: AdmissionTicket,
    request: Request,
  ): Promise<BatchResult[]> {
    if (images.length === 0) {
      throw new ProblemError(
        'missing_image',
        "No image: send multipart/form-data with the images in fields named 'files'.",
      );
    }
    this.assertRoomFor(images.length);
    return Promise.all(
      images.map((image) =>
        this.captions.caption(image, options, admission).catch((error: unknown) => {
          const problem = toProblem(error);
          if (problem.code === 'internal_error') {
            this.logger.error(error instanceof Error ? error.stack : String(error));
          }
          this.listener?.onProblem(problem.code, request);
          return problemBody(problem, request);
        }),
      ),
    );
  }

  /** The whole batch is refused (429) when the queue cannot take all of it now. */
  private assertRoomFor(images: number): void {
    const free = this.config.queue.max - this.scheduler.depth;
    if (images > free) {
      throw new ProblemError(
        'queue_full',
        `The queue has room for ${Math.max(0, free)} of this batch's ${images} images; ` +
          'retry later or send fewer.',
        { headers: { 'Retry-After': String(this.scheduler.retryAfterSeconds()) } },
      );
    }
  }
}
