import { defaultDecodingOptions } from '../../src/caption/decoding-options/decoding-option-catalog';
import { DecodingOptions } from '../../src/caption/engine/caption-engine';
import { DEFAULTS } from '../../src/config/environment';

/**
 * Decoding options for a test: what a request that sets nothing gets (the catalog's defaults,
 * DEFAULT_NUM_BEAMS beams), with the fields the test cares about overridden.
 */
export function decodingOptions(overrides: Partial<DecodingOptions> = {}): DecodingOptions {
  return { ...defaultDecodingOptions(DEFAULTS.DEFAULT_NUM_BEAMS), ...overrides };
}
