import { Injectable, NestMiddleware } from '@nestjs/common';
import type { NextFunction, Request, Response } from 'express';
import { CaptionMetrics } from './caption-metrics.service';

/**
 * Times every request, including those a guard or body limit refuses before any handler runs.
 * The route label is the matched route pattern, never the raw URL, so label cardinality stays fixed.
 */
@Injectable()
export class HttpMetricsMiddleware implements NestMiddleware {
  constructor(private readonly metrics: CaptionMetrics) {}

  use(request: Request, response: Response, next: NextFunction): void {
    const started = process.hrtime.bigint();
    response.once('finish', () => {
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      const route = (request.route as { path?: string } | undefined)?.path ?? 'unmatched';
      this.metrics.httpRequest(request.method, route, response.statusCode, seconds);
    });
    next();
  }
}
