/** Decoding settings of one request, with Hugging Face `generate` meanings. */
export interface DecodingOptions {
  maxNewTokens: number;
  minNewTokens: number;
  numBeams: number;
  /** Beam scores are divided by length ** lengthPenalty (HF: 1.0). */
  lengthPenalty: number;
  /** HF semantics: false (heuristic stop), true (stop when num_beams are finished), 'never'. */
  earlyStopping: boolean | 'never';
  /** 0 disables. */
  noRepeatNgramSize: number;
  /** 1 disables. */
  repetitionPenalty: number;
  /**
   * How many of the search's finished sequences to return, best first (HF `num_return_sequences`):
   * 1..numBeams; greedy search (numBeams 1) has one. Unset means 1.
   */
  numReturnSequences?: number;
}

/** The special tokens and sizes decoding needs from the model config. */
export interface DecoderSpec {
  decoderStartTokenId: number;
  eosTokenId: number;
  padTokenId: number;
  vocabSize: number;
}
