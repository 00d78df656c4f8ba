import { Logger } from '@nestjs/common';
import { Propagation } from '@nestjs-cls/transactional';
import { isRetryableTransactionError } from '@girder/errors';
import { ClsServiceManager } from 'nestjs-cls';
import { currentTransactionHost } from './transaction-host-registry';

export { Propagation };

export type AfterCommitHook = () => unknown;

/** CLS slot holding the after-commit hooks of the innermost transaction or savepoint. */
const HOOKS = Symbol('girder.transaction.afterCommitHooks');
const logger = new Logger('Transactional');

/**
 * Whether this call opens a new frame for after-commit hooks: a real transaction (hooks run
 * when it commits) or a savepoint (hooks move to the enclosing transaction when it releases,
 * and are dropped when it rolls back).
 */
function frameKind(propagation: Propagation, active: boolean): 'transaction' | 'savepoint' | null {
  if (propagation === Propagation.RequiresNew) return 'transaction';
  if (propagation === Propagation.Required) return active ? null : 'transaction';
  if (propagation === Propagation.Nested) return active ? 'savepoint' : 'transaction';
  return null;
}

async function runHooks(hooks: AfterCommitHook[]): Promise<void> {
  for (const hook of hooks) {
    try {
      await hook();
    } catch (error) {
      // The data is committed: a failing hook must not turn the caller's success into an error.
      logger.error({ err: error }, 'after-commit hook failed');
    }
  }
}

/**
 * Runs `work` with the given propagation on the default TypeORM connection, tracking
 * after-commit hooks. The `@Transactional()` decorator is a thin wrapper over this; use it
 * directly where a decorator does not fit (scripts, tests).
 */
export async function runInTransaction<T>(
  propagation: Propagation,
  work: () => Promise<T>,
): Promise<T> {
  const host = currentTransactionHost();
  const cls = ClsServiceManager.getClsService();
  const kind = frameKind(propagation, host.isTransactionActive());
  if (kind === null) return host.withTransaction(propagation, work);

  const parentHooks: AfterCommitHook[] | undefined =
    kind === 'savepoint' ? cls.get<AfterCommitHook[]>(HOOKS) : undefined;
  const attempt = async (): Promise<{ result: T; hooks: AfterCommitHook[] }> => {
    const hooks: AfterCommitHook[] = [];
    const result = await host.withTransaction(propagation, async () => {
      cls.set(HOOKS, hooks);
      return work();
    });
    return { result, hooks };
  };

  let outcome: { result: T; hooks: AfterCommitHook[] };
  try {
    outcome = await attempt();
  } catch (error) {
    // A serialization failure or deadlock rolled the whole transaction back: run it once more
    // (a savepoint cannot be retried alone: its transaction is aborted). A second failure
    // reaches the client as 503 (see @girder/errors).
    if (kind !== 'transaction' || !isRetryableTransactionError(error)) throw error;
    logger.warn('transaction hit a serialization failure or deadlock: retrying once');
    outcome = await attempt();
  }
  if (kind === 'savepoint' && parentHooks) parentHooks.push(...outcome.hooks);
  else await runHooks(outcome.hooks);
  return outcome.result;
}

/**
 * Registers `hook` to run once the current transaction commits; it never runs if the
 * transaction rolls back. Outside a transaction there is nothing to wait for, so it runs at once.
 */
export async function afterCommit(hook: AfterCommitHook): Promise<void> {
  const host = currentTransactionHost();
  const cls = ClsServiceManager.getClsService();
  if (!host.isTransactionActive()) {
    await runHooks([hook]);
    return;
  }
  const hooks = cls.get<AfterCommitHook[] | undefined>(HOOKS);
  if (!hooks) {
    throw new Error(
      'afterCommit() needs a transaction started by @Transactional() or runInTransaction()',
    );
  }
  hooks.push(hook);
}

/**
 * Runs the decorated async method in a database transaction.
 *
 * - `Propagation.Required` (default): join the caller's transaction or start one.
 * - `Propagation.RequiresNew`: an independent transaction; it commits even if the caller's rolls back.
 * - `Propagation.Nested`: a savepoint inside the caller's transaction.
 *
 * Repositories extending `TransactionalRepository` take part automatically, in HTTP requests
 * and worker jobs alike; `afterCommit()` schedules work (events, queue jobs) for after commit.
 */
export function Transactional(propagation: Propagation = Propagation.Required): MethodDecorator {
  return (_target, _key, descriptor: PropertyDescriptor) => {
    const original = descriptor.value as (...args: unknown[]) => Promise<unknown>;
    const wrapped = function (this: unknown, ...args: unknown[]): Promise<unknown> {
      return runInTransaction(propagation, () => original.apply(this, args));
    };
    // Keep the name and any metadata other decorators put on the original method.
    Object.defineProperty(wrapped, 'name', { value: original.name });
    for (const key of Reflect.getMetadataKeys(original)) {
      Reflect.defineMetadata(key, Reflect.getMetadata(key, original), wrapped);
    }
    descriptor.value = wrapped;
    return descriptor;
  };
}
