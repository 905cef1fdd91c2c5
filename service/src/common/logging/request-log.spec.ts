import type { IncomingMessage, ServerResponse } from 'node:http';
import { isUnexpectedFailure, requestLogLevel, statusSeen } from './request-log';

const request = (url: string) => ({ url }) as IncomingMessage;
const response = (statusCode: number, finished = true) =>
  ({ statusCode, writableFinished: finished }) as ServerResponse;

describe('request log', () => {
  it('logs the status the client saw: 499 when it left before the answer was sent', () => {
    expect(statusSeen(response(200))).toBe(200);
    expect(statusSeen(response(200, false))).toBe(499);
    expect(statusSeen(response(504, false))).toBe(499);
  });

  it.each([
    ['/caption', 200, true, 'info'],
    ['/caption', 200, false, 'info'], // left: 499
    ['/caption', 429, true, 'info'],
    ['/caption', 400, true, 'warn'],
    ['/caption', 413, true, 'warn'],
    ['/caption', 503, true, 'warn'],
    ['/caption', 504, true, 'warn'],
    ['/caption', 500, true, 'error'],
    ['/health/ready', 503, true, 'debug'],
    ['/health/live', 200, true, 'debug'],
    ['/metrics', 200, true, 'debug'],
  ])('%s answered %i (sent: %s) logs at %s', (url, status, finished, level) => {
    expect(requestLogLevel(request(url), response(status, finished))).toBe(level);
  });

  it('keeps the error object (and stack) only for unexpected failures', () => {
    expect(isUnexpectedFailure(response(500))).toBe(true);
    for (const status of [429, 503, 504]) expect(isUnexpectedFailure(response(status))).toBe(false);
    expect(isUnexpectedFailure(response(200, false))).toBe(false);
  });
});
