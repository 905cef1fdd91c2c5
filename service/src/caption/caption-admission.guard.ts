import { CanActivate, Injectable } from '@nestjs/common';
import { CaptionScheduler } from './scheduler/caption-scheduler.service';

/** Refuses (429/503) before the upload is read, so a full queue costs no bandwidth or memory. */
@Injectable()
export class CaptionAdmissionGuard implements CanActivate {
  constructor(private readonly scheduler: CaptionScheduler) {}

  canActivate(): boolean {
    this.scheduler.assertAccepting();
    return true;
  }
}
