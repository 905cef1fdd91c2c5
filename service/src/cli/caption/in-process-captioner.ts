import { INestApplicationContext, LoggerService } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { readFile, stat } from 'node:fs/promises';
import { AppModule } from '../../app.module';
import { CaptionService } from '../../caption/caption.service';
import { DecodingOptionsPipe } from '../../caption/decoding-options/decoding-options.pipe';
import { DecodingOptions } from '../../caption/engine/caption-engine';
import { assertModelAvailable, modelSourceOf } from '../../caption/engine/model/model-store';
import { ModelUnavailableError } from '../../caption/engine/model/model-spec';
import { ModelLoaderService } from '../../caption/model-loader.service';
import { PROBLEMS } from '../../common/problem/problem-catalog';
import { toProblem } from '../../common/problem/problem.filter';
import { AppConfig } from '../../config/app-config';
import { Attempt, CaptionAnswer, Captioner, CaptionerUnavailableError } from './captioner';
import { retryAfter } from './http-captioner';

/**
 * The service's own caption pipeline (options, cache, intake, scheduler, engine) in this process:
 * the Nest application context of the app, without its HTTP layer. Answers and problems are the
 * ones the service would send for the same file.
 */
export class InProcessCaptioner implements Captioner {
  private app?: INestApplicationContext;
  private captions?: CaptionService;
  private readonly decoding: DecodingOptions;

  /** Throws a ProblemError (validation_failed, unsupported_option) for options the API would refuse. */
  constructor(
    private readonly config: AppConfig,
    options: Record<string, string>,
    private readonly logger: LoggerService,
  ) {
    // Checked as the HTTP captioner sends them: in the query string.
    this.decoding = new DecodingOptionsPipe(config).transform({ query: options });
  }

  async open(): Promise<void> {
    try {
      assertModelAvailable(modelSourceOf(this.config.model), this.config.model.dtype);
    } catch (error) {
      if (error instanceof ModelUnavailableError) {
        throw new CaptionerUnavailableError(error.message);
      }
      throw error;
    }
    this.app = await NestFactory.createApplicationContext(AppModule.forRoot(this.config), {
      logger: this.logger,
    });
    try {
      await this.app.get(ModelLoaderService).load();
    } catch (error) {
      throw new CaptionerUnavailableError(`model load failed: ${(error as Error).message}`);
    }
    this.captions = this.app.get(CaptionService);
  }

  async caption(file: string, signal: AbortSignal): Promise<Attempt> {
    // The same bound the upload has over HTTP, checked before reading the file.
    const { size } = await stat(file);
    if (size > this.config.http.maxUploadBytes) {
      return {
        ok: false,
        problem: {
          status: 413,
          code: 'payload_too_large',
          title: PROBLEMS.payload_too_large.title,
          detail: `The file (${size} bytes) is larger than MAX_UPLOAD_BYTES (${this.config.http.maxUploadBytes}).`,
        },
      };
    }
    try {
      const body = await this.captions!.caption(await readFile(file), this.decoding, {
        // No HTTP admission here: the CLI bounds its own concurrency; the caption keeps the
        // service's deadline, and the decode gate and queue bounds apply as they do for uploads.
        signal,
        deadlineAt: performance.now() + this.config.queue.requestTimeoutMs,
        leaveIntake: () => undefined,
      });
      return { ok: true, body: body as unknown as CaptionAnswer };
    } catch (error) {
      if (signal.aborted) throw error;
      const problem = toProblem(error);
      if (problem.code === 'internal_error') {
        // The HTTP layer logs these in full and hides them from the client; here the user is both.
        this.logger.error(`${file}: ${(error as Error).stack ?? String(error)}`);
      }
      return {
        ok: false,
        problem: {
          status: PROBLEMS[problem.code].status,
          code: problem.code,
          title: PROBLEMS[problem.code].title,
          detail: problem.detail,
        },
        retryAfterSeconds: retryAfter(problem.headers?.['Retry-After'] ?? null),
      };
    }
  }

  async close(): Promise<void> {
    // Drains the scheduler and ends the engine's worker threads.
    await this.app?.close();
  }
}
