import { isPinoPrettyInstalled, shouldPrettyPrint } from './pretty-logs';

describe('shouldPrettyPrint (LOG_PRETTY)', () => {
  const context = (isTty: boolean, production = false, installed = true) => ({
    isTty,
    production,
    prettyInstalled: () => installed,
  });

  it('unset: human-readable on a terminal, JSON lines into a pipe or file', () => {
    expect(shouldPrettyPrint(undefined, context(true))).toBe(true);
    expect(shouldPrettyPrint(undefined, context(false))).toBe(false);
  });

  it('unset: JSON in production and wherever pino-pretty is not installed (the Docker image)', () => {
    expect(shouldPrettyPrint(undefined, context(true, true))).toBe(false);
    expect(shouldPrettyPrint(undefined, context(true, false, false))).toBe(false);
  });

  it('true and false are obeyed whatever stdout is', () => {
    expect(shouldPrettyPrint(true, context(false))).toBe(true);
    expect(shouldPrettyPrint(false, context(true))).toBe(false);
  });

  it('finds pino-pretty here (a dev dependency)', () => {
    expect(isPinoPrettyInstalled()).toBe(true);
  });
});
