import { Injectable } from '@nestjs/common';
import { basename } from 'node:path';
import { CaptionMetrics } from '../metrics/caption-metrics.service';
import { EngineInfo } from './engine/caption-engine';

export type ModelState = 'loading' | 'warming' | 'ready' | 'failed';

export interface LoadedModel extends EngineInfo {
  /** What is really served: the hub id (MODEL_ID) for a pinned model, else the folder's name. */
  modelId: string;
}

/**
 * The id to report for a model: the hub id when the files are a pinned hub revision (MODEL_REVISION,
 * or recorded by model:pull), else the name of the folder, since an unpinned folder may hold any
 * weights (a random test model is not Xenova/vit-gpt2-image-captioning).
 */
export function servedModelId(hubId: string, info: EngineInfo): string {
  return info.revision === 'local' ? basename(info.modelDir) : hubId;
}

/** Where the model is in its life: read by health checks, the scheduler and responses. */
@Injectable()
export class ModelStatusService {
  private state: ModelState = 'loading';
  private draining = false;
  private loaded?: LoadedModel;
  private failure?: string;

  constructor(private readonly metrics: CaptionMetrics) {}

  get current(): ModelState {
    return this.state;
  }

  /** Loaded, warmed and not shutting down: may take captions. */
  get isReady(): boolean {
    return this.state === 'ready' && !this.draining;
  }

  /** Loaded and warmed at least once (the startup probe). */
  get hasStarted(): boolean {
    return this.state === 'ready';
  }

  get isDraining(): boolean {
    return this.draining;
  }

  get model(): LoadedModel | undefined {
    return this.loaded;
  }

  get failureReason(): string | undefined {
    return this.failure;
  }

  setWarming(model: LoadedModel): void {
    this.loaded = model;
    this.state = 'warming';
  }

  setReady(): void {
    this.state = 'ready';
    this.metrics.ready(!this.draining);
  }

  setFailed(reason: string): void {
    this.state = 'failed';
    this.failure = reason;
    this.metrics.ready(false);
  }

  setDraining(): void {
    this.draining = true;
    this.metrics.ready(false);
  }
}
