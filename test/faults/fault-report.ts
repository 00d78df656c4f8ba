import { appendFileSync } from 'node:fs';

/**
 * Prints a scenario's counts where `npm run test:faults` shows them (stdout, not Jest's console
 * capture) and appends them to FAULTS_REPORT when set, for docs/operations.md.
 */
export function reportCounts(scenario: string, counts: Record<string, number | string>): void {
  const line = `FAULTS ${scenario}: ${Object.entries(counts)
    .map(([key, value]) => `${key}=${value}`)
    .join(' ')}`;
  process.stdout.write(`\n${line}\n`);
  if (process.env.FAULTS_REPORT) appendFileSync(process.env.FAULTS_REPORT, `${line}\n`);
}
