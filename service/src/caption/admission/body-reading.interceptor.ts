import { CallHandler, ExecutionContext, NestInterceptor } from '@nestjs/common';
import type { Request, Response } from 'express';
import { Observable, from, switchMap } from 'rxjs';

/**
 * An interceptor that reads a route's body before its handler runs: the handler is called once
 * `read` has resolved, and not at all when it throws (the problem filter answers instead).
 */
export abstract class BodyReadingInterceptor<R extends Request> implements NestInterceptor {
  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const request = context.switchToHttp().getRequest<R>();
    const response = context.switchToHttp().getResponse<Response>();
    return from(this.read(request, response)).pipe(switchMap(() => next.handle()));
  }

  /** Reads the body within the admitted request's budget and leaves what it found on `request`. */
  protected abstract read(request: R, response: Response): Promise<void>;
}
