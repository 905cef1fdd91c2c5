import type { CorsOptions } from '@nestjs/common/interfaces/external/cors-options.interface';
import { AppConfig } from '../../config/app-config';

/** Response headers a browser script may read: back-off, correlation and the stage timings. */
export const EXPOSED_HEADERS = ['Retry-After', 'X-Request-Id', 'Server-Timing'];

/**
 * CORS from CORS_ALLOWED_ORIGINS, through the `cors` package Nest's enableCors wraps; undefined
 * (no CORS headers at all) when no origin is allowed. No credentials: the API uses no cookies,
 * and `*` with credentials is refused by browsers anyway. Preflights are answered for every
 * route with 204 and cached by the browser for 10 minutes.
 */
export function corsOptions(config: AppConfig): CorsOptions | undefined {
  const { origins } = config.cors;
  if (origins !== '*' && origins.length === 0) return undefined;
  return {
    origin: origins === '*' ? '*' : origins,
    methods: ['GET', 'HEAD', 'POST'],
    // allowedHeaders left out: the preflight's Access-Control-Request-Headers are allowed as
    // asked. Safe without credentials, and client libraries add their own headers (the Hugging
    // Face JS client sets User-Agent, which Firefox sends and so must be allowed).
    exposedHeaders: EXPOSED_HEADERS,
    maxAge: 600,
    optionsSuccessStatus: 204,
  };
}
