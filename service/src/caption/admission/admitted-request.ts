import { ProblemError } from '../../common/problem/problem.error';
import type { BodyBudget } from './request-body';

/** What the rest of a caption request needs from its admission. */
export interface AdmissionTicket {
  /** Aborts, with the problem to answer, at the deadline, when the client leaves, or on drain. */
  readonly signal: AbortSignal;
  /** performance.now() time by which the request must be answered (REQUEST_TIMEOUT_MS from arrival). */
  readonly deadlineAt: number;
  /** The upload is decoded (or was answered from the cache): free its intake slot and bytes. */
  leaveIntake(): void;
}

/**
 * One admitted request, from arrival to its response closing. It holds an intake slot and its
 * reserved upload bytes until leaveIntake(), and is counted as in flight (drain waits for it)
 * until close(). Its signal aborts at the deadline (504), when the client leaves (499), or when
 * a drain times out (503); every stage (body, decode, queue, engine) listens to it.
 */
export class AdmittedRequest implements AdmissionTicket {
  readonly deadlineAt: number;
  private readonly controller = new AbortController();
  private readonly timer: NodeJS.Timeout;
  private inIntake = true;
  private closed = false;
  private reserved: number;

  constructor(
    uploadBytes: number,
    /** The body as admission allowed it: its most bytes, and the time it may take to arrive. */
    private readonly body: { maxBytes: number; timeoutMs: number },
    timeoutMs: number,
    private readonly hooks: {
      leftIntake(request: AdmittedRequest): void;
      closed(request: AdmittedRequest): void;
      /** Reserves more upload bytes for this request, or throws the refusal (429). */
      reserve(request: AdmittedRequest, bytes: number): void;
    },
  ) {
    this.reserved = uploadBytes;
    this.deadlineAt = performance.now() + timeoutMs;
    this.timer = setTimeout(
      () =>
        this.abort(
          new ProblemError(
            'request_timeout',
            `No caption within REQUEST_TIMEOUT_MS (${timeoutMs} ms) of the request's arrival; the work was dropped.`,
          ),
        ),
      timeoutMs,
    );
  }

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  /** Bytes of UPLOAD_BUFFER_BYTES this request holds until it leaves intake. */
  get uploadBytes(): number {
    return this.reserved;
  }

  /** What the body reader may take: the route's limit, BODY_TIMEOUT_MS, and this signal. */
  get bodyBudget(): BodyBudget {
    return { maxBytes: this.body.maxBytes, timeoutMs: this.body.timeoutMs, signal: this.signal };
  }

  /**
   * Holds `bytes` more of UPLOAD_BUFFER_BYTES until the request leaves intake, for image bytes
   * that arrive after the body (an image URL's): throws intake_full (429) when they do not fit.
   */
  reserve(bytes: number): void {
    if (!this.inIntake) throw new Error('upload bytes reserved after leaving intake');
    this.hooks.reserve(this, bytes);
    this.reserved += bytes;
  }

  get remainingMs(): number {
    return Math.max(0, this.deadlineAt - performance.now());
  }

  get isInIntake(): boolean {
    return this.inIntake;
  }

  abort(reason: Error): void {
    if (!this.controller.signal.aborted) this.controller.abort(reason);
  }

  leaveIntake(): void {
    if (!this.inIntake) return;
    this.inIntake = false;
    this.hooks.leftIntake(this);
  }

  /** The response is closed (sent, or the connection gone): release everything. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.timer);
    this.leaveIntake();
    this.hooks.closed(this);
  }
}
