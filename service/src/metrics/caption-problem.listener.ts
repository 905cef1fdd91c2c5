import { Injectable } from '@nestjs/common';
import type { Request } from 'express';
import { ProblemCode } from '../common/problem/problem-catalog';
import { ProblemListener } from '../common/problem/problem.filter';
import { CaptionMetrics, Outcome } from './caption-metrics.service';

/** Load-shedding answers, as opposed to errors of the request or the service. */
const REFUSALS = new Set<ProblemCode>(['queue_full', 'intake_full', 'not_ready', 'draining']);

/** How a caption request that ended in a problem counts in caption_requests_total. */
export function outcomeOf(code: ProblemCode): Outcome {
  return REFUSALS.has(code) ? 'rejected' : 'error';
}

const CAPTION_REQUEST = Symbol('caption request');

/**
 * Marks a request as a caption request, first thing on arrival (admission does it for every
 * caption route), so that however it ends it is counted; probes, scrapes and 404s are not.
 */
export function markCaptionRequest(request: object): void {
  (request as Record<symbol, boolean>)[CAPTION_REQUEST] = true;
}

export function isCaptionRequest(request: object): boolean {
  return (request as Record<symbol, boolean>)[CAPTION_REQUEST] === true;
}

/**
 * Counts caption problems by code and outcome, from whichever layer refused the request
 * (admission, upload, validation, intake, engine): the problem filter reports every problem here.
 */
@Injectable()
export class CaptionProblemListener implements ProblemListener {
  constructor(private readonly metrics: CaptionMetrics) {}

  onProblem(code: ProblemCode, request: Request): void {
    if (!isCaptionRequest(request)) return;
    this.metrics.error(code);
    this.metrics.request(outcomeOf(code));
  }
}
