/**
 * Queue places held for captions a request will submit once their images are decoded (a
 * batch's files): each submit with the room takes one, release() gives back those not taken.
 */
export class QueueRoom {
  constructor(
    private left: number,
    private readonly free: (places: number) => void,
  ) {}

  /** Takes one place for a caption about to be queued; false when none is left. */
  take(): boolean {
    if (this.left === 0) return false;
    this.left--;
    this.free(1);
    return true;
  }

  /** Gives back the places not taken (images answered from the cache, or that failed). */
  release(): void {
    if (this.left > 0) this.free(this.left);
    this.left = 0;
  }
}
