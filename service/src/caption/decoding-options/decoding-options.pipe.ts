import { Inject, Injectable, PipeTransform } from '@nestjs/common';
import { plainToInstance } from 'class-transformer';
import { validateSync } from 'class-validator';
import { ProblemError } from '../../common/problem/problem.error';
import { APP_CONFIG, AppConfig } from '../../config/app-config';
import { CaptionOptionsDto } from '../dto/caption-options.dto';
import { DecodingOptions } from '../engine/caption-engine';
import {
  DECODING_OPTIONS,
  DECODING_OPTION_NAMES,
  DecodingOptionName,
  defaultDecodingOptions,
} from './decoding-option-catalog';

/**
 * Turns a request's raw options (query parameters and form fields, all text) into typed
 * DecodingOptions: each checked against its catalog range (400 `validation_failed`, every
 * message listed), unknown names refused, defaults filled in, then the checks that span fields.
 */
@Injectable()
export class DecodingOptionsPipe implements PipeTransform<
  Record<string, unknown>,
  DecodingOptions
> {
  constructor(@Inject(APP_CONFIG) private readonly config: AppConfig) {}

  transform(raw: Record<string, unknown>): DecodingOptions {
    const dto = plainToInstance(CaptionOptionsDto, raw);
    const errors = validateSync(dto, {
      whitelist: true,
      forbidNonWhitelisted: true,
      forbidUnknownValues: true,
    });
    if (errors.length > 0) {
      const messages = errors.flatMap((e) => Object.values(e.constraints ?? {}));
      throw new ProblemError('validation_failed', messages.join('; '), {
        fields: { errors: messages },
      });
    }
    const given = DECODING_OPTION_NAMES.filter((name) => dto[name] !== undefined);
    const options = defaultDecodingOptions(this.config.defaultNumBeams);
    const fields = options as unknown as Record<string, unknown>;
    for (const name of given) fields[DECODING_OPTIONS[name].field] = dto[name];
    return checkAcrossFields(options, given);
  }
}

function checkAcrossFields(options: DecodingOptions, given: DecodingOptionName[]): DecodingOptions {
  if (options.minNewTokens > options.maxNewTokens) {
    throw new ProblemError(
      'validation_failed',
      `min_new_tokens (${options.minNewTokens}) must not exceed max_new_tokens (${options.maxNewTokens})`,
    );
  }
  const returned = options.numReturnSequences ?? 1;
  if (returned > options.numBeams) {
    throw new ProblemError(
      'validation_failed',
      `num_return_sequences (${returned}) must not exceed num_beams (${options.numBeams})`,
    );
  }
  const beamOnly = given.filter((name) => DECODING_OPTIONS[name].beamSearchOnly);
  if (options.numBeams === 1 && beamOnly.length > 0) {
    throw new ProblemError(
      'unsupported_option',
      `${beamOnly.join(' and ')} only apply to beam search; set num_beams above 1 or leave them out.`,
    );
  }
  return options;
}
