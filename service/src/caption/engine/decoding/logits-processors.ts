/**
 * The Hugging Face logits processors that the caption API exposes, applied in the order
 * `generate` applies them (repetition penalty, no-repeat n-gram, min new tokens). They act on one
 * row of scores in place; `sequence` is that row's tokens so far, decoder start token included,
 * as HF passes `input_ids`.
 */
import { DecoderSpec, DecodingOptions } from './decoding-options';

export function applyLogitsProcessors(
  scores: Float32Array,
  sequence: ArrayLike<number>,
  options: DecodingOptions,
  spec: DecoderSpec,
): void {
  if (options.repetitionPenalty !== 1) {
    applyRepetitionPenalty(scores, sequence, options.repetitionPenalty);
  }
  if (options.noRepeatNgramSize > 0) banRepeatedNgrams(scores, sequence, options.noRepeatNgramSize);
  if (options.minNewTokens > 0 && sequence.length - 1 < options.minNewTokens) {
    scores[spec.eosTokenId] = -Infinity;
  }
}

/** Each token already in the sequence: negative scores are multiplied, positive ones divided. */
export function applyRepetitionPenalty(
  scores: Float32Array,
  sequence: ArrayLike<number>,
  penalty: number,
): void {
  const seen = new Set<number>();
  for (let i = 0; i < sequence.length; i++) {
    const token = sequence[i];
    if (seen.has(token)) continue;
    seen.add(token);
    const s = scores[token];
    scores[token] = s < 0 ? s * penalty : s / penalty;
  }
}

/** Bans every token that would complete an n-gram already present in the sequence. */
export function banRepeatedNgrams(
  scores: Float32Array,
  sequence: ArrayLike<number>,
  n: number,
): void {
  const length = sequence.length;
  if (length < n) return;
  const prefixStart = length - n + 1;
  for (let start = 0; start + n <= length; start++) {
    let matches = true;
    for (let k = 0; k < n - 1 && matches; k++) {
      matches = sequence[start + k] === sequence[prefixStart + k];
    }
    if (matches) scores[sequence[start + n - 1]] = -Infinity;
  }
}

/** Index of the largest value; the first one on ties, as torch.argmax. */
export function argmax(row: Float32Array): number {
  let best = 0;
  for (let i = 1; i < row.length; i++) if (row[i] > row[best]) best = i;
  return best;
}
