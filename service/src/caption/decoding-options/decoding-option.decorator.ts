import { applyDecorators } from '@nestjs/common';
import { ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsBoolean, IsInt, IsNumber, IsOptional, Max, Min, ValidateIf } from 'class-validator';
import {
  DECODING_OPTIONS,
  DecodingOptionName,
  DecodingOptionSpec,
} from './decoding-option-catalog';

/** Query and form values arrive as strings; numbers are parsed only when the whole text is one. */
const toNumber = ({ value }: { value: unknown }) =>
  typeof value === 'string' && value.trim() !== '' && !Number.isNaN(Number(value))
    ? Number(value)
    : value;
const toEarlyStopping = ({ value }: { value: unknown }) =>
  value === 'true' ? true : value === 'false' ? false : value;

/**
 * Everything a decoding option field needs, read from its catalog entry: the Swagger property
 * (type, range, default, description), parsing from text, and validation of kind and range.
 */
export function DecodingOption(name: DecodingOptionName): PropertyDecorator {
  const spec: DecodingOptionSpec = DECODING_OPTIONS[name];
  if (spec.kind === 'early_stopping') {
    return applyDecorators(
      ApiPropertyOptional({
        enum: spec.values,
        default: String(spec.default),
        description: spec.description,
      }),
      IsOptional(),
      Transform(toEarlyStopping),
      ValidateIf((options: Record<string, unknown>) => options[name] !== 'never'),
      IsBoolean({ message: `${name} must be true, false or never` }),
    );
  }
  return applyDecorators(
    ApiPropertyOptional({
      type: spec.kind,
      minimum: spec.minimum,
      maximum: spec.maximum,
      // A default that is a setting is named in the description instead.
      ...(typeof spec.default === 'number' ? { default: spec.default } : {}),
      description: spec.description,
    }),
    IsOptional(),
    Transform(toNumber),
    spec.kind === 'integer' ? IsInt() : IsNumber({ allowNaN: false, allowInfinity: false }),
    Min(spec.minimum),
    Max(spec.maximum),
  );
}
