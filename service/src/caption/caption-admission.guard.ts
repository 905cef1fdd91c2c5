import { CanActivate, ExecutionContext, Injectable } from '@nestjs/common';
import type { Request, Response } from 'express';
import { CaptionAdmission } from './admission/caption-admission.service';

/** Admits the request (or refuses it: 503, 413, 429) before its body is read. */
@Injectable()
export class CaptionAdmissionGuard implements CanActivate {
  constructor(private readonly admission: CaptionAdmission) {}

  canActivate(context: ExecutionContext): boolean {
    const http = context.switchToHttp();
    this.admission.admit(http.getRequest<Request>(), http.getResponse<Response>());
    return true;
  }
}
