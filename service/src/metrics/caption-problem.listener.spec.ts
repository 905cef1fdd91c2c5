import type { Request } from 'express';
import { CaptionMetrics } from './caption-metrics.service';
import { CaptionProblemListener, markCaptionRequest, outcomeOf } from './caption-problem.listener';

describe('CaptionProblemListener', () => {
  const counted: unknown[][] = [];
  const metrics = {
    error: (code: string) => counted.push(['error', code]),
    request: (outcome: string) => counted.push(['request', outcome]),
  } as unknown as CaptionMetrics;
  const listener = new CaptionProblemListener(metrics);

  beforeEach(() => (counted.length = 0));

  it('counts a caption request by problem code and outcome', () => {
    const request = {} as Request;
    markCaptionRequest(request);
    listener.onProblem('invalid_image', request);
    listener.onProblem('queue_full', request);
    expect(counted).toEqual([
      ['error', 'invalid_image'],
      ['request', 'error'],
      ['error', 'queue_full'],
      ['request', 'rejected'],
    ]);
  });

  it('ignores problems of other requests (probes, 404s)', () => {
    listener.onProblem('not_found', { path: '/caption' } as Request);
    listener.onProblem('not_ready', {} as Request);
    expect(counted).toEqual([]);
  });

  it('calls load shedding a refusal and anything else an error', () => {
    expect(['queue_full', 'not_ready', 'draining'].map((c) => outcomeOf(c as never))).toEqual([
      'rejected',
      'rejected',
      'rejected',
    ]);
    expect(outcomeOf('request_timeout')).toBe('error');
    expect(outcomeOf('internal_error')).toBe('error');
  });
});
