import { DynamicModule, Module } from '@nestjs/common';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { randomUUID } from 'node:crypto';
import { LoggerModule } from 'nestjs-pino';
import { AppConfig } from '../../config/app-config';

export const REQUEST_ID_HEADER = 'x-request-id';
const ACCEPTABLE_ID = /^[\w.:-]{1,128}$/;

/** A caller's X-Request-Id if it is a sane token, else a fresh UUID; echoed on the response. */
export function requestId(request: IncomingMessage, response: ServerResponse): string {
  const given = request.headers[REQUEST_ID_HEADER];
  const id = typeof given === 'string' && ACCEPTABLE_ID.test(given) ? given : randomUUID();
  response.setHeader('X-Request-Id', id);
  return id;
}

const PROBE_ROUTES = /^\/(health\/|metrics)/;

/**
 * JSON logs with pino: one line per request (id, method, route, status, duration). Bodies are
 * never logged, so image bytes cannot leak into logs. Probe and scrape requests log at debug,
 * to keep the kubelet's polling out of the default output.
 */
@Module({})
export class LoggingModule {
  static forRoot(config: AppConfig): DynamicModule {
    return {
      module: LoggingModule,
      imports: [
        LoggerModule.forRoot({
          pinoHttp: {
            level: config.logLevel,
            genReqId: requestId,
            customLogLevel: (request, response, error) => {
              if (error || response.statusCode >= 500) return 'error';
              if (PROBE_ROUTES.test(request.url ?? '')) return 'debug';
              return response.statusCode >= 400 ? 'warn' : 'info';
            },
            customSuccessMessage: (request, response, ms) =>
              `${request.method} ${request.url} ${response.statusCode} ${Math.round(ms)}ms`,
            customErrorMessage: (request, response) =>
              `${request.method} ${request.url} ${response.statusCode}`,
            serializers: {
              req: (req: {
                id: string;
                method: string;
                url: string;
                headers: Record<string, string>;
              }) => ({
                id: req.id,
                method: req.method,
                url: req.url,
                content_type: req.headers['content-type'],
                content_length: req.headers['content-length'],
              }),
              res: (res: { statusCode: number }) => ({ status: res.statusCode }),
            },
          },
        }),
      ],
    };
  }
}
