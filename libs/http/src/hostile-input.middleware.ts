import { ProblemException } from '@girder/errors';
import type { NextFunction, Request, Response } from 'express';

/** Deeper JSON than this is refused: no real body nests so far, and deep ones blow validation's stack. */
export const MAX_JSON_DEPTH = 32;

/** `%00` as sent; Node refuses a raw NUL in the request line before we see it. */
const NUL_IN_URL = /%00/i;

/** A UTF-16 surrogate without its pair: not Unicode text (validators throw on it: a 500). */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

function textProblem(text: string, what: 'Strings' | 'Property names'): string | undefined {
  if (text.includes('\u0000')) return `${what} must not contain NUL characters.`;
  if (LONE_SURROGATE.test(text))
    return `${what} must be valid Unicode (a lone surrogate was sent).`;
  return undefined;
}

/**
 * The first problem a parsed JSON body has, walked without recursion (so the check itself
 * cannot overflow): nesting deeper than MAX_JSON_DEPTH, or a string or key that is not text
 * the layers below can take: a NUL character (PostgreSQL text cannot hold one) or a lone
 * UTF-16 surrogate (a `\ud800` escape; validators and encoders throw on it).
 */
export function hostileJsonProblem(body: unknown): string | undefined {
  const stack: Array<{ value: unknown; depth: number }> = [{ value: body, depth: 0 }];
  while (stack.length > 0) {
    const { value, depth } = stack.pop()!;
    if (typeof value === 'string') {
      const problem = textProblem(value, 'Strings');
      if (problem) return problem;
      continue;
    }
    if (typeof value !== 'object' || value === null) continue;
    if (depth >= MAX_JSON_DEPTH)
      return `The JSON body is nested deeper than ${MAX_JSON_DEPTH} levels.`;
    for (const [key, item] of Object.entries(value)) {
      const problem = textProblem(key, 'Property names');
      if (problem) return problem;
      stack.push({ value: item, depth: depth + 1 });
    }
  }
  return undefined;
}

/**
 * Refuses, with a 400 problem, input no route can use and the layers below cannot take: NUL
 * bytes in the URL or the body, and JSON nested deeper than MAX_JSON_DEPTH. Runs after the
 * body parsers, before routing.
 */
export function rejectHostileInput(
  request: Request,
  _response: Response,
  next: NextFunction,
): void {
  if (NUL_IN_URL.test(request.url)) {
    next(new ProblemException('BAD_REQUEST', 'The URL must not contain NUL characters (%00).'));
    return;
  }
  const problem = hostileJsonProblem(request.body);
  next(problem ? new ProblemException('BAD_REQUEST', problem) : undefined);
}
