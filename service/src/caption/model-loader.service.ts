import { Inject, Injectable, Logger, OnApplicationShutdown } from '@nestjs/common';
import { APP_CONFIG, AppConfig } from '../config/app-config';
import { CaptionMetrics } from '../metrics/caption-metrics.service';
import { defaultDecodingOptions } from './decoding-options/decoding-option-catalog';
import { CAPTION_ENGINE, CaptionEngine } from './engine/caption-engine';
import { ImageIntakeService } from './image/image-intake.service';
import { ModelStatusService, servedModelId } from './model-status.service';
import { CaptionScheduler } from './scheduler/caption-scheduler.service';

/**
 * Loads the model once, warms it with a real caption of a synthetic image through the same
 * intake and engine a request uses, and only then reports ready. Disposes it at shutdown.
 */
@Injectable()
export class ModelLoaderService implements OnApplicationShutdown {
  private readonly logger = new Logger(ModelLoaderService.name);
  private loading?: Promise<void>;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(CAPTION_ENGINE) private readonly engine: CaptionEngine,
    private readonly intake: ImageIntakeService,
    private readonly scheduler: CaptionScheduler,
    private readonly status: ModelStatusService,
    private readonly metrics: CaptionMetrics,
  ) {}

  /** Starts loading (once); the promise rejects with a one-line reason when loading fails. */
  load(): Promise<void> {
    this.loading ??= this.run().catch((error: Error) => {
      this.status.setFailed(error.message);
      throw error;
    });
    return this.loading;
  }

  private async run(): Promise<void> {
    const started = performance.now();
    const info = await this.engine.load();
    const model = { ...info, modelId: servedModelId(this.config.model.id, info) };
    this.status.setWarming(model);
    this.logger.log(
      `model ${model.modelId}@${model.revision} (${model.dtype}) loaded from ${model.modelDir}: ` +
        `${info.workers} worker(s) x ${info.threadsPerWorker} thread(s); warming up`,
    );
    const warmStarted = performance.now();
    const input = await this.intake.toModelInput(
      await ImageIntakeService.syntheticImage(),
      info.inputSize,
    );
    const warm = await this.scheduler.warmUp(
      input.rgb,
      defaultDecodingOptions(this.config.defaultNumBeams),
    );
    const seconds = (performance.now() - started) / 1000;
    this.metrics.modelLoaded(
      { model_id: model.modelId, revision: model.revision, dtype: model.dtype },
      seconds,
    );
    this.status.setReady();
    this.logger.log(
      `ready in ${seconds.toFixed(1)} s (warm-up caption: ${warm.tokenIds.length} tokens in ` +
        `${(performance.now() - warmStarted).toFixed(0)} ms)`,
    );
  }

  async onApplicationShutdown(): Promise<void> {
    // Also ends a load still in progress: its workers exit and load() rejects.
    await this.engine.dispose();
  }
}
