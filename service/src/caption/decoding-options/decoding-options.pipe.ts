import { Inject, Injectable, PipeTransform } from '@nestjs/common';
import { plainToInstance } from 'class-transformer';
import { validateSync } from 'class-validator';
import { FieldError, ProblemError } from '../../common/problem/problem.error';
import { APP_CONFIG, AppConfig } from '../../config/app-config';
import { CaptionOptionsDto } from '../dto/caption-options.dto';
import { DecodingOptions } from '../engine/caption-engine';
import {
  DECODING_OPTIONS,
  DECODING_OPTION_NAMES,
  DecodingOptionName,
  defaultDecodingOptions,
  isDecodingOptionName,
} from './decoding-option-catalog';

/** Where a request may carry options; each part as the request gave it. */
export type OptionSource = 'query' | 'form' | 'body';
export type RawOptions = Partial<Record<OptionSource, Record<string, unknown>>>;

const SOURCE_NAMES: Record<OptionSource, string> = {
  query: 'the query string',
  form: 'the form',
  body: 'the JSON body',
};

/**
 * Turns a request's raw options (query parameters, form fields, JSON members) into typed
 * DecodingOptions. Every problem is listed, one message per field: unknown names (with the
 * accepted ones), a value given twice (repeated, or in two places), a value of the wrong kind or
 * out of range; then the checks that span fields. Defaults fill the rest.
 */
@Injectable()
export class DecodingOptionsPipe implements PipeTransform<RawOptions, DecodingOptions> {
  constructor(@Inject(APP_CONFIG) private readonly config: AppConfig) {}

  transform(raw: RawOptions): DecodingOptions {
    const { values, errors } = collect(raw);
    const dto = plainToInstance(CaptionOptionsDto, values);
    for (const error of validateSync(dto, { stopAtFirstError: true })) {
      errors.push({
        field: error.property,
        message: `${Object.values(error.constraints ?? {})[0]} (got ${quote(values[error.property])})`,
      });
    }
    if (errors.length > 0) throw invalid(errors);
    const given = DECODING_OPTION_NAMES.filter((name) => dto[name] !== undefined);
    const options = defaultDecodingOptions(this.config.defaultNumBeams);
    const fields = options as unknown as Record<string, unknown>;
    for (const name of given) fields[DECODING_OPTIONS[name].field] = dto[name];
    return checkAcrossFields(options, given);
  }
}

/** One value per known option, and an error for each unknown, repeated or non-text one. */
function collect(raw: RawOptions): { values: Record<string, unknown>; errors: FieldError[] } {
  const values: Record<string, unknown> = {};
  const from: Partial<Record<DecodingOptionName, OptionSource>> = {};
  const errors: FieldError[] = [];
  for (const source of Object.keys(SOURCE_NAMES) as OptionSource[]) {
    // Own keys only: '__proto__' or 'constructor' are names like any other, and unknown.
    for (const [name, value] of Object.entries(raw[source] ?? {})) {
      if (!isDecodingOptionName(name)) {
        errors.push({
          field: name,
          message: `${name} is not an option; the options are ${DECODING_OPTION_NAMES.join(', ')}`,
        });
      } else if (Array.isArray(value)) {
        errors.push({
          field: name,
          message: `${name} is given ${value.length} times in ${SOURCE_NAMES[source]}; give it once`,
        });
      } else if (from[name] !== undefined) {
        errors.push({
          field: name,
          message: `${name} is given in both ${SOURCE_NAMES[from[name]]} and ${SOURCE_NAMES[source]}; give it once`,
        });
      } else if (value !== null && typeof value === 'object') {
        errors.push({ field: name, message: `${name} must be a single value, not an object` });
      } else {
        values[name] = value;
        from[name] = source;
      }
    }
  }
  return { values, errors };
}

function checkAcrossFields(options: DecodingOptions, given: DecodingOptionName[]): DecodingOptions {
  if (options.minNewTokens > options.maxNewTokens) {
    throw invalid([
      {
        field: 'min_new_tokens',
        message: `min_new_tokens (${options.minNewTokens}) must not exceed max_new_tokens (${options.maxNewTokens})`,
      },
    ]);
  }
  if ((options.numReturnSequences ?? 1) > options.numBeams) {
    throw invalid([
      {
        field: 'num_return_sequences',
        message: `num_return_sequences (${options.numReturnSequences}) must not exceed num_beams (${options.numBeams})`,
      },
    ]);
  }
  // A beam-only option at its default changes nothing, so it is accepted with greedy decoding
  // (Swagger UI and clients that echo a response's `decoding` send every option).
  const ineffective = given.filter((name) => {
    const spec = DECODING_OPTIONS[name];
    return spec.beamSearchOnly && options[spec.field] !== spec.default;
  });
  if (options.numBeams === 1 && ineffective.length > 0) {
    const names = ineffective.map(
      (name) => `${name}=${String(options[DECODING_OPTIONS[name].field])}`,
    );
    const [verb, them] = ineffective.length === 1 ? ['applies', 'it'] : ['apply', 'them'];
    throw new ProblemError(
      'unsupported_option',
      `${names.join(' and ')} only ${verb} to beam search, and num_beams is 1 (greedy decoding): ` +
        `set num_beams above 1, or leave ${them} out.`,
      {
        fields: {
          errors: ineffective.map((name) => ({
            field: name,
            message: `${name} only applies to beam search (num_beams above 1)`,
          })),
        },
      },
    );
  }
  return options;
}

function invalid(errors: FieldError[]): ProblemError {
  return new ProblemError('validation_failed', errors.map((e) => e.message).join('; '), {
    fields: { errors },
  });
}

function quote(value: unknown): string {
  return typeof value === 'string' ? JSON.stringify(value) : String(value);
}
