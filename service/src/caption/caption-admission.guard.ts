import { CanActivate, ExecutionContext, Injectable, SetMetadata } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { Request, Response } from 'express';
import { CaptionRoute } from './admission/body-limits';
import { CaptionAdmission } from './admission/caption-admission.service';

const ADMISSION_ROUTE = 'caption:admission-route';

/** The bodies a handler takes, for admission's body limit; without it, one image ('single'). */
export const AdmitBodiesOf = (route: CaptionRoute) => SetMetadata(ADMISSION_ROUTE, route);

/** Admits the request (or refuses it: 503, 413, 429) before its body is read. */
@Injectable()
export class CaptionAdmissionGuard implements CanActivate {
  constructor(
    private readonly admission: CaptionAdmission,
    private readonly reflector: Reflector,
  ) {}

  canActivate(context: ExecutionContext): boolean {
    const http = context.switchToHttp();
    const route =
      this.reflector.get<CaptionRoute | undefined>(ADMISSION_ROUTE, context.getHandler()) ??
      'single';
    this.admission.admit(http.getRequest<Request>(), http.getResponse<Response>(), route);
    return true;
  }
}
