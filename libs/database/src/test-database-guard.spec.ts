import { assertTestDatabase } from './test-database-guard';

describe('assertTestDatabase', () => {
  it('accepts names containing "test"', () => {
    expect(assertTestDatabase('postgres://u@h:5432/girder_e2e_test_ab12')).toBe(
      'girder_e2e_test_ab12',
    );
  });

  it('refuses any other database', () => {
    expect(() => assertTestDatabase('postgres://u@h:5432/girder')).toThrow(/must contain "test"/);
    expect(() => assertTestDatabase('postgres://u@h:5432/production')).toThrow();
  });
});
