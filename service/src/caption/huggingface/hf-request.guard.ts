import { CanActivate, ExecutionContext, Injectable } from '@nestjs/common';
import type { Request } from 'express';
import { ProblemError } from '../../common/problem/problem.error';
import { withErrorMember } from '../../common/problem/problem.filter';
import { ModelStatusService } from '../model-status.service';

/**
 * First on the Hugging Face route: its problems carry `error` for the clients, and a model id
 * other than the one served is a 404 before anything is admitted or read. Until a model is
 * loaded the served id is not known; admission then answers 503.
 */
@Injectable()
export class HfRequestGuard implements CanActivate {
  constructor(private readonly status: ModelStatusService) {}

  canActivate(context: ExecutionContext): boolean {
    const request = context.switchToHttp().getRequest<Request>();
    withErrorMember(request);
    const served = this.status.model?.modelId;
    const asked = modelIdOf(request);
    if (served !== undefined && asked.toLowerCase() !== served.toLowerCase()) {
      throw new ProblemError(
        'model_not_found',
        `This service serves ${served}, not ${asked}: post to /models/${served}.`,
        { fields: { served_model: served } },
      );
    }
    return true;
  }
}

/** The {model_id} of /models/{model_id}: the wildcard's path segments, slash included. */
export function modelIdOf(request: Request): string {
  const value = (request.params as Record<string, string | string[]>).model_id;
  return Array.isArray(value) ? value.join('/') : (value ?? '');
}
