import { Injectable } from '@nestjs/common';
import { ProblemError } from '../common/problem/problem.error';
import { CaptionMetrics } from '../metrics/caption-metrics.service';
import { AdmissionTicket } from './admission/admitted-request';
import { CachedCaption, CaptionCache } from './cache/caption-cache.service';
import { CaptionResponseDto } from './dto/caption-response.dto';
import { toCaptionResponse } from './dto/caption-response.mapper';
import { DecodingOptions } from './engine/caption-engine';
import { ImageIntakeService } from './image/image-intake.service';
import { LoadedModel, ModelStatusService } from './model-status.service';
import { CaptionScheduler, ScheduledCaption } from './scheduler/caption-scheduler.service';
import { QueueRoom } from './scheduler/queue-room';

/**
 * One caption: the response cache, else intake (bytes to model pixels), the scheduler (queue,
 * batch, engine), and the record (metrics, cache). Successes are counted here; refusals and
 * errors where they are answered (the problem filter's listener).
 */
@Injectable()
export class CaptionService {
  constructor(
    private readonly intake: ImageIntakeService,
    private readonly scheduler: CaptionScheduler,
    private readonly cache: CaptionCache,
    private readonly status: ModelStatusService,
    private readonly metrics: CaptionMetrics,
  ) {}

  /**
   * `admission` carries the deadline and abort signal from the request's arrival; `room`, a
   * queue place held for this caption (a batch's file), if any.
   */
  async caption(
    image: Buffer,
    options: DecodingOptions,
    admission: AdmissionTicket,
    room?: QueueRoom,
  ): Promise<CaptionResponseDto> {
    const started = performance.now();
    const model = this.loadedModel();

    const key = this.cache.key(image, options, model.fingerprint);
    const hit = this.fromCache(key);
    if (hit) {
      admission.leaveIntake();
      // The answer's timings are this request's: no stage ran, only the lookup.
      const total = round(performance.now() - started);
      const timings = { image_decode: 0, queue_wait: 0, encoder: 0, decoding: 0, total };
      return toCaptionResponse({ ...hit, timings }, options, model, true);
    }

    const decodeStarted = performance.now();
    const input = await this.intake
      .toModelInput(image, model.inputSize, admission.signal)
      .finally(() => admission.leaveIntake());
    const imageDecodeMs = performance.now() - decodeStarted;

    const result = await this.scheduler.submit(
      input.rgb,
      options,
      admission.signal,
      admission.deadlineAt,
      room,
    );

    const answer = this.record(result, imageDecodeMs, started);
    if (key !== undefined) this.cache.set(key, answer);
    return toCaptionResponse(answer, options, model, false);
  }

  /** Admission checked readiness on arrival; a request admitted before a drain still finishes. */
  private loadedModel(): LoadedModel {
    const model = this.status.model;
    if (!model || !this.status.hasStarted) {
      throw new ProblemError('not_ready', 'The model is still loading; retry shortly.');
    }
    return model;
  }

  private fromCache(key: string | undefined): CachedCaption | undefined {
    if (key === undefined) return undefined;
    const hit = this.cache.get(key);
    this.metrics.cache(hit !== undefined);
    if (hit) this.metrics.request('cached');
    return hit;
  }

  private record(result: ScheduledCaption, imageDecodeMs: number, started: number): CachedCaption {
    this.metrics.stage('image_decode', imageDecodeMs);
    this.metrics.stage('queue_wait', result.queueMs);
    this.metrics.stage('encoder', result.encoderMs);
    this.metrics.stage('decoding', result.decodingMs);
    this.metrics.generatedTokens(result.tokenIds.length);
    this.metrics.request('ok');
    return {
      caption: result.text,
      confidence: result.confidence,
      captions: result.sequences.map((s) => ({ caption: s.text, confidence: s.confidence })),
      tokens: result.tokenIds.length,
      batchImages: result.batchImages,
      timings: {
        image_decode: round(imageDecodeMs),
        queue_wait: round(result.queueMs),
        encoder: round(result.encoderMs),
        decoding: round(result.decodingMs),
        total: round(performance.now() - started),
      },
    };
  }
}

function round(ms: number): number {
  return Math.round(ms * 10) / 10;
}
