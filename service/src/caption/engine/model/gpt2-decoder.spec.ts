import { GPT2Tokenizer } from '@huggingface/transformers';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { TINY_MODEL } from '../../../../test/support/fixtures';
import { Gpt2Decoder } from './gpt2-decoder';

const tokenizerJson = JSON.parse(readFileSync(join(TINY_MODEL, 'tokenizer.json'), 'utf8'));
const tokenizerConfig = JSON.parse(readFileSync(join(TINY_MODEL, 'tokenizer_config.json'), 'utf8'));

describe('Gpt2Decoder', () => {
  const ours = Gpt2Decoder.fromModelDir(TINY_MODEL);
  // transformers.js as the oracle, without its WordPiece-style space clean-up (Python
  // transformers 5 does not apply it to BPE tokenizers).
  const oracle = new GPT2Tokenizer(tokenizerJson, {
    ...tokenizerConfig,
    clean_up_tokenization_spaces: false,
  });
  const reference = (ids: number[]) => oracle.decode(ids, { skip_special_tokens: true }).trim();

  it('round-trips text, punctuation, accents and emoji', () => {
    for (const text of [
      'a man riding a wave on top of a surfboard',
      "it's 12:30, isn't it?",
      'café naïve — über',
      'dogs 🐶 and cats 🐱',
    ]) {
      const ids = oracle.encode(text);
      expect(ours.decode(ids)).toBe(text);
    }
  });

  it('drops special tokens and trims, as the seed service does', () => {
    const ids = [50256, ...oracle.encode(' two birds on a branch '), 50256, 50256];
    expect(ours.decode(ids)).toBe('two birds on a branch');
  });

  it('matches the reference decoder on random id sequences', () => {
    let state = 12345;
    const random = () => (state = (Math.imul(state, 1103515245) + 12345) >>> 0) % 50257;
    for (let n = 0; n < 300; n++) {
      const ids = Array.from({ length: 1 + (n % 20) }, random);
      expect({ ids, text: ours.decode(ids) }).toEqual({ ids, text: reference(ids) });
    }
  });

  it('refuses ids outside the vocabulary', () => {
    expect(() => ours.decode([60000])).toThrow(/not in the vocabulary/);
  });
});
