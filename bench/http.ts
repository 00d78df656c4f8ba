/**
 * `npm run bench`: drives the built API with autocannon over loopback and compares each row
 * with a bare NestJS JSON route (bench/bare-nest.ts) measured the same way.
 *
 *   npm run bench                                   # 3 runs × 10 s per row, 50 connections
 *   BENCH_DURATION_S=2 BENCH_RUNS=1 npm run bench   # a quick check that it works
 *
 * Settings (environment): BENCH_RUNS (3), BENCH_DURATION_S (10; BENCH_DURATION is the old
 * name), BENCH_WARMUP_S (1, before every measurement, not counted), BENCH_CONNECTIONS (50),
 * BENCH_PIN=0 (no CPU pinning), BENCH_EXTENDED=1 (adds the admin list and login rows).
 *
 * Each run is a round over every server: the baseline, the API (API_WORKERS=1) with its rows,
 * then the API with CACHE_ENABLED=false; each server is started fresh for the round and
 * stopped after it. Rounds interleave the rows, so each run's ratio is against the baseline of
 * the same round and slow drift on a shared machine moves both alike. The medians and the
 * spread (min–max) over the runs are reported.
 *
 * With `taskset` and two CPUs or more, every server runs under `taskset -c <second CPU>` and
 * autocannon (a child process, see load-generator.ts) and this script on the first; PostgreSQL
 * and Redis are not pinned. Whether pinning was used is printed and recorded.
 *
 * Also measured on the API (cache on) each round: its RSS after its rows, and from spawn to
 * its first HTTP answer and to its first 200 on /health/ready.
 *
 * It starts what it needs: its own database (girder_bench_<random>, migrated, dropped at the
 * end), Redis key prefix and STORAGE_DIR, the API built in dist/ (`npm run bench` builds first)
 * and the baseline. Rate limits are raised out of the way (the throttler still runs on every
 * request). Results: bench/results/http.json and the Markdown tables on stdout
 * (`npm run bench:table` prints them again from the file).
 */
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import {
  benchRuns,
  checkTarget,
  describeSetup,
  resultsHeader,
  detectPinning,
  envFlag,
  envNumber,
  freePort,
  machineInfo,
  memoryOf,
  pinSelf,
  ROOT,
  round,
  spawnNode,
  spread,
  stopChild,
  TS_NODE,
  withTargets,
  writeResults,
  type Pinning,
  type Target,
  type TargetFields,
} from './bench-support';
import { runBench, withBenchEnvironment, type BenchEnvironment } from './bench-environment';
import { LoadGenerator, type Measurement } from './load-generator';
import { renderHttp } from './render-table';
import type { HttpResults, HttpRow, ProcessRow } from './results-types';

const RUNS = benchRuns();
const DURATION_S = envNumber(['BENCH_DURATION_S', 'BENCH_DURATION'], 10);
const WARMUP_S = envNumber(['BENCH_WARMUP_S'], 1, { allowZero: true });
const CONNECTIONS = Math.round(envNumber(['BENCH_CONNECTIONS'], 50));
const EXTENDED = envFlag('BENCH_EXTENDED');
const API_ENTRY = join(ROOT, 'dist/apps/api/src/main.js');
const ADMIN = { email: 'admin@bench.test', password: 'bench-admin-password' };
const USER = { email: 'user@bench.test', password: 'bench-user-password', name: 'Bench User' };
/** One secret for the whole bench: a token stays valid across restarts of the API. */
const JWT_SECRET = randomBytes(48).toString('base64url');

type ServerId = 'bare' | 'api' | 'api-cache-off';
const SERVER_ORDER: ServerId[] = ['bare', 'api', 'api-cache-off'];

interface Scenario {
  id: string;
  name: string;
  server: ServerId;
  path: string;
  method?: 'GET' | 'POST';
  /** Bearer token of the bench user or of the seeded admin. */
  auth?: 'user' | 'admin';
  /** POSTs the bench user's credentials. */
  login?: boolean;
  /** Only with BENCH_EXTENDED=1. */
  extended?: boolean;
  targets?: (row: HttpMeasures) => Target[];
}

type HttpMeasures = Omit<HttpRow, keyof TargetFields>;

const ratioAtLeast = (threshold: number) => (row: HttpMeasures) => [
  checkTarget(`≥ ${threshold.toFixed(2)}×`, 'ratio', '>=', threshold, row.ratio!.median),
];

const SCENARIOS: Scenario[] = [
  { id: 'bare', name: 'bare NestJS JSON route (baseline)', server: 'bare', path: '/bare' },
  {
    id: 'health-live',
    name: 'GET /health/live',
    server: 'api',
    path: '/health/live',
    targets: ratioAtLeast(0.85),
  },
  {
    id: 'users-me-cached',
    name: 'GET /users/me (cached)',
    server: 'api',
    path: '/api/v1/users/me',
    auth: 'user',
    targets: (row) => [
      ...ratioAtLeast(0.6)(row),
      // The target is stated at 50 connections; another BENCH_CONNECTIONS is said so.
      checkTarget(
        `p99 < 25 ms${CONNECTIONS === 50 ? '' : ` (at ${CONNECTIONS} conn.)`}`,
        'p99Ms',
        '<',
        25,
        row.p99Ms.median,
      ),
    ],
  },
  {
    id: 'users-list-db',
    name: 'GET /users?limit=20 (admin, DB)',
    server: 'api',
    path: '/api/v1/users?limit=20',
    auth: 'admin',
    extended: true,
  },
  {
    id: 'login',
    name: 'POST /auth/login (argon2id)',
    server: 'api',
    method: 'POST',
    path: '/api/v1/auth/login',
    login: true,
    extended: true,
  },
  {
    id: 'users-me-db',
    name: 'GET /users/me (cache off, DB)',
    server: 'api-cache-off',
    path: '/api/v1/users/me',
    auth: 'user',
    targets: ratioAtLeast(0.45),
  },
];

let bench: BenchEnvironment;
let pinning: Pinning;
let load: LoadGenerator;
let userRegistered = false;

const apiEnv = (port: number, extra: Record<string, string>): NodeJS.ProcessEnv => ({
  ...process.env,
  NODE_ENV: 'production',
  PORT: String(port),
  API_WORKERS: '1',
  DATABASE_URL: bench.databaseUrl,
  DATABASE_READ_URLS: '',
  REDIS_URL: bench.redisUrl,
  REDIS_KEY_PREFIX: bench.prefix,
  STORAGE_DIR: bench.storageDir,
  JWT_SECRET,
  ADMIN_EMAIL: ADMIN.email,
  ADMIN_PASSWORD: ADMIN.password,
  RATE_LIMIT_PER_MINUTE: '1000000000',
  LOGIN_RATE_LIMIT_PER_MINUTE: '1000000000',
  REGISTER_RATE_LIMIT_PER_MINUTE: '1000000000',
  // Logs go to a pipe the bench drains (see startServer).
  LOG_LEVEL: 'info',
  LOG_PRETTY: 'false',
  ...extra,
});

interface RunningServer {
  child: ChildProcess;
  base: string;
  /** From spawn to the first HTTP answer (any status). */
  listeningMs: number;
  /** From spawn to the first 200 on the ready URL. */
  readyMs: number;
}

/** Polls every 10 ms (a 1 s target needs finer steps than the usual 200 ms). */
async function waitUntilReady(
  url: string,
  child: ChildProcess,
  spawnedAt: number,
  timeoutMs = 60_000,
): Promise<Pick<RunningServer, 'listeningMs' | 'readyMs'>> {
  let listeningMs: number | null = null;
  while (performance.now() - spawnedAt < timeoutMs) {
    if (child.exitCode !== null || child.signalCode !== null)
      throw new Error(`${url}: the process exited (${child.exitCode ?? child.signalCode})`);
    try {
      const response = await fetch(url);
      await response.arrayBuffer();
      const now = performance.now() - spawnedAt;
      listeningMs ??= now;
      if (response.status === 200) return { listeningMs, readyMs: now };
    } catch {
      // not listening yet
    }
    await new Promise((done) => setTimeout(done, 10));
  }
  throw new Error(`${url} did not answer 200 within ${timeoutMs} ms`);
}

async function startServer(id: ServerId): Promise<RunningServer> {
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const spawnedAt = performance.now();
  const child =
    id === 'bare'
      ? spawnNode([...TS_NODE, join(__dirname, 'bare-nest.ts')], {
          cpus: pinning.serverCpus,
          env: { ...process.env, PORT: String(port) },
        })
      : spawnNode([API_ENTRY], {
          cpus: pinning.serverCpus,
          env: apiEnv(port, id === 'api-cache-off' ? { CACHE_ENABLED: 'false' } : {}),
          // Its log goes into a pipe that is read and discarded, as a container runtime reads
          // it (a write to /dev/null would cost the API nothing and hide the log's real price).
          stdio: ['ignore', 'pipe', 'inherit'],
        });
  child.stdout?.resume();
  try {
    const boot = await waitUntilReady(
      id === 'bare' ? `${base}/bare` : `${base}/health/ready`,
      child,
      spawnedAt,
    );
    return { child, base, ...boot };
  } catch (error) {
    await stopChild(child);
    throw error;
  }
}

async function post<T>(url: string, body: object): Promise<T> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify(body),
  });
  if (!response.ok) throw new Error(`POST ${url}: ${response.status} ${await response.text()}`);
  return (await response.json()) as T;
}

/** Access tokens for the scenarios of one server (the bench user is registered once). */
async function tokensFor(server: RunningServer, scenarios: Scenario[]) {
  const tokens: Partial<Record<'user' | 'admin', string>> = {};
  const needs = new Set(scenarios.map((scenario) => scenario.auth));
  if ((needs.has('user') || scenarios.some((s) => s.login)) && !userRegistered) {
    await post(`${server.base}/api/v1/auth/register`, USER);
    userRegistered = true;
  }
  for (const who of ['user', 'admin'] as const) {
    if (!needs.has(who)) continue;
    const { email, password } = who === 'user' ? USER : ADMIN;
    ({ accessToken: tokens[who] } = await post<{ accessToken: string }>(
      `${server.base}/api/v1/auth/login`,
      { email, password },
    ));
  }
  return tokens;
}

async function drive(
  server: RunningServer,
  scenario: Scenario,
  tokens: Partial<Record<'user' | 'admin', string>>,
): Promise<Measurement> {
  const headers: Record<string, string> = {};
  if (scenario.auth) headers.Authorization = `Bearer ${tokens[scenario.auth]}`;
  if (scenario.login) headers['Content-Type'] = 'application/json';
  const request = {
    url: `${server.base}${scenario.path}`,
    method: scenario.method ?? 'GET',
    headers,
    body: scenario.login
      ? JSON.stringify({ email: USER.email, password: USER.password })
      : undefined,
    connections: CONNECTIONS,
  };
  if (WARMUP_S > 0) await load.measure({ ...request, durationSeconds: WARMUP_S });
  const measurement = await load.measure({ ...request, durationSeconds: DURATION_S });
  if (measurement.errors + measurement.non2xx > 0)
    console.error(
      `  warning: ${scenario.name}: ${measurement.errors} errors, ${measurement.non2xx} non-2xx answers`,
    );
  return measurement;
}

interface ApiProcessRun {
  listeningMs: number;
  readyMs: number;
  rssMb: number | null;
  peakRssMb: number | null;
}

async function measureAll() {
  const scenarios = SCENARIOS.filter((scenario) => EXTENDED || !scenario.extended);
  const measured = new Map<string, Measurement[]>(scenarios.map((s) => [s.id, []]));
  const apiRuns: ApiProcessRun[] = [];
  for (let run = 1; run <= RUNS; run += 1) {
    console.error(`Run ${run}/${RUNS}`);
    for (const serverId of SERVER_ORDER) {
      const own = scenarios.filter((scenario) => scenario.server === serverId);
      if (own.length === 0) continue;
      const server = await startServer(serverId);
      try {
        if (serverId !== 'bare')
          console.error(
            `  ${serverId}: first answer after ${Math.round(server.listeningMs)} ms, ready after ${Math.round(server.readyMs)} ms`,
          );
        const tokens = await tokensFor(server, own);
        for (const scenario of own) {
          const measurement = await drive(server, scenario, tokens);
          measured.get(scenario.id)!.push(measurement);
          console.error(
            `  ${scenario.name}: ${measurement.requestsPerSecond} req/s, p99 ${measurement.p99Ms} ms`,
          );
        }
        if (serverId === 'api') {
          const memory = memoryOf(server.child.pid!);
          apiRuns.push({
            listeningMs: server.listeningMs,
            readyMs: server.readyMs,
            rssMb: memory?.rssMb ?? null,
            peakRssMb: memory?.peakRssMb ?? null,
          });
          if (memory) console.error(`  API RSS after its rows: ${memory.rssMb} MB`);
        }
      } finally {
        await stopChild(server.child);
      }
    }
  }
  return { scenarios, measured, apiRuns };
}

function httpRows(scenarios: Scenario[], measured: Map<string, Measurement[]>): HttpRow[] {
  const baseline = measured.get('bare')!;
  return scenarios.map((scenario) => {
    const isBaseline = scenario.id === 'bare';
    const runs = measured.get(scenario.id)!.map((measurement, i) => ({
      ...measurement,
      ratio: isBaseline
        ? null
        : round(measurement.requestsPerSecond / baseline[i].requestsPerSecond, 3),
    }));
    const row: HttpMeasures = {
      id: scenario.id,
      name: scenario.name,
      baseline: isBaseline,
      apiWorkers: 1,
      pinned: pinning.used,
      runs,
      requestsPerSecond: spread(runs.map((r) => r.requestsPerSecond)),
      p50Ms: spread(
        runs.map((r) => r.p50Ms),
        1,
      ),
      p99Ms: spread(
        runs.map((r) => r.p99Ms),
        1,
      ),
      ratio: isBaseline
        ? null
        : spread(
            runs.map((r) => r.ratio!),
            2,
          ),
      errors: runs.reduce((sum, r) => sum + r.errors, 0),
      non2xx: runs.reduce((sum, r) => sum + r.non2xx, 0),
    };
    return withTargets(row, scenario.targets?.(row) ?? []);
  });
}

function processRows(runs: ApiProcessRun[]): ProcessRow[] {
  const row = (
    id: string,
    name: string,
    unit: 'MB' | 'ms',
    values: number[],
    digits: number,
    target?: (median: number) => Target,
  ): ProcessRow => {
    const value = spread(values, digits);
    return withTargets(
      { id, name, unit, runs: values.map((v) => round(v, digits)), value },
      target ? [target(value.median)] : [],
    );
  };
  const rss = runs.map((r) => r.rssMb).filter((v): v is number => v !== null);
  const peak = runs.map((r) => r.peakRssMb).filter((v): v is number => v !== null);
  return [
    ...(rss.length
      ? [
          row('rss', 'RSS after the bench', 'MB', rss, 1, (m) =>
            checkTarget('< 200 MB', 'value', '<', 200, m),
          ),
          row('peak-rss', 'peak RSS (VmHWM)', 'MB', peak, 1),
        ]
      : []),
    row(
      'boot-listening',
      'spawn → first HTTP answer',
      'ms',
      runs.map((r) => r.listeningMs),
      0,
    ),
    row(
      'boot-ready',
      'spawn → first 200 on /health/ready',
      'ms',
      runs.map((r) => r.readyMs),
      0,
      (m) => checkTarget('< 1000 ms', 'value', '<', 1000, m),
    ),
  ];
}

async function main(): Promise<void> {
  if (!existsSync(API_ENTRY)) throw new Error(`${API_ENTRY} is missing: run \`npm run build\``);
  pinning = detectPinning(['autocannon', 'server']);
  pinSelf(pinning);
  const machine = machineInfo(pinning);
  console.error(
    `HTTP benchmark: ${RUNS} run(s) × ${DURATION_S} s per row (+${WARMUP_S} s warm-up), ${CONNECTIONS} connections${EXTENDED ? ', extended rows' : ''}`,
  );
  console.error(`  ${describeSetup(machine, pinning)}`);
  let results: HttpResults | undefined;
  await withBenchEnvironment(async (environment) => {
    bench = environment;
    load = await LoadGenerator.start(pinning.loadCpus);
    try {
      const { scenarios, measured, apiRuns } = await measureAll();
      results = {
        bench: 'http',
        ...resultsHeader(machine, pinning),
        settings: {
          runs: RUNS,
          durationSeconds: DURATION_S,
          warmupSeconds: WARMUP_S,
          connections: CONNECTIONS,
          apiWorkers: 1,
          extended: EXTENDED,
        },
        rows: httpRows(scenarios, measured),
        process: processRows(apiRuns),
      };
    } finally {
      await load.close();
    }
  });
  const file = writeResults('http', results!);
  console.error(`Results written to ${file}`);
  console.log(renderHttp(results!));
}

runBench(main);
