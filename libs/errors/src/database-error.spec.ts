import {
  isDatabaseUnreachable,
  isRetryableTransactionError,
  problemForDatabaseError,
} from './database-error';

const pgError = (code: string) => ({ name: 'QueryFailedError', driverError: { code } });

describe('problemForDatabaseError', () => {
  it('maps integrity violations to 409 and 400', () => {
    expect(problemForDatabaseError(pgError('23505'))?.code).toBe('CONFLICT');
    expect(problemForDatabaseError({ code: '23503' })?.code).toBe('CONFLICT');
    expect(problemForDatabaseError(pgError('23502'))?.code).toBe('BAD_REQUEST');
  });

  it.each(['22P02', '22021', '22008', '22003', '22007'])(
    'maps the data exception %s (bad format, NUL byte, date or number out of range) to 400',
    (code) => expect(problemForDatabaseError(pgError(code))?.code).toBe('BAD_REQUEST'),
  );

  it.each(['08006', '08001', '53300', '57P01', '57P03', '40001', '40P01'])(
    'maps the server-side condition %s to 503',
    (code) => expect(problemForDatabaseError(pgError(code))?.code).toBe('SERVICE_UNAVAILABLE'),
  );

  it('maps an unreachable server to 503, however the driver wraps it', () => {
    const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), {
      code: 'ECONNREFUSED',
    });
    expect(problemForDatabaseError(refused)?.code).toBe('SERVICE_UNAVAILABLE');
    expect(problemForDatabaseError(new AggregateError([refused]))?.code).toBe(
      'SERVICE_UNAVAILABLE',
    );
    expect(problemForDatabaseError(new Error('Connection terminated unexpectedly'))?.code).toBe(
      'SERVICE_UNAVAILABLE',
    );
    expect(
      problemForDatabaseError(new Error('timeout exceeded when trying to connect'))?.code,
    ).toBe('SERVICE_UNAVAILABLE');
    expect(problemForDatabaseError(new Error('wrapper', { cause: refused }))?.code).toBe(
      'SERVICE_UNAVAILABLE',
    );
  });

  it('leaves every other error to the 500 path', () => {
    expect(problemForDatabaseError(pgError('42P01'))).toBeUndefined();
    expect(problemForDatabaseError(new Error('boom'))).toBeUndefined();
    expect(problemForDatabaseError(null)).toBeUndefined();
  });
});

describe('isRetryableTransactionError', () => {
  it('is true for serialization failures and deadlocks only', () => {
    expect(isRetryableTransactionError(pgError('40001'))).toBe(true);
    expect(isRetryableTransactionError(pgError('40P01'))).toBe(true);
    expect(isRetryableTransactionError(pgError('23505'))).toBe(false);
    expect(isRetryableTransactionError(new Error('x'))).toBe(false);
  });
});

describe('isDatabaseUnreachable', () => {
  it('is true for a database that cannot be reached or cannot serve, however it is wrapped', () => {
    const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), {
      code: 'ECONNREFUSED',
    });
    expect(isDatabaseUnreachable(refused)).toBe(true);
    expect(isDatabaseUnreachable(new Error('wrapper', { cause: refused }))).toBe(true);
    expect(isDatabaseUnreachable(new Error('Connection terminated unexpectedly'))).toBe(true);
    // node-postgres, on a client whose connection already failed.
    expect(
      isDatabaseUnreachable(
        new Error('Client has encountered a connection error and is not queryable'),
      ),
    ).toBe(true);
    expect(isDatabaseUnreachable(pgError('57P01'))).toBe(true);
    expect(isDatabaseUnreachable(pgError('53300'))).toBe(true);
  });

  it('is false for failed queries, serialization failures and other errors', () => {
    expect(isDatabaseUnreachable(pgError('23505'))).toBe(false);
    expect(isDatabaseUnreachable(pgError('40001'))).toBe(false);
    expect(isDatabaseUnreachable(pgError('40P01'))).toBe(false);
    expect(isDatabaseUnreachable(new Error('boom'))).toBe(false);
    expect(isDatabaseUnreachable(undefined)).toBe(false);
  });
});
