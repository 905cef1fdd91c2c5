import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { CaptionMetrics } from './caption-metrics.service';

/**
 * Times every request, including 404s and those a guard or body limit refuses before any
 * handler runs; mounted on the HTTP server itself so nothing bypasses it. The route label is the
 * matched route pattern (or "unmatched"), never the raw URL, so label cardinality stays fixed.
 */
export function httpMetricsMiddleware(metrics: CaptionMetrics): RequestHandler {
  return (request: Request, response: Response, next: NextFunction) => {
    const started = process.hrtime.bigint();
    response.once('finish', () => {
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      const pattern = (request.route as { path?: string } | undefined)?.path;
      // Nest answers unknown paths from a catch-all route ("/{*path}"): count those together.
      const route = !pattern || pattern.includes('{*') ? 'unmatched' : pattern;
      metrics.httpRequest(request.method, route, response.statusCode, seconds);
    });
    next();
  };
}
