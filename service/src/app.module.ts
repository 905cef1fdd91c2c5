import { DynamicModule, Module } from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import type { Request } from 'express';
import { CaptionModule } from './caption/caption.module';
import { LoggingModule } from './common/logging/logging.module';
import { ProblemCode } from './common/problem/problem-catalog';
import { ProblemFilter } from './common/problem/problem.filter';
import { AppConfig } from './config/app-config';
import { ConfigModule } from './config/config.module';
import { HealthModule } from './health/health.module';
import { CaptionMetrics } from './metrics/caption-metrics.service';
import { MetricsModule } from './metrics/metrics.module';
import { WebModule } from './web/web.module';

/** Load-shedding answers, as opposed to errors of the request or the service. */
const REFUSALS = new Set<ProblemCode>(['queue_full', 'not_ready', 'draining']);

@Module({})
export class AppModule {
  static forRoot(config: AppConfig): DynamicModule {
    return {
      module: AppModule,
      imports: [
        ConfigModule.forRoot(config),
        LoggingModule.forRoot(config),
        MetricsModule,
        CaptionModule,
        HealthModule,
        WebModule,
      ],
      providers: [
        {
          provide: APP_FILTER,
          inject: [CaptionMetrics],
          // Caption errors are counted by code, from whichever layer refused the request (guard,
          // upload, validation, engine); probe and 404 noise elsewhere is not.
          useFactory: (metrics: CaptionMetrics) =>
            new ProblemFilter((code, request: Request) => {
              if (request.path !== '/caption') return;
              metrics.error(code);
              metrics.request(REFUSALS.has(code) ? 'rejected' : 'error');
            }),
        },
      ],
    };
  }
}
