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
import { AdmissionTicket } from '../admission/admitted-request';
import { shareTicket } from '../admission/ticket-shares';
import { CaptionService } from '../caption.service';
import { CaptionResponseDto } from '../dto/caption-response.dto';
import { DecodingOptions } from '../engine/caption-engine';
import { CaptionScheduler } from '../scheduler/caption-scheduler.service';

export type BatchResult = CaptionResponseDto | ProblemBody;

/**
 * Captions the images of a batch as single requests would be captioned, under the one admission
 * of their request:
 * - up front, the queue must have room for every image at the recent pace, by the request's
 *   deadline, or the batch is refused as a whole (429 queue_full); those places are held, so no
 *   file is refused later for room others took;
 * - the images go through intake one at a time (the decode gate bounds them with everyone
 *   else's; one batch takes one decode slot, not sixteen), each queued as soon as it is decoded,
 *   so decoding the next overlaps the engine captioning the previous ones and they share engine
 *   batches with each other and with everyone else;
 * - the request leaves intake (its slot and upload bytes are freed) when its last image has;
 * - each file is answered with its caption or its own problem: one bad file does not fail the
 *   others, and at the deadline the unfinished ones get request_timeout while the finished keep
 *   their captions.
 */
@Injectable()
export class CaptionBatchService {
  private readonly logger = new Logger(CaptionBatchService.name);

  constructor(
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
    const room = this.scheduler.reserveRoom(images.length, admission.deadlineAt);
    const shares = shareTicket(admission, images.length);
    const answers: Promise<BatchResult>[] = [];
    try {
      for (const [index, image] of images.entries()) {
        const answer = this.captions
          .caption(image, options, shares[index], room)
          .catch((error: unknown) => this.problemOf(error, request));
        answers.push(answer);
        // The next image's decode starts once this one has left intake (or failed before).
        await Promise.race([shares[index].leftIntake, answer]);
      }
    } finally {
      // Places of images answered from the cache or refused before the queue.
      room.release();
    }
    return Promise.all(answers);
  }

  /** One file's problem, as a single request would get it, counted as the filter counts them. */
  private problemOf(error: unknown, request: Request): ProblemBody {
    const problem = toProblem(error);
    if (problem.code === 'internal_error') {
      this.logger.error(error instanceof Error ? error.stack : String(error));
    }
    this.listener?.onProblem(problem.code, request);
    return problemBody(problem, request);
  }
}
