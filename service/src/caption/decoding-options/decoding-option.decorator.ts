import { applyDecorators } from '@nestjs/common';
import { ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsIn, IsInt, IsNumber, IsOptional, Max, Min, ValidateIf } from 'class-validator';
import {
  DECODING_OPTIONS,
  DecodingOptionName,
  DecodingOptionSpec,
  NumericOptionSpec,
} from './decoding-option-catalog';

// Only plain decimal text is a number: `Number()` alone would also take '0x2', '1e1', ' 2 ',
// 'Infinity' and '' (as 0). JSON bodies give real numbers, which pass through as they are.
const DECIMAL = /^-?(?:\d+(?:\.\d+)?|\.\d+)$/;
const toNumber = ({ value }: { value: unknown }) =>
  typeof value === 'string' && DECIMAL.test(value) ? Number(value) : value;
const toEarlyStopping = ({ value }: { value: unknown }) =>
  value === 'true' ? true : value === 'false' ? false : value;

/** The one message a bad value of this option gets, whatever is wrong with it. */
export function optionRangeMessage(name: DecodingOptionName): string {
  const spec: DecodingOptionSpec = DECODING_OPTIONS[name];
  if (spec.kind === 'early_stopping') return `${name} must be true, false or never`;
  const kind = spec.kind === 'integer' ? 'an integer' : 'a number';
  return `${name} must be ${kind} from ${spec.minimum} to ${spec.maximum}`;
}

/**
 * Everything a decoding option field needs, read from its catalog entry: the Swagger property
 * (type, range, default, description), parsing from text, and validation of kind and range. Kind
 * and range share one message, so a bad value gets one clear sentence, not one per rule.
 */
export function DecodingOption(name: DecodingOptionName): PropertyDecorator {
  const spec: DecodingOptionSpec = DECODING_OPTIONS[name];
  const message = optionRangeMessage(name);
  if (spec.kind === 'early_stopping') {
    return applyDecorators(
      ApiPropertyOptional({
        oneOf: [{ type: 'boolean' }, { type: 'string', enum: ['never'] }],
        default: spec.default,
        description: spec.description,
      }),
      IsOptional(),
      Transform(toEarlyStopping),
      ValidateIf((options: Record<string, unknown>) => typeof options[name] !== 'boolean'),
      IsIn(['never'], { message }),
    );
  }
  return applyDecorators(
    ApiPropertyOptional(numericSchema(spec)),
    IsOptional(),
    Transform(toNumber),
    spec.kind === 'integer'
      ? IsInt({ message })
      : IsNumber({ allowNaN: false, allowInfinity: false }, { message }),
    Min(spec.minimum, { message }),
    Max(spec.maximum, { message }),
  );
}

/** The OpenAPI schema of a numeric option: integer or number, its range and default. */
export function numericSchema(spec: NumericOptionSpec): {
  type: 'integer' | 'number';
  minimum: number;
  maximum: number;
  default?: number;
  description: string;
} {
  return {
    type: spec.kind,
    minimum: spec.minimum,
    maximum: spec.maximum,
    // A default that is a setting is named in the description instead.
    ...(typeof spec.default === 'number' ? { default: spec.default } : {}),
    description: spec.description,
  };
}
