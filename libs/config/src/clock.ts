import { Injectable } from '@nestjs/common';

/**
 * The time, as one injectable: code whose outcome depends on it (token expiry) asks the clock,
 * so a test can move it instead of sleeping (`overrideProvider(Clock)`).
 */
@Injectable()
export class Clock {
  now(): Date {
    return new Date();
  }
}
