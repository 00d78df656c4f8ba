import { problemForDatabaseError } from './database-error';

describe('problemForDatabaseError', () => {
  it('maps unique and foreign-key violations to 409 and bad input syntax to 400', () => {
    expect(problemForDatabaseError({ driverError: { code: '23505' } })?.code).toBe('CONFLICT');
    expect(problemForDatabaseError({ code: '23503' })?.code).toBe('CONFLICT');
    expect(problemForDatabaseError({ driverError: { code: '22P02' } })?.code).toBe('BAD_REQUEST');
  });

  it('leaves every other error to the 500 path', () => {
    expect(problemForDatabaseError({ driverError: { code: '57P01' } })).toBeUndefined();
    expect(problemForDatabaseError(new Error('boom'))).toBeUndefined();
    expect(problemForDatabaseError(null)).toBeUndefined();
  });
});
