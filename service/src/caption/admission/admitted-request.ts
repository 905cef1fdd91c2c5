import { ProblemError } from '../../common/problem/problem.error';

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

  constructor(
    readonly uploadBytes: number,
    timeoutMs: number,
    private readonly hooks: {
      leftIntake(request: AdmittedRequest): void;
      closed(request: AdmittedRequest): void;
    },
  ) {
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
