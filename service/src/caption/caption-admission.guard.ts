import { CanActivate, ExecutionContext, Injectable } from '@nestjs/common';
import { markCaptionRequest } from '../metrics/caption-problem.listener';
import { CaptionScheduler } from './scheduler/caption-scheduler.service';

/** Refuses (429/503) before the upload is read, so a full queue costs no bandwidth or memory. */
@Injectable()
export class CaptionAdmissionGuard implements CanActivate {
  constructor(private readonly scheduler: CaptionScheduler) {}

  canActivate(context: ExecutionContext): boolean {
    markCaptionRequest(context.switchToHttp().getRequest<object>());
    this.scheduler.assertAccepting();
    return true;
  }
}
