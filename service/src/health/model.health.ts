import { Injectable } from '@nestjs/common';
import { HealthIndicatorResult, HealthIndicatorService } from '@nestjs/terminus';
import { ModelStatusService } from '../caption/model-status.service';
import { CaptionScheduler } from '../caption/scheduler/caption-scheduler.service';

@Injectable()
export class ModelHealthIndicator {
  constructor(
    private readonly indicator: HealthIndicatorService,
    private readonly status: ModelStatusService,
    private readonly scheduler: CaptionScheduler,
  ) {}

  isReady(key: string): HealthIndicatorResult {
    const details = this.details();
    const check = this.indicator.check(key);
    return this.status.isReady ? check.up(details) : check.down(details);
  }

  hasStarted(key: string): HealthIndicatorResult {
    const details = this.details();
    const check = this.indicator.check(key);
    return this.status.hasStarted ? check.up(details) : check.down(details);
  }

  private details(): Record<string, unknown> {
    const model = this.status.model;
    return {
      state: this.status.current,
      draining: this.status.isDraining,
      ...(this.status.failureReason ? { failure: this.status.failureReason } : {}),
      ...(model ? { model: `${model.modelId}@${model.revision}`, dtype: model.dtype } : {}),
      ...(this.status.engineCapacity
        ? {
            workers_ready: this.status.engineCapacity.ready,
            workers_starting: this.status.engineCapacity.starting,
          }
        : {}),
      queue_depth: this.scheduler.depth,
      in_flight: this.scheduler.inFlight,
    };
  }
}
