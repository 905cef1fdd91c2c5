/**
 * Names of the tensors the prepared graphs read and write: the passes create them and the
 * runtime feeds and fetches them, so both sides take them from here. This is the only module of
 * the prepare side that the runtime imports.
 */

/** The decoder's token input, [rows, 1] int64 (names kept from the stock export). */
export const INPUT_IDS = 'input_ids';
/** The decoder's scores, [rows, 1, vocab]. */
export const LOGITS_OUTPUT = 'logits';
/** The encoder output the stock decoder reads; the once-per-image graph's only input. */
export const ENCODER_STATE_INPUT = 'encoder_hidden_states';
/** The merged decoder's switch between its first-step and with-past branches. */
export const USE_CACHE_BRANCH = 'use_cache_branch';
export const PAST_PREFIX = 'past_key_values.';
export const PRESENT_PREFIX = 'present.';

/** Added by encoderStatesAsShape: the 3-element shape of the encoder states, int64. */
export const ENCODER_SHAPE_INPUT = 'encoder_hidden_states_shape';
/** Added by reorderPastInGraph: row r of the step continues row beam_index[r] of the cache. */
export const BEAM_INDEX_INPUT = 'beam_index';
/**
 * Added by rowsAtOwnPositions: each row's own position (its tokens so far), [rows, 1] int64;
 * the step writes the row's new key/value at that index of the cache and masks what lies beyond.
 */
export const POSITION_IDS_INPUT = 'position_ids';
/** Added by rowsAtOwnPositions: how much of the fed cache is kept (the longest row's), [1] int64. */
export const CACHE_LENGTH_INPUT = 'cache_length';
/** Added by addLogSoftmaxOutput: log_softmax(logits) over the vocabulary, fp32. */
export const LOG_PROBS_OUTPUT = 'log_probs';

export type KeyOrValue = 'key' | 'value';

/** `past_key_values.<layer>.<key|value>`: the cache a step reads. */
export function pastName(layer: number, kv: KeyOrValue): string {
  return `${PAST_PREFIX}${layer}.${kv}`;
}

/** `present.<layer>.<key|value>`: the cache a step writes, fed back as the next step's past. */
export function presentName(layer: number, kv: KeyOrValue): string {
  return `${PRESENT_PREFIX}${layer}.${kv}`;
}

/** Every layer's key then value cache names, in the order the runtime keeps them. */
export function cacheNames(layers: number): { past: string[]; present: string[] } {
  const past: string[] = [];
  const present: string[] = [];
  for (let layer = 0; layer < layers; layer++) {
    for (const kv of ['key', 'value'] as const) {
      past.push(pastName(layer, kv));
      present.push(presentName(layer, kv));
    }
  }
  return { past, present };
}
