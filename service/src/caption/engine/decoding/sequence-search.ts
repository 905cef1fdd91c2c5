/**
 * Greedy and beam search for one image, step by step, so that many images (each with its own
 * options) can share one batched decoder run. The beam search follows transformers' vectorised
 * `_beam_search` (v4.50+/v5) for a batch of one, including its fp32 arithmetic and its -1e9
 * sentinels, so that the token ids match `model.generate` on the same weights.
 */
import { DecoderSpec, DecodingOptions } from './decoding-options';
import { applyLogitsProcessors, argmax } from './logits-processors';
import { TopK } from './top-k';

/** One decoder step's scores for every row: [rows, vocab] each, row-major; only those asked for. */
export interface StepScores {
  logits?: Float32Array;
  /** log_softmax of logits (computed by the model runtime, in fp32). */
  logProbs?: Float32Array;
}

export type ScoreKind = keyof StepScores;

/** One returned sequence, as a search ranks it. */
export interface SearchedSequence {
  /** Generated token ids (decoder start token excluded, end-of-text included when produced). */
  tokenIds: number[];
  /**
   * exp(mean over the generated tokens of log p(token | image, tokens before)), with p the
   * model's own next-token distribution: softmax of the raw logits, before repetition penalty,
   * n-gram bans and the minimum length touch them (those reshape the search, but their scores
   * are no longer probabilities). The end-of-text token counts when it was generated.
   * It is the per-token geometric mean of the sequence's likelihood: in [0, 1], 1 only when the
   * model was certain of every token, and comparable between captions of different lengths,
   * which the sequence probability itself (the product) is not. It reuses what the search
   * already has: beam search reads the log-probabilities it ranks by, greedy search takes the
   * log-sum-exp of the logits row it already reads.
   */
  confidence: number;
}

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
  /** The numReturnSequences best sequences, best first. */
  result(): SearchedSequence[];
}

export function createSequenceSearch(options: DecodingOptions, spec: DecoderSpec): SequenceSearch {
  const problem = optionsProblem(options);
  if (problem) throw new RangeError(problem);
  return options.numBeams > 1 ? new BeamSearch(options, spec) : new GreedySearch(options, spec);
}

/** Why a search cannot run with these options, or undefined when it can. */
export function optionsProblem(options: DecodingOptions): string | undefined {
  const returned = options.numReturnSequences ?? 1;
  if (!Number.isInteger(options.numBeams) || options.numBeams < 1) {
    return `numBeams must be a positive integer, got ${options.numBeams}`;
  }
  // HF refuses the same: greedy search has one sequence, beam search at most num_beams.
  if (!Number.isInteger(returned) || returned < 1 || returned > options.numBeams) {
    return `numReturnSequences must be an integer from 1 to numBeams (${options.numBeams}), got ${returned}`;
  }
  return undefined;
}

/** log(sum(exp(row))), in double precision: the normalizer of the model's distribution. */
export function logSumExp(row: Float32Array): number {
  let max = -Infinity;
  for (let i = 0; i < row.length; i++) if (row[i] > max) max = row[i];
  if (max === -Infinity) return -Infinity;
  let sum = 0;
  for (let i = 0; i < row.length; i++) sum += Math.exp(row[i] - max);
  return max + Math.log(sum);
}

/** exp of the mean of the first `tokens` log-probabilities (0 for an empty sequence). */
function confidenceOf(logProbs: number[], tokens: number): number {
  if (tokens === 0) return 0;
  let sum = 0;
  for (let t = 0; t < tokens; t++) sum += logProbs[t];
  return Math.exp(sum / tokens);
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
  private readonly logProbs: number[] = [];

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
    const logits = required(step.logits, 'logits');
    const scores = logits.slice(firstRow * vocab, (firstRow + 1) * vocab);
    const normalizer = logSumExp(scores);
    applyLogitsProcessors(scores, this.sequence, this.options, this.spec);
    const token = argmax(scores);
    this.logProbs.push(logits[firstRow * vocab + token] - normalizer);
    this.sequence.push(token);
    if (token === this.spec.eosTokenId || this.sequence.length >= this.maxLength) this.done = true;
    return [0];
  }

  result(): SearchedSequence[] {
    const tokenIds = this.sequence.slice(1);
    return [{ tokenIds, confidence: confidenceOf(this.logProbs, tokenIds.length) }];
  }
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
  /** The model's raw log-probability of each token of each running beam (for confidence). */
  private runningLogProbs: number[][];
  private finished: number[][];
  private finishedScores: number[];
  private finishedFlags: boolean[];
  private finishedLogProbs: number[][];
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
    this.runningLogProbs = Array.from({ length: this.numBeams }, () => []);
    this.finishedLogProbs = Array.from({ length: this.numBeams }, () => []);
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
    // The unprocessed log-probabilities (the processors worked on a copy).
    const topLogProbs = top.map((c) => [
      ...this.runningLogProbs[c.beam],
      logProbs[(firstRow + c.beam) * vocab + c.token],
    ]);
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
    const nextRunningLogProbs = runningOrder.map(({ k }) => topLogProbs[k]);
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
        logProbs: this.finishedLogProbs[b],
      })),
      ...top.map((c, k) => {
        const justFinished = hitsStop[k] && k < this.numBeams;
        let score = f32(c.score / lengthNorm);
        if (beamsAreFull) score = f32(score + DEAD);
        if (!this.improvable) score = f32(score + DEAD);
        if (!justFinished) score = f32(score + DEAD);
        return { seq: topSequences[k], score, finished: justFinished, logProbs: topLogProbs[k] };
      }),
    ];
    const best = merged
      .map((m, index) => ({ ...m, index }))
      .sort(byScoreDesc)
      .slice(0, this.numBeams);
    this.finished = best.map((m) => m.seq);
    this.finishedScores = best.map((m) => m.score);
    this.finishedFlags = best.map((m) => m.finished);
    this.finishedLogProbs = best.map((m) => m.logProbs);

    this.running = nextRunning;
    this.runningScores = nextRunningScores;
    this.runningLogProbs = nextRunningLogProbs;
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

  /** HF returns the first num_return_sequences finished hypotheses, in their score order. */
  result(): SearchedSequence[] {
    const count = this.options.numReturnSequences ?? 1;
    return this.finished.slice(0, count).map((sequence, b) => {
      const end = sequence.indexOf(this.spec.eosTokenId, 1);
      const tokenIds = sequence.slice(1, end === -1 ? sequence.length : end + 1);
      return { tokenIds, confidence: confidenceOf(this.finishedLogProbs[b], tokenIds.length) };
    });
  }
}

function byScoreDesc(a: { score: number }, b: { score: number }): number {
  return b.score - a.score;
}
