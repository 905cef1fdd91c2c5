import { Inject, Injectable } from '@nestjs/common';
import { plainToInstance } from 'class-transformer';
import { validateSync } from 'class-validator';
import { APP_CONFIG, AppConfig } from '../config/app-config';
import { ProblemError } from '../common/problem/problem.error';
import { CaptionMetrics } from '../metrics/caption-metrics.service';
import { CachedCaption, CaptionCache } from './cache/caption-cache.service';
import { CaptionOptionsDto } from './dto/caption-options.dto';
import { CaptionResponseDto } from './dto/caption-response.dto';
import { DecodingOptions } from './engine/caption-engine';
import { ImageIntakeService } from './image/image-intake.service';
import { ModelStatusService } from './model-status.service';
import { CaptionScheduler } from './scheduler/caption-scheduler.service';

/** Seed-compatible default: generate(max_length=16) is 15 new tokens after the start token. */
export const DEFAULT_MAX_NEW_TOKENS = 15;

/** What a request that sets no option gets (Hugging Face defaults, the seed's length and beams). */
export function defaultDecodingOptions(numBeams: number): DecodingOptions {
  return {
    maxNewTokens: DEFAULT_MAX_NEW_TOKENS,
    minNewTokens: 0,
    numBeams,
    lengthPenalty: 1,
    earlyStopping: false,
    noRepeatNgramSize: 0,
    repetitionPenalty: 1,
  };
}

@Injectable()
export class CaptionService {
  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly intake: ImageIntakeService,
    private readonly scheduler: CaptionScheduler,
    private readonly cache: CaptionCache,
    private readonly status: ModelStatusService,
    private readonly metrics: CaptionMetrics,
  ) {}

  /** Validates decoding options (query or form fields) and fills in the defaults. */
  decodingOptions(raw: Record<string, unknown>): DecodingOptions {
    const dto = plainToInstance(CaptionOptionsDto, raw);
    const errors = validateSync(dto, {
      whitelist: true,
      forbidNonWhitelisted: true,
      forbidUnknownValues: true,
    });
    if (errors.length > 0) {
      const messages = errors.flatMap((e) => Object.values(e.constraints ?? {}));
      throw new ProblemError('validation_failed', messages.join('; '), {
        fields: { errors: messages },
      });
    }
    const defaults = defaultDecodingOptions(this.config.defaultNumBeams);
    const options: DecodingOptions = {
      maxNewTokens: dto.max_new_tokens ?? defaults.maxNewTokens,
      minNewTokens: dto.min_new_tokens ?? defaults.minNewTokens,
      numBeams: dto.num_beams ?? defaults.numBeams,
      lengthPenalty: dto.length_penalty ?? defaults.lengthPenalty,
      earlyStopping: dto.early_stopping ?? defaults.earlyStopping,
      noRepeatNgramSize: dto.no_repeat_ngram_size ?? defaults.noRepeatNgramSize,
      repetitionPenalty: dto.repetition_penalty ?? defaults.repetitionPenalty,
    };
    if (options.minNewTokens > options.maxNewTokens) {
      throw new ProblemError(
        'validation_failed',
        `min_new_tokens (${options.minNewTokens}) must not exceed max_new_tokens (${options.maxNewTokens})`,
      );
    }
    const beamOnly = { length_penalty: dto.length_penalty, early_stopping: dto.early_stopping };
    if (options.numBeams === 1) {
      const given = Object.entries(beamOnly)
        .filter(([, v]) => v !== undefined)
        .map(([k]) => k);
      if (given.length > 0) {
        throw new ProblemError(
          'unsupported_option',
          `${given.join(' and ')} only apply to beam search; set num_beams above 1 or leave them out.`,
        );
      }
    }
    return options;
  }

  /** Successes are counted here; refusals and errors where they are answered (ProblemFilter). */
  async caption(
    image: Buffer,
    rawOptions: Record<string, unknown>,
    clientGone: AbortSignal,
  ): Promise<CaptionResponseDto> {
    const started = performance.now();
    const options = this.decodingOptions(rawOptions);
    const model = this.status.model;
    if (!model || !this.status.isReady) {
      throw new ProblemError('not_ready', 'The model is still loading; retry shortly.');
    }

    const key = this.cache.enabled ? this.cache.key(image, options, model.fingerprint) : '';
    const hit = this.cache.enabled ? this.cache.get(key) : undefined;
    if (this.cache.enabled) this.metrics.cache(hit !== undefined);
    if (hit) {
      this.metrics.request('cached');
      return this.response(hit, options, true);
    }

    const decodeStarted = performance.now();
    const input = await this.intake.toModelInput(image, model.inputSize);
    const imageDecode = performance.now() - decodeStarted;
    this.metrics.stage('image_decode', imageDecode);

    const result = await this.scheduler.submit(input.rgb, options, clientGone);
    this.metrics.stage('queue_wait', result.queueMs);
    this.metrics.stage('encoder', result.encoderMs);
    this.metrics.stage('decoding', result.decodingMs);
    this.metrics.generatedTokens(result.tokenIds.length);
    this.metrics.request('ok');
    const answer: CachedCaption = {
      caption: result.text,
      tokens: result.tokenIds.length,
      batchImages: result.batchImages,
      timings: {
        image_decode: round(imageDecode),
        queue_wait: round(result.queueMs),
        encoder: round(result.encoderMs),
        decoding: round(result.decodingMs),
        total: round(performance.now() - started),
      },
    };
    if (this.cache.enabled) this.cache.set(key, answer);
    return this.response(answer, options, false);
  }

  private response(
    answer: CachedCaption,
    options: DecodingOptions,
    cached: boolean,
  ): CaptionResponseDto {
    const model = this.status.model!;
    return {
      caption: answer.caption,
      model: { id: model.modelId, revision: model.revision, dtype: model.dtype },
      decoding: {
        num_beams: options.numBeams,
        max_new_tokens: options.maxNewTokens,
        min_new_tokens: options.minNewTokens,
        length_penalty: options.lengthPenalty,
        early_stopping: options.earlyStopping,
        no_repeat_ngram_size: options.noRepeatNgramSize,
        repetition_penalty: options.repetitionPenalty,
      },
      tokens: answer.tokens,
      cached,
      batch_images: answer.batchImages,
      timings_ms: answer.timings,
    };
  }
}

function round(ms: number): number {
  return Math.round(ms * 10) / 10;
}
