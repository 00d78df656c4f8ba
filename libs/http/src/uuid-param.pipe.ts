import { Injectable, type PipeTransform } from '@nestjs/common';
import { ProblemException } from '@girder/errors';
import { isUUID } from 'class-validator';

/**
 * A path id: a UUID (any version PostgreSQL generates), 400 otherwise, and always lower-case,
 * so `/users/ABC…` and `/users/abc…` are one resource to every layer (cache tags, logs).
 */
@Injectable()
export class UuidParamPipe implements PipeTransform<unknown, string> {
  transform(value: unknown): string {
    if (typeof value !== 'string' || !isUUID(value))
      throw new ProblemException('BAD_REQUEST', 'The id in the path must be a UUID.');
    return value.toLowerCase();
  }
}
