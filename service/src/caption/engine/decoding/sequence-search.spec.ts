import { decodingOptions } from '../../../../test/support/decoding-options';
import { DecoderSpec, DecodingOptions } from './decoding-options';
import { SearchedSequence, StepScores, createSequenceSearch } from './sequence-search';

const V = 6;
const EOS = 5;
const spec: DecoderSpec = {
  decoderStartTokenId: EOS,
  eosTokenId: EOS,
  padTokenId: EOS,
  vocabSize: V,
};
const options = (o: Partial<DecodingOptions>): DecodingOptions =>
  decodingOptions({ maxNewTokens: 4, numBeams: 1, ...o });

/** A toy language model: next-token probabilities depend on the last token only. */
function toyModel(table: Record<number, number[]>) {
  return (lastTokens: number[]): StepScores => {
    const logProbs = new Float32Array(lastTokens.length * V);
    lastTokens.forEach((token, row) => {
      const probs = table[token];
      probs.forEach((p, v) => (logProbs[row * V + v] = Math.log(p)));
    });
    return { logits: logProbs, logProbs };
  };
}

function runAll(
  search: ReturnType<typeof createSequenceSearch>,
  model: (t: number[]) => StepScores,
): SearchedSequence[] {
  for (let step = 0; !search.done && step < 100; step++) {
    search.advance(model(search.nextTokens()), 0);
  }
  expect(search.done).toBe(true);
  return search.result();
}

function run(
  search: ReturnType<typeof createSequenceSearch>,
  model: (t: number[]) => StepScores,
): number[] {
  return runAll(search, model)[0].tokenIds;
}

/** The confidence definition computed independently: the table's probabilities along the path. */
function tableConfidence(table: Record<number, number[]>, ids: number[]): number {
  let previous = EOS;
  let sum = 0;
  for (const token of ids) {
    sum += Math.log(table[previous][token]);
    previous = token;
  }
  return Math.exp(sum / ids.length);
}

// From the start: token 0 is likeliest (0.5) but leads nowhere good; token 1 (0.4) leads to a
// near-certain token 2. Greedy takes 0; a beam of 2 finds 1 -> 2.
const TABLE = {
  [EOS]: [0.5, 0.4, 0.02, 0.02, 0.02, 0.04],
  0: [0.2, 0.2, 0.2, 0.2, 0.1, 0.1],
  1: [0.01, 0.01, 0.95, 0.01, 0.01, 0.01],
  2: [0.01, 0.01, 0.01, 0.01, 0.01, 0.95],
  3: [0.2, 0.2, 0.2, 0.2, 0.1, 0.1],
  4: [0.2, 0.2, 0.2, 0.2, 0.1, 0.1],
};

describe('sequence search', () => {
  it('greedy follows the single likeliest token and stops at end-of-text', () => {
    const ids = run(createSequenceSearch(options({ maxNewTokens: 6 }), spec), toyModel(TABLE));
    expect(ids).toEqual([0, 0, 0, 0, 0, 0]);
  });

  it('greedy stops after max_new_tokens', () => {
    expect(
      run(createSequenceSearch(options({ maxNewTokens: 2 }), spec), toyModel(TABLE)),
    ).toHaveLength(2);
  });

  it('beam search finds the likelier sequence greedy misses, ending with end-of-text', () => {
    const ids = run(
      createSequenceSearch(options({ numBeams: 2, maxNewTokens: 6 }), spec),
      toyModel(TABLE),
    );
    expect(ids).toEqual([1, 2, EOS]);
  });

  it('min_new_tokens keeps end-of-text away until enough tokens exist', () => {
    const ids = run(
      createSequenceSearch(options({ numBeams: 2, maxNewTokens: 6, minNewTokens: 4 }), spec),
      toyModel(TABLE),
    );
    expect(ids.length).toBeGreaterThanOrEqual(4);
    expect(ids.slice(0, 3)).not.toContain(EOS);
  });

  it('beam search reports which beam each next row continues (for the key/value cache)', () => {
    const search = createSequenceSearch(options({ numBeams: 2 }), spec);
    const model = toyModel(TABLE);
    expect(search.rowCount).toBe(2);
    const first = search.advance(model(search.nextTokens()), 0);
    expect(first).toEqual([0, 0]); // both live beams come from the only live start beam
    expect(search.nextTokens().sort()).toEqual([0, 1]);
  });

  it('reads only its own rows of a shared batch', () => {
    const search = createSequenceSearch(options({ numBeams: 1, maxNewTokens: 1 }), spec);
    const logits = new Float32Array(3 * V);
    logits[2 * V + 3] = 10; // row 2 prefers token 3
    logits[0 * V + 1] = 10; // row 0 would prefer token 1
    search.advance({ logits, logProbs: logits }, 2);
    expect(search.result().map((r) => r.tokenIds)).toEqual([[3]]);
  });

  describe('confidence', () => {
    it('greedy: exp of the mean log-probability of its tokens', () => {
      const [best] = runAll(
        createSequenceSearch(options({ maxNewTokens: 6 }), spec),
        toyModel(TABLE),
      );
      expect(best.confidence).toBeCloseTo((0.5 * 0.2 ** 5) ** (1 / 6), 6);
    });

    it('beam search: the same definition, end-of-text included', () => {
      const [best] = runAll(
        createSequenceSearch(options({ numBeams: 2, maxNewTokens: 6 }), spec),
        toyModel(TABLE),
      );
      expect(best.tokenIds).toEqual([1, 2, EOS]);
      expect(best.confidence).toBeCloseTo((0.4 * 0.95 * 0.95) ** (1 / 3), 6);
    });

    it("reads the model's own probabilities, not the penalised scores", () => {
      // Unnormalised logits (softmax is what makes them probabilities) and a penalty that
      // changes the path: the confidence is still the softmax probability of each chosen token.
      const table: Record<number, number[]> = {
        ...TABLE,
        0: [0.6, 0.1, 0.1, 0.1, 0.05, 0.05],
      };
      const model = (tokens: number[]): StepScores => {
        const logits = new Float32Array(tokens.length * V);
        tokens.forEach((t, r) => table[t].forEach((p, v) => (logits[r * V + v] = Math.log(p) + 3)));
        return { logits };
      };
      const [best] = runAll(
        createSequenceSearch(options({ maxNewTokens: 3, repetitionPenalty: 5 }), spec),
        model,
      );
      expect(best.tokenIds).not.toEqual([0, 0, 0]); // the penalty moved it off token 0
      expect(best.confidence).toBeCloseTo(tableConfidence(table, best.tokenIds), 6);
    });
  });

  describe('numReturnSequences', () => {
    it('returns the best finished hypotheses in rank order, each with its confidence', () => {
      const one = runAll(
        createSequenceSearch(options({ numBeams: 3, maxNewTokens: 4 }), spec),
        toyModel(TABLE),
      );
      const three = runAll(
        createSequenceSearch(
          options({ numBeams: 3, maxNewTokens: 4, numReturnSequences: 3 }),
          spec,
        ),
        toyModel(TABLE),
      );
      expect(one).toHaveLength(1);
      expect(three).toHaveLength(3);
      expect(three[0]).toEqual(one[0]);
      expect(new Set(three.map((r) => r.tokenIds.join())).size).toBe(3);
      for (const r of three) {
        expect(r.confidence).toBeCloseTo(tableConfidence(TABLE, r.tokenIds), 6);
      }
    });

    it.each([
      [{ numBeams: 1, numReturnSequences: 2 }],
      [{ numBeams: 3, numReturnSequences: 4 }],
      [{ numBeams: 3, numReturnSequences: 0 }],
    ])('refuses %o as HF does', (o) => {
      expect(() => createSequenceSearch(options(o), spec)).toThrow(/numReturnSequences/);
    });
  });
});
