import { ValidateIf } from 'class-validator';

/**
 * A body field that may be left out but, when present, must pass its rules: unlike
 * `@IsOptional()`, `null` is validated (and refused by e.g. `@IsString()`) instead of reaching
 * a NOT NULL column as a 500. Use `@IsOptional()` only for fields that are really nullable.
 */
export const OptionalNotNull = (): PropertyDecorator =>
  ValidateIf((_object: object, value: unknown) => value !== undefined);
