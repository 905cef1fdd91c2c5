import { Inject, Injectable, Logger, OnModuleDestroy } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { APP_CONFIG, AppConfig } from '../../config/app-config';
import { ProblemError } from '../../common/problem/problem.error';
import { CaptionMetrics, RejectionReason } from '../../metrics/caption-metrics.service';
import {
  CAPTION_ENGINE,
  CaptionEngine,
  DecodingOptions,
  EngineResult,
  WorkerLostError,
} from '../engine/caption-engine';
import { ModelStatusService } from '../model-status.service';
import { QueueRoom } from './queue-room';

export interface ScheduledCaption extends EngineResult {
  queueMs: number;
}

/** A client that went away before its caption was ready. */
export class ClientClosedError extends ProblemError {
  constructor() {
    super('client_closed', 'The client closed the connection; its caption was dropped.');
  }
}

interface Ticket {
  id: string;
  rgb: Uint8Array;
  options: DecodingOptions;
  enqueuedAt: number;
  startedAt?: number;
  state: 'queued' | 'running' | 'settled';
  timer: NodeJS.Timeout;
  resolve(result: ScheduledCaption): void;
  reject(error: Error): void;
}

/**
 * The bounded queue in front of the engine. Requests wait here (at most QUEUE_MAX, else 429 at
 * once with a Retry-After from the queue depth and recent service time); whenever the engine has
 * room (ENGINE_MAX_ROWS decoder rows, ENGINE_MAX_BATCH images per worker), the next one joins
 * the running batch (continuous batching). Every request has a deadline (REQUEST_TIMEOUT_MS ->
 * 504) and is dropped from the queue, or from its running batch at the next decoder step, when
 * it times out or its client disconnects. Places for several images (a batch) can be held up
 * front (reserveRoom). One file of ~360 lines: the queue, the room checks and the feed to the
 * engine share one state (the queue, the held places, the recent pace).
 */
@Injectable()
export class CaptionScheduler implements OnModuleDestroy {
  private readonly logger = new Logger(CaptionScheduler.name);
  private readonly queue: Ticket[] = [];
  private readonly running = new Map<string, Ticket>();
  private batchTimer?: NodeJS.Timeout;
  private draining = false;
  private drained?: () => void;
  /** Exponentially weighted seconds of engine time per image. */
  private secondsPerImage = 1;
  /** Places held by QueueRooms: captions that will be queued once decoded. */
  private reserved = 0;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(CAPTION_ENGINE) private readonly engine: CaptionEngine,
    private readonly status: ModelStatusService,
    private readonly metrics: CaptionMetrics,
  ) {
    this.publishDepth();
    // A lost worker frees nothing to pump, but its replacement does: queued captions start on
    // it the moment it is ready, not when some other batch happens to finish.
    this.status.setEngineCapacity(engine.capacity);
    engine.onCapacityChange((capacity) => {
      this.status.setEngineCapacity(capacity);
      this.pump();
    });
  }

  /** Refuses early (before the upload is read) when a caption could not be accepted anyway. */
  assertAccepting(): void {
    if (this.draining) {
      throw this.refusal('draining', 'The service is shutting down; retry on another instance.');
    }
    if (!this.status.isReady) {
      throw this.refusal('not_ready', this.status.notReadyDetail!);
    }
    this.assertRoom();
  }

  /**
   * Queue room only (a request admitted before a drain began may still join the queue), for
   * `images` captions that must finish within `withinMs`. Places held by QueueRooms count as
   * taken.
   */
  private assertRoom(images = 1, withinMs = this.config.queue.requestTimeoutMs): void {
    if (!this.status.hasStarted) {
      throw this.refusal('not_ready', 'The model is still loading; retry shortly.');
    }
    const ahead = this.queue.length + this.reserved;
    const { max } = this.config.queue;
    const retryAfter = { 'Retry-After': String(this.retryAfterSeconds()) };
    if (ahead + images > max) {
      const detail =
        images === 1
          ? `${waiting(ahead)} already waiting.`
          : `${waiting(ahead)} already waiting; the queue (QUEUE_MAX ${max}) has room for ` +
            `${Math.max(0, max - ahead)} of this batch's ${images} images.`;
      throw this.refusal('queue_full', detail, retryAfter);
    }
    // Work that would only time out in the queue is refused now, while the client can still
    // go elsewhere, instead of costing it the whole deadline and a 504. A lone caption is never
    // refused on the estimate; a batch is, even alone, since its own images queue behind each
    // other.
    const expectedWaitMs =
      (this.expectedQueueSeconds(ahead + images) + this.secondsPerImage) * 1000;
    if ((ahead > 0 || images > 1) && expectedWaitMs > withinMs) {
      const which =
        images === 1
          ? 'this one'
          : `this batch of ${images} images${ahead === 0 ? ' (send fewer)' : ''}`;
      throw this.refusal(
        'queue_full',
        `${waiting(ahead)} waiting; at the recent pace ${which} would not finish within REQUEST_TIMEOUT_MS.`,
        retryAfter,
      );
    }
  }

  /**
   * Holds queue places for `images` captions that will be submitted one by one as their images
   * are decoded (a batch's files), after checking the queue can take all of them by `deadlineAt`
   * at the recent pace: the batch is refused as a whole (429) up front, and none of its files is
   * refused later for places others took meanwhile.
   */
  reserveRoom(images: number, deadlineAt: number): QueueRoom {
    this.assertRoom(images, deadlineAt - performance.now());
    this.reserved += images;
    return new QueueRoom(images, (places) => (this.reserved -= places));
  }

  /**
   * Queues a caption until `deadlineAt` (performance.now() time; by default REQUEST_TIMEOUT_MS
   * from now). `signal` drops it from the queue or its batch; a ProblemError reason
   * (request_timeout, draining) is the answer, any other reason means the client left. With a
   * `room` that has a place left, the caption takes it instead of checking for room.
   */
  submit(
    rgb: Uint8Array,
    options: DecodingOptions,
    signal: AbortSignal,
    deadlineAt = performance.now() + this.config.queue.requestTimeoutMs,
    room?: QueueRoom,
  ): Promise<ScheduledCaption> {
    if (!room?.take()) this.assertRoom();
    return new Promise<ScheduledCaption>((resolve, reject) => {
      const ticket: Ticket = {
        id: randomUUID(),
        rgb,
        options,
        enqueuedAt: performance.now(),
        state: 'queued',
        timer: setTimeout(() => this.expire(ticket), Math.max(0, deadlineAt - performance.now())),
        resolve,
        reject,
      };
      const onGone = () => this.abandon(ticket, ...rejectionFor(signal.reason));
      if (signal.aborted) return onGone();
      signal.addEventListener('abort', onGone, { once: true });
      this.queue.push(ticket);
      this.publishDepth();
      this.pump();
    });
  }

  /** Runs one caption ahead of readiness (the warm-up), bypassing the queue limits; its time seeds the pace. */
  async warmUp(rgb: Uint8Array, options: DecodingOptions): Promise<EngineResult> {
    return new Promise<EngineResult>((resolve, reject) => {
      const id = `warm-up-${randomUUID()}`;
      const started = performance.now();
      this.engine.submit(
        { id, rgb, options },
        {
          onResult: (_id, result) => {
            this.secondsPerImage = (performance.now() - started) / 1000;
            resolve(result);
          },
          onCancelled: () => reject(new Error('warm-up cancelled')),
          onError: (_id, error) => reject(error),
        },
      );
    });
  }

  get depth(): number {
    return this.queue.length;
  }

  get inFlight(): number {
    return this.running.size;
  }

  /** Called first on shutdown: stop accepting, let accepted captions finish, within the timeout. */
  async onModuleDestroy(): Promise<void> {
    this.draining = true;
    this.status.setDraining();
    if (this.queue.length === 0 && this.running.size === 0) return;
    this.logger.log(`draining: ${this.running.size} running, ${this.queue.length} queued`);
    const timeout = new Promise<'timeout'>((resolve) =>
      setTimeout(() => resolve('timeout'), this.config.shutdownTimeoutMs).unref(),
    );
    const done = new Promise<'done'>((resolve) => (this.drained = () => resolve('done')));
    if ((await Promise.race([done, timeout])) === 'timeout') {
      const left = [...this.queue, ...this.running.values()];
      this.logger.warn(`drain timeout: answering ${left.length} unfinished captions with 503`);
      for (const ticket of left) {
        this.abandon(
          ticket,
          'draining',
          this.refusal('draining', 'The service shut down before this caption finished.'),
        );
      }
    }
  }

  /**
   * Feeds the engine in queue order whenever it has room: a caption's rows join the running
   * batch at the next decoder step. An idle engine waits up to ENGINE_MAX_WAIT_MS for company
   * (captions arriving together run their encoders together); a busy one takes each caption as
   * soon as it fits (rows per step, images per worker).
   */
  private pump(): void {
    clearTimeout(this.batchTimer);
    this.batchTimer = undefined;
    const { maxBatch, maxWaitMs } = this.config.engine;
    if (this.queue.length > 0 && this.queue.length < maxBatch && this.engine.inFlight === 0) {
      const waited = performance.now() - this.queue[0].enqueuedAt;
      if (waited < maxWaitMs) {
        this.batchTimer = setTimeout(() => this.pump(), maxWaitMs - waited);
        return;
      }
    }
    while (this.queue.length > 0 && this.engine.hasRoomFor(this.queue[0].options)) {
      this.start(this.queue.shift()!);
    }
    this.publishDepth();
  }

  private start(ticket: Ticket): void {
    const startedAt = performance.now();
    ticket.state = 'running';
    ticket.startedAt = startedAt;
    this.running.set(ticket.id, ticket);
    const concurrency = this.engine.inFlight + 1;
    const settle = (outcome: (t: Ticket) => void) => {
      // Not running any more: already answered (deadline, client gone, drain timeout).
      if (!this.running.delete(ticket.id)) return;
      this.finish(ticket, () => outcome(ticket));
      this.checkDrained();
    };
    this.engine.submit(
      { id: ticket.id, rgb: ticket.rgb, options: ticket.options },
      {
        onResult: (_id, result) => {
          // Seconds of engine time per image at the concurrency this caption ran with.
          const seconds = (performance.now() - startedAt) / 1000;
          this.secondsPerImage = 0.8 * this.secondsPerImage + (0.2 * seconds) / concurrency;
          this.metrics.batch(result.batchImages);
          settle((t) => t.resolve({ ...result, queueMs: startedAt - t.enqueuedAt }));
        },
        onCancelled: () => settle((t) => t.reject(new Error('caption cancelled'))),
        onError: (_id, error) => settle((t) => t.reject(engineProblem(error))),
      },
    );
  }

  private finish(ticket: Ticket, answer: () => void): void {
    if (ticket.state === 'settled') return;
    ticket.state = 'settled';
    clearTimeout(ticket.timer);
    answer();
  }

  private expire(ticket: Ticket): void {
    this.abandon(
      ticket,
      'timeout',
      new ProblemError(
        'request_timeout',
        `No caption within REQUEST_TIMEOUT_MS (${this.config.queue.requestTimeoutMs} ms) of the request's arrival; the work was dropped.`,
      ),
    );
  }

  /** Takes a ticket out of the queue, or out of its running batch, and answers it with `error`. */
  private abandon(ticket: Ticket, reason: RejectionReason, error: Error): void {
    if (ticket.state === 'settled') return;
    if (ticket.state === 'queued') {
      const index = this.queue.indexOf(ticket);
      if (index >= 0) this.queue.splice(index, 1);
      this.publishDepth();
    } else {
      this.running.delete(ticket.id);
      this.engine.cancel(ticket.id);
    }
    this.metrics.rejected(reason);
    this.finish(ticket, () => ticket.reject(error));
    this.checkDrained();
  }

  private checkDrained(): void {
    if (this.draining && this.queue.length === 0 && this.running.size === 0) this.drained?.();
  }

  private refusal(
    code: 'queue_full' | 'not_ready' | 'draining',
    detail: string,
    headers?: Record<string, string>,
  ) {
    this.metrics.rejected(code);
    return new ProblemError(code, detail, headers ? { headers } : {});
  }

  /** Seconds until the queue ahead would drain at the recent pace (at least 1). */
  retryAfterSeconds(): number {
    return Math.max(1, Math.ceil(this.expectedWaitSeconds()));
  }

  /** Seconds until the queue ahead would drain at the recent pace. */
  expectedWaitSeconds(): number {
    return this.expectedQueueSeconds(this.queue.length + this.reserved);
  }

  /** Engine time for `images` queued captions at the recent pace (seconds per image). */
  private expectedQueueSeconds(images: number): number {
    return images * this.secondsPerImage;
  }

  private publishDepth(): void {
    this.metrics.queue(this.queue.length, this.config.queue.max);
  }
}

/** A lost worker is the engine's failure, answered as such (500 engine_failed); others as they are. */
function engineProblem(error: Error): Error {
  if (!(error instanceof WorkerLostError)) return error;
  return new ProblemError(
    'engine_failed',
    `The caption failed: ${error.message}. The worker is being replaced; the request was not retried and may be sent again.`,
  );
}

/** What a request's abort means: its deadline, a drain, or (any other reason) a client that left. */
function rejectionFor(reason: unknown): [RejectionReason, Error] {
  const code = reason instanceof ProblemError ? reason.code : undefined;
  if (code === 'request_timeout') return ['timeout', reason as ProblemError];
  if (code === 'draining') return ['draining', reason as ProblemError];
  return ['client_closed', new ClientClosedError()];
}

/** "1 caption is", "2 captions are". */
function waiting(count: number): string {
  return count === 1 ? '1 caption is' : `${count} captions are`;
}
