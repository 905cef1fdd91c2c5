import { applyDecorators } from '@nestjs/common';
import { Transform } from 'class-transformer';
import { IsBoolean, IsInt, IsOptional, Max, Min } from 'class-validator';

const toInt = ({ value }: { value: unknown }) =>
  typeof value === 'string' && /^\s*-?\d+\s*$/.test(value) ? Number(value) : value;
const toBool = ({ value }: { value: unknown }) =>
  value === 'true' || value === '1' ? true : value === 'false' || value === '0' ? false : value;

/** An integer variable in [min, max]; optional ones may stay unset (their default is computed). */
export function IntVariable(
  min: number,
  max: number,
  { optional = false }: { optional?: boolean } = {},
): PropertyDecorator {
  return applyDecorators(
    ...(optional ? [IsOptional()] : []),
    Transform(toInt),
    IsInt(),
    Min(min),
    Max(max),
  );
}

/** true/false (or 1/0). */
export function BooleanVariable(): PropertyDecorator {
  return applyDecorators(
    Transform(toBool),
    IsBoolean({ message: '$property must be true or false' }),
  );
}
