import { Global, Module } from '@nestjs/common';
import {
  PrometheusModule,
  makeCounterProvider,
  makeGaugeProvider,
  makeHistogramProvider,
} from '@willsoto/nestjs-prometheus';
import { PROBLEM_CODES } from '../common/problem/problem-catalog';
import { PROBLEM_LISTENER } from '../common/problem/problem.filter';
import { CaptionMetrics, METRIC } from './caption-metrics.service';
import { CaptionProblemListener } from './caption-problem.listener';

const LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30];

/** Prometheus at /metrics: process defaults plus the service's own metrics, all present from boot. */
@Global()
@Module({
  imports: [PrometheusModule.register({ path: '/metrics', defaultMetrics: { enabled: true } })],
  providers: [
    makeHistogramProvider({
      name: METRIC.httpDuration,
      help: 'HTTP request duration by route, method and status.',
      labelNames: ['method', 'route', 'status_code'],
      buckets: LATENCY_BUCKETS,
    }),
    makeCounterProvider({
      name: METRIC.requests,
      help: 'Caption requests by outcome (ok, cached, error, rejected).',
      labelNames: ['outcome'],
    }),
    makeHistogramProvider({
      name: METRIC.stageDuration,
      help: 'Time spent per caption in each stage.',
      labelNames: ['stage'],
      buckets: LATENCY_BUCKETS,
    }),
    makeCounterProvider({ name: METRIC.tokens, help: 'Tokens generated for captions.' }),
    makeCounterProvider({
      name: METRIC.errors,
      help: 'Caption errors by problem code.',
      labelNames: ['code'],
    }),
    makeGaugeProvider({ name: METRIC.queueDepth, help: 'Captions waiting for the engine.' }),
    makeGaugeProvider({
      name: METRIC.queueCapacity,
      help: 'Most captions that may wait (QUEUE_MAX).',
    }),
    makeCounterProvider({
      name: METRIC.rejections,
      help: 'Captions refused or dropped before completion, by reason.',
      labelNames: ['reason'],
    }),
    makeHistogramProvider({
      name: METRIC.batchSize,
      help:
        'Images that shared the encoder run of each finished caption (observed once per caption; ' +
        'decoder rows are joined at any step, so this is not the decoding batch).',
      buckets: [1, 2, 3, 4, 6, 8, 12, 16, 24, 32, 64],
    }),
    makeCounterProvider({
      name: METRIC.cacheHits,
      help: 'Captions answered from the response cache.',
    }),
    makeCounterProvider({
      name: METRIC.cacheMisses,
      help: 'Caption requests not in the response cache.',
    }),
    makeGaugeProvider({
      name: METRIC.modelInfo,
      help: 'The loaded model (value 1).',
      labelNames: ['model_id', 'revision', 'dtype'],
    }),
    makeGaugeProvider({
      name: METRIC.modelLoadSeconds,
      help: 'Seconds from boot to a loaded, warmed model.',
    }),
    makeGaugeProvider({
      name: METRIC.modelReady,
      help: '1 when the model is loaded and warmed, else 0.',
    }),
    makeGaugeProvider({
      name: METRIC.intakeRequests,
      help: 'Caption requests uploading or decoding (bounded by INTAKE_MAX).',
    }),
    makeGaugeProvider({
      name: METRIC.intakeBytes,
      help: 'Upload bytes reserved for requests in intake (bounded by UPLOAD_BUFFER_BYTES).',
    }),
    makeGaugeProvider({
      name: METRIC.decodeMemory,
      help: 'Estimated memory reserved by running decodes (bounded by DECODE_MEMORY_BYTES).',
    }),
    CaptionMetrics,
    { provide: PROBLEM_LISTENER, useClass: CaptionProblemListener },
  ],
  exports: [CaptionMetrics, PROBLEM_LISTENER],
})
export class MetricsModule {
  constructor(metrics: CaptionMetrics) {
    metrics.initialise(PROBLEM_CODES);
  }
}
