/**
 * A stand-in for `@Transactional()` in unit specs (no database): the method runs as it is,
 * and each call records whether it returned (would commit) or threw (would roll back). The
 * outermost call of a nested chain is the one that commits.
 *
 *   jest.mock('@girder/database', () => ({
 *     ...jest.requireActual<object>('@girder/database'),
 *     Transactional: jest.requireActual<RecordingModule>('<path>/recording-transactional').RecordingTransactional,
 *   }));
 *
 * (A jest.mock factory runs before the spec's own imports, so it loads this module with
 * `jest.requireActual`; the spec imports `transactionOutcomes` as usual and gets the same array.)
 */
export interface TransactionOutcome {
  method: string | symbol;
  outcome: 'committed' | 'rolled back';
}

/** Every recorded call since the spec last emptied it (`transactionOutcomes.length = 0`). */
export const transactionOutcomes: TransactionOutcome[] = [];

export type RecordingModule = { RecordingTransactional: () => MethodDecorator };

export function RecordingTransactional(): MethodDecorator {
  return (_target, method, descriptor: PropertyDescriptor) => {
    const original = descriptor.value as (...args: unknown[]) => Promise<unknown>;
    descriptor.value = async function (this: unknown, ...args: unknown[]) {
      try {
        const result = await original.apply(this, args);
        transactionOutcomes.push({ method, outcome: 'committed' });
        return result;
      } catch (error) {
        transactionOutcomes.push({ method, outcome: 'rolled back' });
        throw error;
      }
    };
  };
}
