/** Frees what acquire() reserved; calling it again does nothing. */
export type Release = () => void;

interface Waiter {
  bytes: number;
  grant(release: Release): void;
}

/**
 * Bounds image decodes: at most `slots` at once (each is one libvips thread on one libuv thread),
 * and at most `memoryBytes` of their estimated memory reserved at once. Waiters are served in
 * arrival order, so a large decode is not starved by small ones behind it. Written by hand: the
 * well-kept semaphores on npm count one resource, and this needs two taken together.
 */
export class DecodeGate {
  private running = 0;
  private reserved = 0;
  private readonly waiting: Waiter[] = [];
  /**
   * Recent seconds per decode (exponentially weighted), for admission's wait estimate. Starts
   * at 50 ms, a large photo's decode here; the warm-up decode and the first requests correct it.
   */
  private secondsPerDecode = 0.05;

  constructor(
    readonly slots: number,
    readonly memoryBytes: number,
  ) {}

  /** Seconds until a decode queued now would start, at the recent pace. */
  expectedWaitSeconds(): number {
    return ((this.running + this.waiting.length) * this.secondsPerDecode) / this.slots;
  }

  /** Decodes running, and waiting for a slot or memory. */
  get stats(): { running: number; waiting: number; reservedBytes: number } {
    return { running: this.running, waiting: this.waiting.length, reservedBytes: this.reserved };
  }

  /**
   * Resolves once a slot and `bytes` of memory are free; rejects with the signal's reason if it
   * aborts first. `bytes` above memoryBytes could never be granted: callers refuse those first.
   */
  acquire(bytes: number, signal: AbortSignal): Promise<Release> {
    if (bytes > this.memoryBytes) {
      return Promise.reject(new RangeError(`${bytes} bytes exceed the gate's ${this.memoryBytes}`));
    }
    if (signal.aborted) return Promise.reject(signal.reason as Error);
    return new Promise<Release>((resolve, reject) => {
      const onAbort = () => {
        const index = this.waiting.indexOf(waiter);
        if (index >= 0) this.waiting.splice(index, 1);
        reject(signal.reason as Error);
        // The head may have been waiting behind this one.
        this.serve();
      };
      const waiter: Waiter = {
        bytes,
        grant: (release) => {
          signal.removeEventListener('abort', onAbort);
          resolve(release);
        },
      };
      signal.addEventListener('abort', onAbort, { once: true });
      this.waiting.push(waiter);
      this.serve();
    });
  }

  private serve(): void {
    while (this.waiting.length > 0) {
      const head = this.waiting[0];
      if (this.running >= this.slots || this.reserved + head.bytes > this.memoryBytes) return;
      this.waiting.shift();
      this.running++;
      this.reserved += head.bytes;
      let released = false;
      const started = performance.now();
      head.grant(() => {
        if (released) return;
        released = true;
        const seconds = (performance.now() - started) / 1000;
        this.secondsPerDecode = 0.8 * this.secondsPerDecode + 0.2 * seconds;
        this.running--;
        this.reserved -= head.bytes;
        this.serve();
      });
    }
  }
}
