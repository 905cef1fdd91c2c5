import { DynamicModule, Module } from '@nestjs/common';
import { CaptionModule } from './caption/caption.module';
import { LoggingModule } from './common/logging/logging.module';
import { ProblemModule } from './common/problem/problem.module';
import { AppConfig } from './config/app-config';
import { ConfigModule } from './config/config.module';
import { HealthModule } from './health/health.module';
import { MetricsModule } from './metrics/metrics.module';
import { WebModule } from './web/web.module';

@Module({})
export class AppModule {
  static forRoot(config: AppConfig): DynamicModule {
    return {
      module: AppModule,
      imports: [
        ConfigModule.forRoot(config),
        LoggingModule.forRoot(config),
        MetricsModule,
        ProblemModule,
        CaptionModule,
        HealthModule,
        WebModule,
      ],
    };
  }
}
