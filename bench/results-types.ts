/** The shape of bench/results/http.json and queue.json (written by the benches, read by render-table.ts). */
import type { MachineInfo, ResultRowBase, Spread, Target } from './bench-support';

export interface PinningSummary {
  used: boolean;
  reason: string;
  loadCpus: string | null;
  serverCpus: string | null;
}

export interface ResultsHeader {
  /** ISO date of the end of the run. */
  date: string;
  machine: MachineInfo;
  pinning: PinningSummary;
}

export interface HttpRun {
  requestsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  errors: number;
  non2xx: number;
  requests: number;
  /** This run's req/s over the baseline's in the same round; null for the baseline. */
  ratio: number | null;
}

export interface HttpRow extends ResultRowBase {
  apiWorkers: number;
  pinned: boolean;
  runs: HttpRun[];
  requestsPerSecond: Spread;
  p50Ms: Spread;
  p99Ms: Spread;
  /** Totals over the runs: anything but 0 makes the row suspect. */
  errors: number;
  non2xx: number;
}

/** A figure about the API process itself (memory, start-up), one value per run. */
export interface ProcessRow {
  id: string;
  name: string;
  unit: 'MB' | 'ms';
  runs: number[];
  value: Spread;
  target: string | null;
  targets: Target[];
  met: boolean | null;
}

export interface HttpResults extends ResultsHeader {
  bench: 'http';
  settings: {
    runs: number;
    durationSeconds: number;
    warmupSeconds: number;
    connections: number;
    apiWorkers: number;
    extended: boolean;
  };
  rows: HttpRow[];
  process: ProcessRow[];
}

export interface QueueRun {
  seconds: number;
  jobsPerSecond: number;
  /** End-to-end rows: how long submitting took (the rest is the worker catching up). */
  submitSeconds: number | null;
  ratio: number | null;
}

export interface QueueRow extends ResultRowBase {
  worker: 'bare' | 'girder';
  measure: 'end-to-end' | 'drain';
  /** The id of the row the ratio is against; null for a baseline. */
  comparedTo: string | null;
  jobs: number;
  concurrency: number;
  runs: QueueRun[];
  jobsPerSecond: Spread;
  seconds: Spread;
}

export interface QueueResults extends ResultsHeader {
  bench: 'queue';
  settings: {
    runs: number;
    jobs: number;
    warmupJobs: number;
    concurrency: number;
    submitConcurrency: number;
  };
  rows: QueueRow[];
}
