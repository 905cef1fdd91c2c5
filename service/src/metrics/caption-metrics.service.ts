import { Injectable } from '@nestjs/common';
import { InjectMetric } from '@willsoto/nestjs-prometheus';
import type { Counter, Gauge, Histogram } from 'prom-client';

export const METRIC = {
  httpDuration: 'http_request_duration_seconds',
  requests: 'caption_requests_total',
  stageDuration: 'caption_stage_duration_seconds',
  tokens: 'caption_generated_tokens_total',
  errors: 'caption_errors_total',
  queueDepth: 'caption_queue_depth',
  queueCapacity: 'caption_queue_capacity',
  rejections: 'caption_queue_rejections_total',
  batchSize: 'caption_batch_size',
  cacheHits: 'caption_cache_hits_total',
  cacheMisses: 'caption_cache_misses_total',
  modelInfo: 'caption_model_info',
  modelLoadSeconds: 'caption_model_load_seconds',
  modelReady: 'caption_model_ready',
  intakeRequests: 'caption_intake_requests',
  intakeBytes: 'caption_intake_bytes',
  decodeMemory: 'caption_decode_memory_bytes',
} as const;

export type Stage = 'image_decode' | 'queue_wait' | 'encoder' | 'decoding';
export type Outcome = 'ok' | 'cached' | 'error' | 'rejected';
export type RejectionReason =
  'queue_full' | 'intake_full' | 'not_ready' | 'draining' | 'timeout' | 'client_closed';

const STAGES: Stage[] = ['image_decode', 'queue_wait', 'encoder', 'decoding'];
const OUTCOMES: Outcome[] = ['ok', 'cached', 'error', 'rejected'];
const REASONS: RejectionReason[] = [
  'queue_full',
  'intake_full',
  'not_ready',
  'draining',
  'timeout',
  'client_closed',
];

/** The service's metrics behind named methods, so callers cannot misspell a label. */
@Injectable()
export class CaptionMetrics {
  constructor(
    @InjectMetric(METRIC.httpDuration) private readonly httpDuration: Histogram<string>,
    @InjectMetric(METRIC.requests) private readonly requests: Counter<string>,
    @InjectMetric(METRIC.stageDuration) private readonly stageDuration: Histogram<string>,
    @InjectMetric(METRIC.tokens) private readonly tokens: Counter<string>,
    @InjectMetric(METRIC.errors) private readonly errors: Counter<string>,
    @InjectMetric(METRIC.queueDepth) private readonly queueDepth: Gauge<string>,
    @InjectMetric(METRIC.queueCapacity) private readonly queueCapacity: Gauge<string>,
    @InjectMetric(METRIC.rejections) private readonly rejections: Counter<string>,
    @InjectMetric(METRIC.batchSize) private readonly batchSize: Histogram<string>,
    @InjectMetric(METRIC.cacheHits) private readonly cacheHits: Counter<string>,
    @InjectMetric(METRIC.cacheMisses) private readonly cacheMisses: Counter<string>,
    @InjectMetric(METRIC.modelInfo) private readonly modelInfo: Gauge<string>,
    @InjectMetric(METRIC.modelLoadSeconds) private readonly modelLoadSeconds: Gauge<string>,
    @InjectMetric(METRIC.modelReady) private readonly modelReady: Gauge<string>,
    @InjectMetric(METRIC.intakeRequests) private readonly intakeRequests: Gauge<string>,
    @InjectMetric(METRIC.intakeBytes) private readonly intakeBytes: Gauge<string>,
    @InjectMetric(METRIC.decodeMemory) private readonly decodeMemory: Gauge<string>,
  ) {}

  /** Every labelled series starts at zero, so dashboards and alerts see them before traffic. */
  initialise(problemCodes: readonly string[]): void {
    for (const stage of STAGES) this.stageDuration.zero({ stage });
    for (const outcome of OUTCOMES) this.requests.inc({ outcome }, 0);
    for (const reason of REASONS) this.rejections.inc({ reason }, 0);
    for (const code of problemCodes) this.errors.inc({ code }, 0);
    this.tokens.inc(0);
    this.cacheHits.inc(0);
    this.cacheMisses.inc(0);
    this.queueDepth.set(0);
    this.modelReady.set(0);
    this.modelLoadSeconds.set(0);
    this.intakeRequests.set(0);
    this.intakeBytes.set(0);
    this.decodeMemory.set(0);
  }

  httpRequest(method: string, route: string, status: number, seconds: number): void {
    this.httpDuration.observe({ method, route, status_code: String(status) }, seconds);
  }

  request(outcome: Outcome): void {
    this.requests.inc({ outcome });
  }

  stage(stage: Stage, milliseconds: number): void {
    this.stageDuration.observe({ stage }, milliseconds / 1000);
  }

  generatedTokens(count: number): void {
    this.tokens.inc(count);
  }

  error(code: string): void {
    this.errors.inc({ code });
  }

  queue(depth: number, capacity: number): void {
    this.queueDepth.set(depth);
    this.queueCapacity.set(capacity);
  }

  /** Requests uploading or decoding, and the upload bytes reserved for them. */
  intake(requests: number, bytes: number): void {
    this.intakeRequests.set(requests);
    this.intakeBytes.set(bytes);
  }

  /** Estimated memory reserved by decodes running now. */
  decodeMemoryReserved(bytes: number): void {
    this.decodeMemory.set(bytes);
  }

  rejected(reason: RejectionReason): void {
    this.rejections.inc({ reason });
  }

  batch(images: number): void {
    this.batchSize.observe(images);
  }

  cache(hit: boolean): void {
    (hit ? this.cacheHits : this.cacheMisses).inc();
  }

  modelLoaded(
    labels: { model_id: string; revision: string; dtype: string },
    loadSeconds: number,
  ): void {
    this.modelInfo.reset();
    this.modelInfo.set(labels, 1);
    this.modelLoadSeconds.set(loadSeconds);
  }

  ready(isReady: boolean): void {
    this.modelReady.set(isReady ? 1 : 0);
  }
}
