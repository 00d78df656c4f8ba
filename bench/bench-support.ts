/**
 * What both benchmarks share: settings from the environment, CPU pinning, child processes,
 * statistics over repeated runs, targets and the results files (bench/results/*.json, read by
 * bench/render-table.ts).
 */
import { spawn, spawnSync, type ChildProcess, type StdioOptions } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { arch, cpus, platform, release, totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import type { ResultsHeader } from './results-types';

export const ROOT = resolve(__dirname, '..');
export const RESULTS_DIR = join(__dirname, 'results');

/** How a child runs a TypeScript file of this folder (as `npm run bench:queue` runs queue.ts). */
export const TS_NODE = ['-r', 'ts-node/register/transpile-only', '-r', 'tsconfig-paths/register'];

/** A positive number from the environment, else the fallback; anything else stops the bench. */
export function envNumber(names: string[], fallback: number, { allowZero = false } = {}): number {
  for (const name of names) {
    const raw = process.env[name];
    if (raw === undefined || raw.trim() === '') continue;
    const value = Number(raw);
    if (!Number.isFinite(value) || value < 0 || (value === 0 && !allowZero))
      throw new Error(`${name}=${raw}: expected a number ${allowZero ? '>= 0' : '> 0'}`);
    return value;
  }
  return fallback;
}

export function envFlag(name: string): boolean {
  return ['1', 'true', 'yes', 'on'].includes((process.env[name] ?? '').trim().toLowerCase());
}

/** BENCH_RUNS: how many times each row is measured (the median is reported). */
export const benchRuns = (): number => Math.round(envNumber(['BENCH_RUNS'], 3));

// --- CPU pinning ----------------------------------------------------------------------------

export interface Pinning {
  used: boolean;
  /** Why pinning is (not) used, for the report. */
  reason: string;
  /** `taskset -c` lists; null without pinning. */
  loadCpus: string | null;
  serverCpus: string | null;
  /** The CPUs this process may use (from its affinity mask, else the CPU count). */
  availableCpus: number[];
}

function expandCpuList(list: string): number[] {
  return list
    .split(',')
    .map((part) => part.trim())
    .filter((part) => part.length > 0)
    .flatMap((part) => {
      const [from, to] = part.split('-').map(Number);
      return to === undefined ? [from] : Array.from({ length: to - from + 1 }, (_, i) => from + i);
    });
}

/**
 * Pins the load generator and the measured server to different CPUs when `taskset` exists and
 * this process may use at least two: the load generator (and this orchestrating process) on
 * the first allowed CPU, the server on the second; the others (if any) stay free for
 * PostgreSQL and Redis, which are never pinned. BENCH_PIN=0 turns pinning off.
 */
export function detectPinning(
  roles: [load: string, server: string] = ['load generator', 'server'],
): Pinning {
  const fallbackCpus = cpus().map((_, i) => i);
  const none = (reason: string, availableCpus = fallbackCpus): Pinning => ({
    used: false,
    reason,
    loadCpus: null,
    serverCpus: null,
    availableCpus,
  });
  if (['0', 'false', 'no', 'off'].includes((process.env.BENCH_PIN ?? '').trim().toLowerCase()))
    return none('turned off (BENCH_PIN)');
  if (platform() !== 'linux') return none(`not on Linux (${platform()})`);
  const query = spawnSync('taskset', ['-pc', String(process.pid)], { encoding: 'utf8' });
  if (query.error || query.status !== 0) return none('taskset is not available');
  const list = /list:\s*([0-9,\-\s]+)$/m.exec(query.stdout)?.[1];
  const available = list ? expandCpuList(list) : [];
  if (available.length < 2)
    return none(`only ${available.length || 1} CPU available`, available.length ? available : [0]);
  const [load, server] = available;
  if (spawnSync('taskset', ['-c', String(server), 'true']).status !== 0)
    return none(`taskset cannot pin to CPU ${server} here`, available);
  return {
    used: true,
    reason: `${roles[0]} on CPU ${load}, ${roles[1]} on CPU ${server}`,
    loadCpus: String(load),
    serverCpus: String(server),
    availableCpus: available,
  };
}

/** Moves this process (all its threads; children inherit it) to the load generator's CPU. */
export function pinSelf(pinning: Pinning): void {
  if (!pinning.used) return;
  const result = spawnSync('taskset', ['-a', '-pc', pinning.loadCpus!, String(process.pid)]);
  if (result.status !== 0) console.error('  (could not pin the orchestrating process itself)');
}

// --- Machine --------------------------------------------------------------------------------

export interface MachineInfo {
  cpuModel: string;
  cpuCount: number;
  availableCpus: number[];
  node: string;
  platform: string;
  arch: string;
  kernel: string;
  memoryMb: number;
}

export function machineInfo(pinning: Pinning): MachineInfo {
  return {
    cpuModel: cpus()[0]?.model.trim() ?? 'unknown',
    cpuCount: cpus().length,
    availableCpus: pinning.availableCpus,
    node: process.version,
    platform: platform(),
    arch: arch(),
    kernel: release(),
    memoryMb: Math.round(totalmem() / 2 ** 20),
  };
}

export function describeSetup(machine: MachineInfo, pinning: Pinning): string {
  return `${machine.cpuCount} × ${machine.cpuModel}, Node ${machine.node}; pinning ${
    pinning.used ? `used (${pinning.reason})` : `not used: ${pinning.reason}`
  }`;
}

// --- Child processes ------------------------------------------------------------------------

const children = new Set<ChildProcess>();
process.once('exit', () => {
  // A failed or interrupted bench leaves no server or worker behind.
  for (const child of children)
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
});

/** Starts `node <args>`, under `taskset -c <cpus>` when given. Its pid is node's (taskset execs). */
export function spawnNode(
  args: string[],
  options: { cpus: string | null; env?: NodeJS.ProcessEnv; stdio?: StdioOptions },
): ChildProcess {
  const stdio = options.stdio ?? ['ignore', 'ignore', 'inherit'];
  const env = options.env ?? process.env;
  // BENCH_CPU_PROF_DIR: every server and worker writes a V8 CPU profile there when it exits.
  const profileDir = process.env.BENCH_CPU_PROF_DIR;
  if (profileDir) args = ['--cpu-prof', `--cpu-prof-dir=${profileDir}`, ...args];
  const child = options.cpus
    ? spawn('taskset', ['-c', options.cpus, process.execPath, ...args], { cwd: ROOT, env, stdio })
    : spawn(process.execPath, args, { cwd: ROOT, env, stdio });
  children.add(child);
  child.once('exit', () => children.delete(child));
  return child;
}

/** SIGTERM, then SIGKILL if it has not exited after `graceMs`. */
export async function stopChild(child: ChildProcess, graceMs = 15_000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((done) => child.once('exit', done));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await exited;
  clearTimeout(timer);
}

/** Waits for an IPC message the predicate accepts; fails if the child exits first. */
export function nextMessage<T>(
  child: ChildProcess,
  accept: (message: T) => boolean,
  timeoutMs = 120_000,
): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const onMessage = (message: T) => {
      if (!accept(message)) return;
      cleanup();
      resolve(message);
    };
    const onExit = (code: number | null, signal: string | null) => {
      cleanup();
      reject(new Error(`the child process exited (${code ?? signal}) before answering`));
    };
    const timer = setTimeout(() => {
      cleanup();
      reject(new Error(`no answer from the child process within ${timeoutMs} ms`));
    }, timeoutMs);
    const cleanup = () => {
      clearTimeout(timer);
      child.off('message', onMessage);
      child.off('exit', onExit);
    };
    child.on('message', onMessage);
    child.once('exit', onExit);
  });
}

/** A TCP port that was free a moment ago. */
export async function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() =>
        typeof address === 'object' && address
          ? resolvePort(address.port)
          : reject(new Error('no port')),
      );
    });
  });
}

/** Resident and peak resident memory of a process (Linux /proc), in MB; null elsewhere. */
export function memoryOf(pid: number): { rssMb: number; peakRssMb: number } | null {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (field: string) =>
      Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1]);
    const rss = kb('VmRSS');
    const peak = kb('VmHWM');
    if (!Number.isFinite(rss)) return null;
    return { rssMb: round(rss / 1024, 1), peakRssMb: round(peak / 1024, 1) };
  } catch {
    return null;
  }
}

// --- Statistics and targets -----------------------------------------------------------------

export interface Spread {
  median: number;
  min: number;
  max: number;
}

export const round = (value: number, digits = 0): number => Number(value.toFixed(digits));

export function spread(values: number[], digits = 0): Spread {
  if (values.length === 0) throw new Error('no values');
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  const median =
    sorted.length % 2 === 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
  return {
    median: round(median, digits),
    min: round(sorted[0], digits),
    max: round(sorted[sorted.length - 1], digits),
  };
}

export interface Target {
  /** E.g. "≥ 0.60× bare Nest". */
  description: string;
  /** The field of the row (or the metric) it is checked on; always its median. */
  metric: string;
  comparison: '>=' | '<';
  threshold: number;
  measured: number;
  met: boolean;
}

export function checkTarget(
  description: string,
  metric: string,
  comparison: '>=' | '<',
  threshold: number,
  measured: number,
): Target {
  const met = comparison === '>=' ? measured >= threshold : measured < threshold;
  return { description, metric, comparison, threshold, measured, met };
}

/** The fields every results row has, whatever else it measures. */
export interface ResultRowBase {
  id: string;
  name: string;
  baseline: boolean;
  /** Ratio to the baseline row, run by run (paired with the baseline run of the same round). */
  ratio: Spread | null;
  /** One line for the table, e.g. "≥ 0.60×, p99 < 25 ms"; null: none. */
  target: string | null;
  targets: Target[];
  /** Every target met; null when the row has none. */
  met: boolean | null;
}

export type TargetFields = Pick<ResultRowBase, 'target' | 'targets' | 'met'>;

/** The row with its targets, their one-line summary and whether all are met. */
export function withTargets<T extends object>(row: T, targets: Target[]): T & TargetFields {
  return {
    ...row,
    target: targets.length ? targets.map((t) => t.description).join(', ') : null,
    targets,
    met: targets.length ? targets.every((t) => t.met) : null,
  };
}

// --- Results --------------------------------------------------------------------------------

/** What every results file starts with: when, where, and how the processes were pinned. */
export function resultsHeader(machine: MachineInfo, pinning: Pinning): ResultsHeader {
  return {
    date: new Date().toISOString(),
    machine,
    pinning: {
      used: pinning.used,
      reason: pinning.reason,
      loadCpus: pinning.loadCpus,
      serverCpus: pinning.serverCpus,
    },
  };
}

export function writeResults(name: string, results: object): string {
  mkdirSync(RESULTS_DIR, { recursive: true });
  const file = join(RESULTS_DIR, `${name}.json`);
  writeFileSync(file, `${JSON.stringify(results, null, 2)}\n`);
  return file;
}
