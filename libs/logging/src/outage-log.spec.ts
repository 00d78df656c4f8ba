import { OUTAGE_REMINDER_MS, OutageLog } from './outage-log';

function recorder() {
  const lines: string[] = [];
  const logger = {
    error: (line: string) => void lines.push(`error ${line}`),
    warn: (line: string) => void lines.push(`warn ${line}`),
    log: (line: string) => void lines.push(`log ${line}`),
  };
  return { lines, logger };
}

describe('OutageLog', () => {
  afterEach(() => jest.useRealTimers());

  it('reports the start of an outage once, a reminder a minute with the count held back, and the recovery once', () => {
    jest.useFakeTimers({ now: 0 });
    const { lines, logger } = recorder();
    const outage = new OutageLog(logger, 'Redis');

    outage.down(new Error('ECONNREFUSED'));
    outage.down(new Error('ECONNREFUSED'));
    outage.down(new Error('ECONNREFUSED'));
    expect(lines).toEqual(['error Redis unavailable: ECONNREFUSED']);

    jest.setSystemTime(OUTAGE_REMINDER_MS);
    outage.down('still refused');
    expect(lines[1]).toBe(
      'error Redis still unavailable after 60 s (3 failures since the last report): still refused',
    );

    jest.setSystemTime(OUTAGE_REMINDER_MS + 5_000);
    outage.up();
    outage.up();
    expect(lines.slice(2)).toEqual(['log Redis available again after 65 s']);

    outage.down(new Error('again'));
    expect(lines[3]).toBe('error Redis unavailable: again');
  });

  it('says nothing when nothing was down, and logs at the level it was given', () => {
    const { lines, logger } = recorder();
    const cache = new OutageLog(logger, 'Cache', 'warn');
    cache.up();
    expect(lines).toEqual([]);
    cache.down(new Error('timeout'));
    expect(lines).toEqual(['warn Cache unavailable: timeout']);
  });
});
