import { setMaxListeners } from 'node:events';
import { Inject, Injectable, Logger, OnModuleDestroy } from '@nestjs/common';
import type { Request, Response } from 'express';
import { ProblemError } from '../../common/problem/problem.error';
import { payloadTooLarge } from '../../common/problem/problem.filter';
import { APP_CONFIG, AppConfig } from '../../config/app-config';
import { CaptionMetrics } from '../../metrics/caption-metrics.service';
import { markCaptionRequest } from '../../metrics/caption-problem.listener';
import { ImageIntakeService } from '../image/image-intake.service';
import { ModelStatusService } from '../model-status.service';
import { CaptionScheduler, ClientClosedError } from '../scheduler/caption-scheduler.service';
import { AdmittedRequest } from './admitted-request';
import { CaptionRoute, bodyLimitFor } from './body-limits';
import { declaredLength } from './request-body';

const ADMITTED = Symbol('admitted caption request');
/** Listeners on a request's signal besides its queued images: body, decode gate, intake, fetch. */
const STAGE_LISTENERS = 8;

/**
 * Admission over the whole life of a caption request. On arrival, before a byte of the body is
 * read, a request is refused unless the service is ready and not draining, the engine queue has
 * room (the scheduler's checks), its declared body fits its route's limit (413; see
 * bodyLimitFor: MAX_UPLOAD_BYTES for one image, more for a batch or base64 JSON), fewer than
 * INTAKE_MAX requests are uploading or decoding, its body fits what is left of
 * UPLOAD_BUFFER_BYTES, and the decodes and captions ahead of it would not take the whole
 * deadline (429 with Retry-After). An admitted request then carries one deadline
 * (REQUEST_TIMEOUT_MS from arrival) and one abort signal through upload, decode, queue and
 * engine. On shutdown, every admitted request may finish within SHUTDOWN_TIMEOUT_MS.
 */
@Injectable()
export class CaptionAdmission implements OnModuleDestroy {
  private readonly logger = new Logger(CaptionAdmission.name);
  private readonly inFlight = new Set<AdmittedRequest>();
  private inIntake = 0;
  private intakeBytes = 0;
  private draining = false;
  private settled?: () => void;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly scheduler: CaptionScheduler,
    private readonly status: ModelStatusService,
    private readonly metrics: CaptionMetrics,
    private readonly intake: ImageIntakeService,
  ) {}

  /** The admitted request behind an HTTP request (after admit). */
  static of(request: Request): AdmittedRequest {
    const admitted = (request as Request & { [ADMITTED]?: AdmittedRequest })[ADMITTED];
    if (!admitted) throw new Error('caption request used before admission');
    return admitted;
  }

  get stats(): { inFlight: number; inIntake: number; intakeBytes: number } {
    return { inFlight: this.inFlight.size, inIntake: this.inIntake, intakeBytes: this.intakeBytes };
  }

  /** Admits the request or throws the refusal (503, 413, 429) before its body is read. */
  admit(request: Request, response: Response, route: CaptionRoute = 'single'): AdmittedRequest {
    markCaptionRequest(request);
    if (this.draining || this.status.isDraining) {
      this.metrics.rejected('draining');
      throw new ProblemError(
        'draining',
        'The service is shutting down; retry on another instance.',
      );
    }
    this.scheduler.assertAccepting();
    const limit = bodyLimitFor(route, request, this.config);
    const declared = declaredLength(request);
    if (declared !== undefined && declared > limit.maxBytes) {
      throw payloadTooLarge(`The body (${declared} bytes)`, limit.maxBytes);
    }
    const { max, uploadBufferBytes } = this.config.intake;
    if (this.inIntake >= max) {
      throw this.refusal(
        `${this.inIntake} requests are already uploading or decoding (INTAKE_MAX).`,
      );
    }
    // As the scheduler does for its queue: refuse now what would only time out waiting, here
    // for the decodes ahead plus the engine queue, at their recent pace.
    const waitSeconds = this.expectedWaitSeconds();
    if (this.inIntake > 0 && waitSeconds * 1000 >= this.config.queue.requestTimeoutMs) {
      throw this.refusal(
        `The decodes and captions ahead would take about ${Math.ceil(waitSeconds)} s at the ` +
          'recent pace, past REQUEST_TIMEOUT_MS.',
      );
    }
    // A body of unknown length (chunked) may be as large as allowed.
    const bytes = limit.reserve(declared ?? (hasBody(request) ? limit.maxBytes : 0));
    this.assertBytesFit(bytes, uploadBufferBytes);
    const body = { maxBytes: limit.maxBytes, timeoutMs: this.config.http.bodyTimeoutMs };
    const admitted = new AdmittedRequest(bytes, body, this.config.queue.requestTimeoutMs, {
      leftIntake: (r) => this.leftIntake(r),
      closed: (r) => this.closed(r),
      reserve: (_r, more) => {
        this.assertBytesFit(more, uploadBufferBytes);
        this.intakeBytes += more;
        this.publish();
      },
    });
    // Each queued image of a batch listens to its request's signal until it is answered, beside
    // the body reader, the decode gate and the URL fetcher: MAX_BATCH_FILES listeners are
    // expected, not a leak, and Node's default warning at 11 would be noise in every batch log.
    setMaxListeners(this.config.batch.maxFiles + STAGE_LISTENERS, admitted.signal);
    this.inIntake++;
    this.intakeBytes += bytes;
    this.inFlight.add(admitted);
    this.publish();
    (request as Request & { [ADMITTED]?: AdmittedRequest })[ADMITTED] = admitted;
    response.once('close', () => {
      if (!response.writableFinished) admitted.abort(new ClientClosedError());
      admitted.close();
    });
    return admitted;
  }

  /**
   * Shutdown, first of the caption hooks: refuse new requests (503 `draining` while the listener
   * is still open), let every admitted one finish within SHUTDOWN_TIMEOUT_MS, whatever its
   * stage, then answer what is left with 503.
   */
  async onModuleDestroy(): Promise<void> {
    this.draining = true;
    this.status.setDraining();
    if (this.inFlight.size === 0) return;
    this.logger.log(`draining ${this.inFlight.size} admitted caption request(s)`);
    if (!(await this.allClosedWithin(this.config.shutdownTimeoutMs))) {
      this.logger.warn(
        `drain timeout: answering ${this.inFlight.size} unfinished request(s) with 503`,
      );
      for (const admitted of this.inFlight) {
        admitted.abort(
          new ProblemError('draining', 'The service shut down before this caption finished.'),
        );
      }
      // Their handlers answer at once; give the answers a moment to be written.
      await this.allClosedWithin(1000);
    }
  }

  private allClosedWithin(ms: number): Promise<boolean> {
    if (this.inFlight.size === 0) return Promise.resolve(true);
    return new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => resolve(false), ms);
      this.settled = () => {
        clearTimeout(timer);
        resolve(true);
      };
    });
  }

  private assertBytesFit(bytes: number, uploadBufferBytes: number): void {
    if (this.intakeBytes + bytes > uploadBufferBytes) {
      throw this.refusal(
        `Uploads in progress hold ${this.intakeBytes} of the ${uploadBufferBytes} bytes allowed ` +
          `(UPLOAD_BUFFER_BYTES); this one needs ${bytes}.`,
      );
    }
  }

  private refusal(detail: string): ProblemError {
    this.metrics.rejected('intake_full');
    const seconds = Math.max(1, Math.ceil(this.expectedWaitSeconds()));
    return new ProblemError('intake_full', detail, { headers: { 'Retry-After': String(seconds) } });
  }

  /** Decodes ahead (at their recent pace) plus the engine queue's drain time. */
  private expectedWaitSeconds(): number {
    return this.intake.gate.expectedWaitSeconds() + this.scheduler.expectedWaitSeconds();
  }

  private leftIntake(admitted: AdmittedRequest): void {
    this.inIntake--;
    this.intakeBytes -= admitted.uploadBytes;
    this.publish();
  }

  private closed(admitted: AdmittedRequest): void {
    this.inFlight.delete(admitted);
    if (this.inFlight.size === 0) this.settled?.();
  }

  private publish(): void {
    this.metrics.intake(this.inIntake, this.intakeBytes);
  }
}

function hasBody(request: Request): boolean {
  return request.headers['transfer-encoding'] !== undefined || (declaredLength(request) ?? 0) > 0;
}
