import { ProblemError } from '../../common/problem/problem.error';
import { decodeBase64Image } from '../inputs/base64-image';

/** The nested generation parameters: the Inference API spec's name, then transformers' own. */
const NESTED = ['generation_parameters', 'generate_kwargs'] as const;

export interface HfJsonRequest {
  image: Buffer;
  /** The generation parameters, flattened: checked by DecodingOptionsPipe as a JSON body. */
  options: Record<string, unknown>;
}

/**
 * A JSON body of the Hugging Face Inference API image-to-text task:
 * `{"inputs": "<base64 or data URL>", "parameters": {"max_new_tokens": 20,
 * "generation_parameters": {"num_beams": 2}}}` (ImageToTextInput in the hub's task specs;
 * `generate_kwargs` is accepted as transformers' pipeline calls it). A parameter may be given
 * at one level only.
 */
export function parseHfJsonRequest(body: unknown, maxBytes: number): HfJsonRequest {
  if (!isObject(body)) {
    throw invalid('body', 'The JSON body must be an object: {"inputs": "<base64 image>"}');
  }
  const { inputs, parameters, ...rest } = body;
  const unknown = Object.keys(rest);
  if (unknown.length > 0) {
    throw invalid(
      unknown[0],
      `${unknown.join(', ')}: the body takes only "inputs" and "parameters"`,
    );
  }
  if (inputs === undefined) {
    throw new ProblemError('missing_image', 'The JSON body has no "inputs": the image as base64.');
  }
  const image = decodeBase64Image(inputs, 'inputs', maxBytes);
  return { image, options: flattenParameters(parameters) };
}

function flattenParameters(parameters: unknown): Record<string, unknown> {
  if (parameters === undefined || parameters === null) return {};
  if (!isObject(parameters)) throw invalid('parameters', 'parameters must be an object');
  const options: Record<string, unknown> = {};
  const errors: { field: string; message: string }[] = [];
  for (const [name, value] of Object.entries(parameters)) {
    if (!(NESTED as readonly string[]).includes(name)) options[name] = value;
  }
  for (const name of NESTED) {
    const nested = parameters[name];
    if (nested === undefined || nested === null) continue;
    if (!isObject(nested)) {
      errors.push({ field: name, message: `parameters.${name} must be an object` });
      continue;
    }
    for (const [option, value] of Object.entries(nested)) {
      if (Object.prototype.hasOwnProperty.call(options, option)) {
        errors.push({
          field: option,
          message: `${option} is given twice (in parameters and in parameters.${name}); give it once`,
        });
      } else {
        options[option] = value;
      }
    }
  }
  if (errors.length > 0) {
    throw new ProblemError('validation_failed', errors.map((e) => e.message).join('; '), {
      fields: { errors },
    });
  }
  return options;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function invalid(field: string, message: string): ProblemError {
  return new ProblemError('validation_failed', message, {
    fields: { errors: [{ field, message }] },
  });
}
