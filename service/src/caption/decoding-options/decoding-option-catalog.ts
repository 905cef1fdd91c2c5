import type { DecodingOptions } from '../engine/caption-engine';

/** A numeric option: integer or real, in [minimum, maximum]. */
export interface NumericOptionSpec {
  kind: 'integer' | 'number';
  /** The DecodingOptions field this option fills. */
  field: keyof DecodingOptions;
  minimum: number;
  maximum: number;
  /** What a request that leaves the option out gets, or the setting that says. */
  default: number | 'DEFAULT_NUM_BEAMS';
  /** Only meaningful with num_beams > 1; giving it with greedy decoding is refused. */
  beamSearchOnly: boolean;
  description: string;
}

/** early_stopping: a boolean or the string 'never', as in Hugging Face `generate`. */
export interface EarlyStoppingSpec {
  kind: 'early_stopping';
  field: 'earlyStopping';
  values: readonly ['true', 'false', 'never'];
  default: boolean | 'never';
  beamSearchOnly: boolean;
  description: string;
}

export type DecodingOptionSpec = NumericOptionSpec | EarlyStoppingSpec;

/**
 * Every decoding option the API accepts: its range, default and documentation, in one place. The
 * request DTO, its validation, the Swagger document, the defaults of a request that sets nothing
 * and of the warm-up caption all read this table. Names and meanings are Hugging Face
 * `generate`'s (transformers `GenerationConfig`; transformers.js documents the same fields).
 */
export const DECODING_OPTIONS = {
  /**
   * The most tokens to generate after the decoder start token, end-of-text included. The seed
   * called `generate(max_length=16)`, which counts the start token: 15 new tokens. The upper
   * bound keeps one request's decoding time bounded (64 steps, ~1.6 s on the full-size model).
   */
  max_new_tokens: {
    kind: 'integer',
    field: 'maxNewTokens',
    minimum: 1,
    maximum: 64,
    default: 15,
    beamSearchOnly: false,
    description: "Most tokens to generate (the seed's max_length=16 is 15 new tokens).",
  },
  /**
   * The fewest new tokens before end-of-text may be chosen: its score is -inf until then
   * (Hugging Face `MinNewTokensLengthLogitsProcessor`). Must not exceed max_new_tokens.
   */
  min_new_tokens: {
    kind: 'integer',
    field: 'minNewTokens',
    minimum: 0,
    maximum: 64,
    default: 0,
    beamSearchOnly: false,
    description: 'Fewest tokens before end-of-text may be chosen (at most max_new_tokens).',
  },
  /**
   * Beam width; 1 decodes greedily. The default is the DEFAULT_NUM_BEAMS setting (4, the seed's
   * `num_beams=4`); beams share the image's cross-attention values, so 4 costs ~24% over greedy.
   */
  num_beams: {
    kind: 'integer',
    field: 'numBeams',
    minimum: 1,
    maximum: 8,
    default: 'DEFAULT_NUM_BEAMS',
    beamSearchOnly: false,
    description: 'Beam width; 1 decodes greedily. Default: DEFAULT_NUM_BEAMS (4, as the seed).',
  },
  /**
   * Exponent of the length normalisation of finished beams: a hypothesis scores its summed
   * log-probability divided by length ** length_penalty. Above 0 favours longer captions, below 0
   * shorter ones. Beam search only.
   */
  length_penalty: {
    kind: 'number',
    field: 'lengthPenalty',
    minimum: -5,
    maximum: 5,
    default: 1,
    beamSearchOnly: true,
    description: 'Beam scores are divided by length^length_penalty (beam search only).',
  },
  /**
   * When beam search stops: `false` stops once no unfinished beam can beat the finished ones
   * (a heuristic), `true` as soon as num_beams hypotheses are finished, `never` only when no
   * better one is possible at all. Beam search only.
   */
  early_stopping: {
    kind: 'early_stopping',
    field: 'earlyStopping',
    values: ['true', 'false', 'never'],
    default: false,
    beamSearchOnly: true,
    description: 'Beam search stop rule, as in Hugging Face generate (beam search only).',
  },
  /** No n-gram of this size may occur twice in a caption; 0 turns the rule off. */
  no_repeat_ngram_size: {
    kind: 'integer',
    field: 'noRepeatNgramSize',
    minimum: 0,
    maximum: 8,
    default: 0,
    beamSearchOnly: false,
    description: 'Forbid repeating any n-gram of this size (0: off).',
  },
  /**
   * Scores of tokens already generated are divided by this (multiplied when negative), as in
   * the CTRL paper and Hugging Face `RepetitionPenaltyLogitsProcessor`; 1 turns it off.
   */
  repetition_penalty: {
    kind: 'number',
    field: 'repetitionPenalty',
    minimum: 0.5,
    maximum: 5,
    default: 1,
    beamSearchOnly: false,
    description: 'Penalty for tokens already generated (1: off).',
  },
  /**
   * How many of the search's finished captions to return, best first (Hugging Face
   * `num_return_sequences`): 1..num_beams; greedy decoding has exactly one.
   */
  num_return_sequences: {
    kind: 'integer',
    field: 'numReturnSequences',
    minimum: 1,
    maximum: 8,
    default: 1,
    beamSearchOnly: false,
    description: 'Captions to return, best first (at most num_beams).',
  },
} as const satisfies Record<string, DecodingOptionSpec>;

export type DecodingOptionName = keyof typeof DECODING_OPTIONS;

export const DECODING_OPTION_NAMES = Object.keys(DECODING_OPTIONS) as DecodingOptionName[];

type UncoveredField = Exclude<
  keyof DecodingOptions,
  (typeof DECODING_OPTIONS)[DecodingOptionName]['field']
>;
/** Compiles only while every DecodingOptions field has an option here (so a default). */
export const EVERY_FIELD_HAS_AN_OPTION: [UncoveredField] extends [never] ? true : UncoveredField =
  true;

/** What a request that sets no option gets, given the DEFAULT_NUM_BEAMS setting. */
export function defaultDecodingOptions(defaultNumBeams: number): DecodingOptions {
  const options: Record<string, unknown> = {};
  for (const spec of Object.values(DECODING_OPTIONS) as DecodingOptionSpec[]) {
    options[spec.field] = spec.default === 'DEFAULT_NUM_BEAMS' ? defaultNumBeams : spec.default;
  }
  return options as unknown as DecodingOptions;
}
