import { Module } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { CaptionModule } from '../caption/caption.module';
import { HealthController } from './health.controller';
import { ModelHealthIndicator } from './model.health';

@Module({
  imports: [TerminusModule.forRoot({ logger: false }), CaptionModule],
  controllers: [HealthController],
  providers: [ModelHealthIndicator],
})
export class HealthModule {}
