import type { Logger } from '@nestjs/common';
import { ThrottledErrorLog } from './throttled-error-log';

describe('ThrottledErrorLog', () => {
  afterEach(() => jest.useRealTimers());

  it('logs the first error of a burst, then one a minute with the count of those it held back', () => {
    jest.useFakeTimers({ now: 0 });
    const lines: string[] = [];
    const log = new ThrottledErrorLog({
      error: (line: string) => void lines.push(line),
    } as unknown as Logger);

    log.log('down');
    log.log('down');
    log.log('down');
    expect(lines).toEqual(['down']);

    jest.setSystemTime(60_000);
    log.log('still down');
    expect(lines).toEqual(['down', 'still down (2 similar errors since the last)']);

    jest.setSystemTime(200_000);
    log.log('down again');
    expect(lines[2]).toBe('down again');
  });
});
