import type { Provider, Type } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { ProblemException, type FieldError, type ProblemCode } from '@girder/errors';

/**
 * Unit-test support (the small tier: one service, every dependency mocked, no I/O), in the
 * spirit of immich's `newTestService()`. Specs beside the code in libs/ import it relatively.
 *
 * It lives in test/unit/ (not under libs/, where `nest build` would compile it without the
 * jest globals it uses); the dependency rules let unit specs, and only them, import it.
 */

/** A plain object with a `jest.fn()` for every method of `type` and its base classes. */
export function autoMock<T>(type: Type<T>): jest.Mocked<T> {
  const mock: Record<string, jest.Mock> = {};
  let prototype = type.prototype as object | null;
  while (prototype && prototype !== Object.prototype) {
    for (const key of Object.getOwnPropertyNames(prototype)) {
      // Getters are left out: reading them on a prototype would run real code.
      const isMethod = typeof Object.getOwnPropertyDescriptor(prototype, key)?.value === 'function';
      if (key !== 'constructor' && isMethod && !(key in mock)) {
        mock[key] = jest.fn();
      }
    }
    prototype = Object.getPrototypeOf(prototype) as object | null;
  }
  return mock as unknown as jest.Mocked<T>;
}

export interface TestService<T> {
  /** The service under test, built by Nest's injector. */
  sut: T;
  /** What was injected for `dependency`: its automock, or the override passed in. */
  mock<D>(dependency: Type<D>): jest.Mocked<D>;
}

/**
 * Builds `service` in a Nest testing module where every constructor dependency it declares is
 * an `autoMock` of its class. `providers` replace or add providers (a dependency the
 * constructor reads, a permission resolved through `ModuleRef`); a token that is not a class
 * and is not provided fails the build.
 */
export async function newTestService<T>(
  service: Type<T>,
  providers: Provider[] = [],
): Promise<TestService<T>> {
  const moduleRef = await Test.createTestingModule({ providers: [service, ...providers] })
    .useMocker((token) =>
      typeof token === 'function' ? autoMock(token as Type<object>) : undefined,
    )
    .compile();
  return {
    sut: moduleRef.get(service),
    mock: <D>(dependency: Type<D>) => moduleRef.get<D, jest.Mocked<D>>(dependency),
  };
}

/** What a client would see of a ProblemException: code, HTTP status, detail, field errors. */
export interface ThrownProblem {
  code: ProblemCode;
  status: number;
  detail: string;
  errors?: FieldError[];
}

/** The ProblemException `promise` rejects with; anything else (success included) fails the test. */
export async function problemOf(promise: Promise<unknown>): Promise<ThrownProblem> {
  let outcome: { error: unknown } | undefined;
  try {
    await promise;
  } catch (error) {
    outcome = { error };
  }
  if (!outcome) throw new Error('Expected a ProblemException, but the call succeeded');
  if (!(outcome.error instanceof ProblemException)) {
    throw new Error(`Expected a ProblemException, got: ${String(outcome.error)}`, {
      cause: outcome.error,
    });
  }
  const { code, detail, errors } = outcome.error;
  return { code, status: outcome.error.getStatus(), detail, errors };
}
