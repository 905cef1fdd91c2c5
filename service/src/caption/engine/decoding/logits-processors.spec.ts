import { decodingOptions } from '../../../../test/support/decoding-options';
import { DecoderSpec } from './decoding-options';
import {
  applyLogitsProcessors,
  applyRepetitionPenalty,
  argmax,
  banRepeatedNgrams,
} from './logits-processors';

const spec: DecoderSpec = { decoderStartTokenId: 9, eosTokenId: 9, padTokenId: 9, vocabSize: 10 };
const base = decodingOptions({ maxNewTokens: 5, numBeams: 1 });

describe('logits processors (Hugging Face semantics)', () => {
  it('repetition penalty divides positive and multiplies negative scores, once per token', () => {
    const scores = Float32Array.from([2, -2, 4, 1, 0, 0, 0, 0, 0, 0]);
    applyRepetitionPenalty(scores, [0, 1, 1, 0], 2);
    expect(Array.from(scores.slice(0, 4))).toEqual([1, -4, 4, 1]);
  });

  it('bans tokens that would repeat an n-gram, including the start token', () => {
    // sequence 9 1 2 3 1 2 : bigram (1,2) seen, trigram (1,2,3) seen -> with n=3, prefix (1,2) bans 3
    const scores = new Float32Array(10);
    banRepeatedNgrams(scores, [9, 1, 2, 3, 1, 2], 3);
    expect(Array.from(scores)).toEqual([0, 0, 0, -Infinity, 0, 0, 0, 0, 0, 0]);
    const bigram = new Float32Array(10);
    banRepeatedNgrams(bigram, [9, 1, 2, 1], 2); // prefix 1 was followed by 2
    expect(bigram[2]).toBe(-Infinity);
    expect(Array.from(bigram).filter((s) => s === -Infinity)).toHaveLength(1);
  });

  it('does not ban anything before a full n-gram exists', () => {
    const scores = new Float32Array(10);
    banRepeatedNgrams(scores, [9, 1], 3);
    expect(Array.from(scores).every((s) => s === 0)).toBe(true);
  });

  it('forbids end-of-text until min_new_tokens are generated', () => {
    const options = { ...base, minNewTokens: 2 };
    const early = new Float32Array(10).fill(1);
    applyLogitsProcessors(early, [9, 4], options, spec); // one new token so far
    expect(early[9]).toBe(-Infinity);
    const later = new Float32Array(10).fill(1);
    applyLogitsProcessors(later, [9, 4, 5], options, spec);
    expect(later[9]).toBe(1);
  });

  it('argmax takes the first of equal maxima, as torch.argmax', () => {
    expect(argmax(Float32Array.from([1, 3, 3, 2]))).toBe(1);
  });
});
