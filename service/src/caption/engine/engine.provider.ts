import { Logger, Provider } from '@nestjs/common';
import { APP_CONFIG, AppConfig } from '../../config/app-config';
import { CAPTION_ENGINE } from './caption-engine';
import { recordedRevision, resolveModelDir } from './model/model-store';
import { prepareOffThread } from './prepare/prepare-off-thread';
import { OnnxEngine } from './runtime/onnx-engine';

export const MODEL_SOURCE = Symbol('MODEL_SOURCE');

/** The model folder in use: MODEL_DIR, or the cache (downloaded first when allowed). */
export class ResolvedModel {
  private readonly logger = new Logger('ModelFiles');
  private located?: Promise<string>;

  constructor(private readonly config: AppConfig) {}

  locate(): Promise<string> {
    this.located ??= resolveModelDir(
      {
        modelId: this.config.model.id,
        revision: this.config.model.revision,
        hubUrl: this.config.model.hubUrl,
        cacheDir: this.config.model.cacheDir,
        allowRemote: this.config.model.allowRemote,
        localDir: this.config.model.dir,
      },
      this.config.model.dtype,
      (message) => this.logger.log(message),
    );
    return this.located;
  }

  /** The pinned commit: MODEL_REVISION, else what model:pull recorded in the folder, else "local". */
  revisionOf(modelDir: string): string {
    return this.config.model.revision ?? recordedRevision(modelDir) ?? 'local';
  }
}

export const engineProviders: Provider[] = [
  {
    provide: MODEL_SOURCE,
    inject: [APP_CONFIG],
    useFactory: (config: AppConfig) => new ResolvedModel(config),
  },
  {
    provide: CAPTION_ENGINE,
    inject: [APP_CONFIG, MODEL_SOURCE],
    useFactory: (config: AppConfig, source: ResolvedModel) => {
      const logger = new Logger('OnnxEngine');
      return new OnnxEngine({
        locateModel: () => source.locate(),
        revisionOf: (modelDir) => source.revisionOf(modelDir),
        prepare: (modelDir) =>
          prepareOffThread(
            { modelDir, dtype: config.model.dtype, fallbackCacheDir: config.model.cacheDir },
            (message) => logger.log(message),
          ),
        dtype: config.model.dtype,
        fidelity: config.engine.fidelity,
        workers: config.engine.workers,
        threadsPerWorker: config.engine.threads,
        spinning: config.engine.spinning,
        maxRows: config.engine.maxRows,
        maxImages: config.engine.maxBatch,
        joinBudgetMs: config.engine.joinBudgetMs,
        log: (message) => logger.log(message),
      });
    },
  },
];
