/**
 * `npm run bench:table`: prints the README's Performance tables (Markdown, aligned the way
 * prettier formats them) from bench/results/http.json and queue.json, so the README can be
 * regenerated from the last results instead of copied by hand.
 *
 *   npm run bench:table                      # both files
 *   npm run bench:table -- bench/results/http.json
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Spread } from './bench-support';
import type { HttpResults, PinningSummary, QueueResults } from './results-types';

/** `digits` at most: 12.0 prints as 12 (autocannon's latencies are mostly whole ms). */
const number = (value: number, digits = 0) => String(Number(value.toFixed(digits)));
const range = (s: Spread, digits = 0) =>
  s.min === s.max ? '' : ` (${number(s.min, digits)}–${number(s.max, digits)})`;
const withRange = (s: Spread, digits = 0) => `${number(s.median, digits)}${range(s, digits)}`;
const times = (s: Spread | null) =>
  s
    ? `${s.median.toFixed(2)}×${s.min === s.max ? '' : ` (${s.min.toFixed(2)}–${s.max.toFixed(2)})`}`
    : 'baseline';
const met = (value: boolean | null) => (value === null ? '' : value ? 'yes' : 'no');

/** A Markdown table padded like prettier does, so the README stays `prettier --check` clean. */
export function markdownTable(header: string[], rows: string[][]): string {
  const width = (text: string) => [...text].length;
  const widths = header.map((title, column) =>
    Math.max(3, width(title), ...rows.map((row) => width(row[column] ?? ''))),
  );
  const line = (cells: string[]) =>
    `| ${cells.map((cell, column) => cell + ' '.repeat(widths[column] - width(cell))).join(' | ')} |`;
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}

/** Date, machine and pinning; `roles` names what ran on the load CPU and on the server CPU. */
function setup(
  results: { date: string; machine: HttpResults['machine']; pinning: PinningSummary },
  roles: [load: string, server: string],
) {
  const { machine, pinning } = results;
  const pinned = pinning.used
    ? `${roles[0]} pinned to CPU ${pinning.loadCpus}, ${roles[1]} to CPU ${pinning.serverCpus}`
    : `no CPU pinning (${pinning.reason})`;
  return `${results.date.slice(0, 10)}, ${machine.cpuCount} × ${machine.cpuModel}, Node ${machine.node}, ${pinned}`;
}

export function renderHttp(results: HttpResults): string {
  const { settings } = results;
  const caption =
    `_${settings.runs} run(s) of ${settings.durationSeconds} s per row (after ${settings.warmupSeconds} s of warm-up), ` +
    `${settings.connections} connections, API_WORKERS=${settings.apiWorkers}; median (min–max); ` +
    `${setup(results, ['autocannon', 'server'])}._`;
  const rows = markdownTable(
    ['scenario', 'req/s', 'p50 ms', 'p99 ms', 'vs bare Nest', 'target', 'met'],
    results.rows.map((row) => [
      row.errors + row.non2xx > 0
        ? `${row.name} (${row.errors} errors, ${row.non2xx} non-2xx!)`
        : row.name,
      withRange(row.requestsPerSecond),
      number(row.p50Ms.median, 1),
      withRange(row.p99Ms, 1),
      times(row.ratio),
      row.target ?? '',
      met(row.met),
    ]),
  );
  const processTable = markdownTable(
    ['API process', 'measured', 'target', 'met'],
    results.process.map((row) => [
      row.name,
      `${withRange(row.value, row.unit === 'MB' ? 1 : 0)} ${row.unit}`,
      row.target ?? '',
      met(row.met),
    ]),
  );
  return [caption, rows, processTable].join('\n\n');
}

export function renderQueue(results: QueueResults): string {
  const { settings } = results;
  const caption =
    `_${settings.runs} run(s) of ${settings.jobs} no-op jobs per row, worker concurrency ${settings.concurrency}, ` +
    `${settings.submitConcurrency} submissions in flight; median (min–max); ${setup(results, ['submitter', 'worker'])}._`;
  const table = markdownTable(
    ['worker', 'measured', 'jobs/s', 'vs bare BullMQ', 'target', 'met'],
    results.rows.map((row) => [
      row.name,
      row.measure === 'end-to-end' ? 'first submit → last done' : 'pre-filled queue, drained',
      withRange(row.jobsPerSecond),
      times(row.ratio),
      row.target ?? '',
      met(row.met),
    ]),
  );
  return [caption, table].join('\n\n');
}

export function renderFile(file: string): string {
  const results = JSON.parse(readFileSync(file, 'utf8')) as HttpResults | QueueResults;
  if (results.bench === 'http') return renderHttp(results);
  if (results.bench === 'queue') return renderQueue(results);
  throw new Error(`${file}: not a results file of this version (no "bench" field)`);
}

if (require.main === module) {
  const given = process.argv.slice(2);
  const files = given.length
    ? given
    : ['http.json', 'queue.json']
        .map((name) => join(__dirname, 'results', name))
        .filter(existsSync);
  if (files.length === 0) {
    console.error('No results yet: run `npm run bench` / `npm run bench:queue` first.');
    process.exit(1);
  }
  console.log(files.map(renderFile).join('\n\n'));
}
