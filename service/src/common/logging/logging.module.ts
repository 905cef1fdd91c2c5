import { DynamicModule, Module } from '@nestjs/common';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { randomUUID } from 'node:crypto';
import { LoggerModule } from 'nestjs-pino';
import { AppConfig } from '../../config/app-config';
import { isUnexpectedFailure, requestLogLevel, statusSeen } from './request-log';

export const REQUEST_ID_HEADER = 'x-request-id';
const ACCEPTABLE_ID = /^[\w.:-]{1,128}$/;

/** A caller's X-Request-Id if it is a sane token, else a fresh UUID; echoed on the response. */
export function requestId(request: IncomingMessage, response: ServerResponse): string {
  const given = request.headers[REQUEST_ID_HEADER];
  const id = typeof given === 'string' && ACCEPTABLE_ID.test(given) ? given : randomUUID();
  response.setHeader('X-Request-Id', id);
  return id;
}

/**
 * JSON logs with pino: one line per request (id, method, route, status, duration). Bodies are
 * never logged, so image bytes cannot leak into logs. The status logged is the one the client
 * saw (499 for a client that left); levels follow requestLogLevel (probes at debug, expected
 * refusals without a stack).
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
            customLogLevel: (request, response, error) => requestLogLevel(request, response, error),
            customSuccessMessage: (request, response, ms) =>
              `${request.method} ${request.url} ${statusSeen(response)} ${Math.round(ms)}ms`,
            customErrorMessage: (request, response) =>
              `${request.method} ${request.url} ${statusSeen(response)}`,
            // pino-http attaches a synthetic error to every 5xx; an expected refusal keeps none.
            customErrorObject: (_request, response, _error, value: Record<string, unknown>) =>
              isUnexpectedFailure(response) ? value : { ...value, err: undefined },
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
              res: (res: { raw: ServerResponse }) => ({ status: statusSeen(res.raw) }),
            },
          },
        }),
      ],
    };
  }
}
