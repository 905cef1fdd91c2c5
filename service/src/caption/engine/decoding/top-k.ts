export interface Candidate {
  score: number;
  beam: number;
  token: number;
}

/**
 * The k best (score, beam, token) offers, best first; on equal scores the earlier offer ranks
 * first. Scores are fp32 sums, as PyTorch adds fp32 tensors.
 */
export class TopK {
  private readonly items: Candidate[] = [];
  private threshold = -Infinity;

  constructor(private readonly k: number) {}

  /** Offers every token of one beam's log-probabilities plus that beam's running score. */
  offerRow(row: Float32Array, beamScore: number, beam: number): void {
    const fround = Math.fround;
    for (let token = 0; token < row.length; token++) {
      const score = fround(row[token] + beamScore);
      // Most tokens fall below the current k-th best: one comparison and on.
      if (score <= this.threshold) continue;
      this.insert(score, beam, token);
    }
  }

  private insert(score: number, beam: number, token: number): void {
    const items = this.items;
    let at = items.length;
    while (at > 0 && items[at - 1].score < score) at--;
    items.splice(at, 0, { score, beam, token });
    if (items.length > this.k) items.pop();
    if (items.length === this.k) this.threshold = items[this.k - 1].score;
  }

  sorted(): Candidate[] {
    return this.items;
  }
}
