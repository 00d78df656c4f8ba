import { PROBLEM_CODES, codeForStatus, problemType } from './problem-code';

describe('problem codes', () => {
  it('derive the type URI from the code', () => {
    expect(problemType('VALIDATION_FAILED')).toBe('/problems/validation-failed');
    expect(problemType('EMAIL_TAKEN')).toBe('/problems/email-taken');
  });

  it('carry the statuses of the contract', () => {
    expect(PROBLEM_CODES.EMAIL_TAKEN.status).toBe(409);
    expect(PROBLEM_CODES.TOKEN_REVOKED.status).toBe(401);
    expect(PROBLEM_CODES.RATE_LIMITED.status).toBe(429);
  });

  it('map bare statuses to generic codes', () => {
    expect(codeForStatus(401)).toBe('UNAUTHENTICATED');
    expect(codeForStatus(404)).toBe('NOT_FOUND');
    expect(codeForStatus(413)).toBe('PAYLOAD_TOO_LARGE');
    expect(codeForStatus(418)).toBe('BAD_REQUEST');
    expect(codeForStatus(502)).toBe('INTERNAL');
  });
});
