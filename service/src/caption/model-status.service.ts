import { Injectable } from '@nestjs/common';
import { basename } from 'node:path';
import { CaptionMetrics } from '../metrics/caption-metrics.service';
import { EngineCapacity, EngineInfo } from './engine/caption-engine';

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
  /** Unknown until the engine reports it (the scheduler relays every change). */
  private workers?: EngineCapacity;

  constructor(private readonly metrics: CaptionMetrics) {}

  get current(): ModelState {
    return this.state;
  }

  /** Loaded, warmed, not shutting down, and an inference worker can take work: may take captions. */
  get isReady(): boolean {
    return this.state === 'ready' && !this.draining && this.hasWorkers;
  }

  /** False while no inference worker can serve (all lost; replacements starting or failing). */
  get hasWorkers(): boolean {
    return this.workers === undefined || this.workers.ready > 0;
  }

  get engineCapacity(): EngineCapacity | undefined {
    return this.workers;
  }

  /** Why captions are refused now, for the 503 detail; undefined when ready. */
  get notReadyDetail(): string | undefined {
    if (this.isReady) return undefined;
    if (this.draining) return 'The service is shutting down; retry on another instance.';
    if (this.state !== 'ready') return 'The model is still loading; retry shortly.';
    return this.workers?.starting
      ? 'No inference worker is running; a replacement is starting. Retry shortly.'
      : 'No inference worker is running and none could be started; retry on another instance.';
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
    this.metrics.ready(this.isReady);
  }

  setFailed(reason: string): void {
    this.state = 'failed';
    this.failure = reason;
    this.metrics.ready(false);
  }

  setEngineCapacity(capacity: EngineCapacity): void {
    this.workers = { ...capacity };
    if (this.state === 'ready') this.metrics.ready(this.isReady);
  }

  setDraining(): void {
    this.draining = true;
    this.metrics.ready(false);
  }
}
