/**
 * Greedy and beam search for one image, step by step, so that many images (each with its own
 * options) can share one batched decoder run. The beam search follows transformers' vectorised
 * `_beam_search` (v4.50+/v5) for a batch of one, including its fp32 arithmetic and its -1e9
 * sentinels, so that the token ids match `model.generate` on the same weights.
 */
import { DecoderSpec, DecodingOptions } from './decoding-options';
import { applyLogitsProcessors, argmax } from './logits-processors';

/** One decoder step's scores for every row: [rows, vocab] each, row-major; only those asked for. */
export interface StepScores {
  logits?: Float32Array;
  /** log_softmax of logits (computed by the model runtime, in fp32). */
  logProbs?: Float32Array;
}

export type ScoreKind = keyof StepScores;

export interface SequenceSearch {
  /** Rows this image occupies in the next decoder step. */
  readonly rowCount: number;
  /** Which scores advance() reads. */
  readonly scores: ScoreKind;
  readonly done: boolean;
  /** The token each row feeds to the next decoder step. */
  nextTokens(): number[];
  /**
   * Consume this image's rows of the step's scores (starting at `firstRow`). Returns, for each
   * row of the next step, which of this image's current rows its cached keys/values come from.
   */
  advance(scores: StepScores, firstRow: number): number[];
  /** Generated token ids (decoder start token excluded, end-of-text included when produced). */
  result(): number[];
}

export function createSequenceSearch(options: DecodingOptions, spec: DecoderSpec): SequenceSearch {
  return options.numBeams > 1 ? new BeamSearch(options, spec) : new GreedySearch(options, spec);
}

const f32 = Math.fround;
const DEAD = -1e9;

function required(scores: Float32Array | undefined, kind: ScoreKind): Float32Array {
  if (!scores) throw new Error(`decoder step did not produce ${kind}`);
  return scores;
}

class GreedySearch implements SequenceSearch {
  readonly rowCount = 1;
  readonly scores = 'logits' as const;
  done = false;
  private readonly sequence: number[];
  private readonly maxLength: number;

  constructor(
    private readonly options: DecodingOptions,
    private readonly spec: DecoderSpec,
  ) {
    this.sequence = [spec.decoderStartTokenId];
    this.maxLength = 1 + options.maxNewTokens;
  }

  nextTokens(): number[] {
    return [this.sequence[this.sequence.length - 1]];
  }

  advance(step: StepScores, firstRow: number): number[] {
    const vocab = this.spec.vocabSize;
    // HF greedy search applies the processors to raw logits and takes the argmax.
    const scores = required(step.logits, 'logits').slice(firstRow * vocab, (firstRow + 1) * vocab);
    applyLogitsProcessors(scores, this.sequence, this.options, this.spec);
    const token = argmax(scores);
    this.sequence.push(token);
    if (token === this.spec.eosTokenId || this.sequence.length >= this.maxLength) this.done = true;
    return [0];
  }

  result(): number[] {
    return this.sequence.slice(1);
  }
}

interface Candidate {
  score: number;
  beam: number;
  token: number;
}

class BeamSearch implements SequenceSearch {
  readonly scores = 'logProbs' as const;
  done = false;
  readonly rowCount: number;
  private readonly numBeams: number;
  private readonly keep: number;
  private readonly maxLength: number;
  private curLen = 1;
  private running: number[][];
  private runningScores: number[];
  private finished: number[][];
  private finishedScores: number[];
  private finishedFlags: boolean[];
  private improvable = true;
  private scratch?: Float32Array;

  constructor(
    private readonly options: DecodingOptions,
    private readonly spec: DecoderSpec,
  ) {
    this.numBeams = options.numBeams;
    this.rowCount = options.numBeams;
    // One end-of-text id: keep 2 * num_beams candidates so num_beams can always continue.
    this.keep = 2 * this.numBeams;
    this.maxLength = 1 + options.maxNewTokens;
    this.running = Array.from({ length: this.numBeams }, () => [spec.decoderStartTokenId]);
    // Only the first beam is live at the start, so the beams do not all pick the same tokens.
    this.runningScores = Array.from({ length: this.numBeams }, (_, b) => (b === 0 ? 0 : DEAD));
    this.finished = Array.from({ length: this.numBeams }, () => [spec.decoderStartTokenId]);
    this.finishedScores = Array.from({ length: this.numBeams }, () => DEAD);
    this.finishedFlags = Array.from({ length: this.numBeams }, () => false);
  }

  nextTokens(): number[] {
    return this.running.map((seq) => seq[seq.length - 1]);
  }

  advance(step: StepScores, firstRow: number): number[] {
    const vocab = this.spec.vocabSize;
    const logProbs = required(step.logProbs, 'logProbs');
    const candidates = new TopK(this.keep);
    const row = (this.scratch ??= new Float32Array(vocab));
    for (let beam = 0; beam < this.numBeams; beam++) {
      // HF beam search applies the processors to log-probabilities.
      row.set(logProbs.subarray((firstRow + beam) * vocab, (firstRow + beam + 1) * vocab));
      applyLogitsProcessors(row, this.running[beam], this.options, this.spec);
      candidates.offerRow(row, this.runningScores[beam], beam);
    }
    const top = candidates.sorted();
    const newLength = this.curLen + 1;
    const topSequences = top.map((c) => [...this.running[c.beam], c.token]);
    const hitsStop = top.map(
      (c) => c.token === this.spec.eosTokenId || newLength >= this.maxLength,
    );

    // Next running beams: the best candidates that did not stop.
    const runningOrder = top
      .map((c, k) => ({ k, score: f32(c.score + (hitsStop[k] ? DEAD : 0)) }))
      .sort(byScoreDesc)
      .slice(0, this.numBeams);
    const nextRunning = runningOrder.map(({ k }) => topSequences[k]);
    const nextRunningScores = runningOrder.map(({ score }) => score);
    const sourceBeams = runningOrder.map(({ k }) => top[k].beam);

    // Finished hypotheses: merge the old ones with those of the top num_beams that just stopped.
    const generated = newLength - 1;
    const lengthNorm = f32(generated ** this.options.lengthPenalty);
    const beamsAreFull = this.finishedFlags.every(Boolean) && this.options.earlyStopping === true;
    const merged = [
      ...this.finished.map((seq, b) => ({
        seq,
        score: this.finishedScores[b],
        finished: this.finishedFlags[b],
      })),
      ...top.map((c, k) => {
        const justFinished = hitsStop[k] && k < this.numBeams;
        let score = f32(c.score / lengthNorm);
        if (beamsAreFull) score = f32(score + DEAD);
        if (!this.improvable) score = f32(score + DEAD);
        if (!justFinished) score = f32(score + DEAD);
        return { seq: topSequences[k], score, finished: justFinished };
      }),
    ];
    const best = merged
      .map((m, index) => ({ ...m, index }))
      .sort(byScoreDesc)
      .slice(0, this.numBeams);
    this.finished = best.map((m) => m.seq);
    this.finishedScores = best.map((m) => m.score);
    this.finishedFlags = best.map((m) => m.finished);

    this.running = nextRunning;
    this.runningScores = nextRunningScores;
    this.curLen = newLength;
    this.improvable = this.improvable && this.canStillImprove();
    const anyOpenBeam = !(this.finishedFlags.every(Boolean) && this.options.earlyStopping === true);
    const validContinuations = !hitsStop.every(Boolean);
    this.done = !(this.improvable && anyOpenBeam && validContinuations);
    return sourceBeams;
  }

  private canStillImprove(): boolean {
    const bestLength =
      this.options.earlyStopping === 'never' && this.options.lengthPenalty > 0
        ? this.maxLength - 1
        : this.curLen - 1;
    const bestPossible = f32(this.runningScores[0] / f32(bestLength ** this.options.lengthPenalty));
    const worstFinished = Math.min(...this.finishedScores);
    return this.finishedFlags.some(
      (isFinished) => bestPossible > (isFinished ? worstFinished : DEAD),
    );
  }

  result(): number[] {
    const best = this.finished[0];
    const end = best.indexOf(this.spec.eosTokenId, 1);
    return best.slice(1, end === -1 ? best.length : end + 1);
  }
}

function byScoreDesc(a: { score: number }, b: { score: number }): number {
  return b.score - a.score;
}

/**
 * The k best (score, beam, token) offers, best first; on equal scores the earlier offer ranks
 * first. Scores are fp32 sums, as PyTorch adds fp32 tensors.
 */
class TopK {
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
