/**
 * `npm run bench`: drives the built API with autocannon over loopback and compares each row
 * with a bare NestJS JSON route (bench/bare-nest.ts) measured the same way.
 *
 *   npm run bench                          # 10 s per row, 50 connections
 *   BENCH_DURATION=5 BENCH_CONNECTIONS=20 npm run bench
 *
 * It starts what it needs: its own database (girder_bench_<random>, migrated, dropped at the
 * end) and Redis key prefix, the API built in dist/ with API_WORKERS=1 and then 2, and the
 * baseline. Rate limits are raised out of the way (the throttler still runs on every request).
 * Results: bench/results/http.json and a Markdown table on stdout (pasted into the README).
 */
import autocannon from 'autocannon';
import { fork, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus } from 'node:os';
import { join, resolve } from 'node:path';
import { runBench, withBenchEnvironment, type BenchEnvironment } from './bench-environment';

const ROOT = resolve(__dirname, '..');
const DURATION = Number(process.env.BENCH_DURATION ?? 10);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 50);
let bench: BenchEnvironment;
const ADMIN = { email: 'admin@bench.test', password: 'bench-admin-password' };

interface Measurement {
  requestsPerSecond: number;
  p50: number;
  p99: number;
  errors: number;
  non2xx: number;
}

interface Row extends Measurement {
  name: string;
  apiWorkers: number;
  ratioToBare: number;
}

const apiEnv = (port: number, workers: number, extra: Record<string, string> = {}) => ({
  ...process.env,
  NODE_ENV: 'production',
  PORT: String(port),
  API_WORKERS: String(workers),
  DATABASE_URL: bench.databaseUrl,
  DATABASE_READ_URLS: '',
  REDIS_URL: bench.redisUrl,
  REDIS_KEY_PREFIX: bench.prefix,
  JWT_SECRET: randomBytes(48).toString('base64url'),
  ADMIN_EMAIL: ADMIN.email,
  ADMIN_PASSWORD: ADMIN.password,
  RATE_LIMIT_PER_MINUTE: '1000000000',
  LOGIN_RATE_LIMIT_PER_MINUTE: '1000000000',
  LOG_LEVEL: 'info',
  ...extra,
});

async function waitForHttp(url: string, child: ChildProcess, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`${url}: the process exited (${child.exitCode})`);
    try {
      if ((await fetch(url)).ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((done) => setTimeout(done, 200));
  }
  throw new Error(`${url} did not come up`);
}

async function stop(child: ChildProcess): Promise<void> {
  // A child ended by a signal has no exit code, only a signal code.
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((done) => child.once('exit', done));
  child.kill('SIGTERM');
  await exited;
}

/** The built API (production entry point, logs to /dev/null as a file would cost about the same). */
async function startApi(port: number, workers: number, extra?: Record<string, string>) {
  const child = spawn(process.execPath, [join(ROOT, 'dist/apps/api/src/main.js')], {
    env: apiEnv(port, workers, extra),
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  await waitForHttp(`http://127.0.0.1:${port}/health/ready`, child);
  return child;
}

async function measure(
  url: string,
  options: { method?: 'GET' | 'POST'; headers?: Record<string, string>; body?: string } = {},
): Promise<Measurement> {
  const result = await autocannon({
    url,
    method: options.method ?? 'GET',
    headers: options.headers,
    body: options.body,
    connections: CONNECTIONS,
    duration: DURATION,
  });
  return {
    requestsPerSecond: Math.round(result.requests.average),
    p50: result.latency.p50,
    p99: result.latency.p99,
    errors: result.errors + result.timeouts,
    non2xx: result.non2xx,
  };
}

async function json<T>(url: string, init: RequestInit): Promise<T> {
  const response = await fetch(url, init);
  if (!response.ok)
    throw new Error(`${init.method ?? 'GET'} ${url}: ${response.status} ${await response.text()}`);
  return (await response.json()) as T;
}

async function scenarios(base: string, workers: number, bare: number): Promise<Row[]> {
  const post = (path: string, body: object, token?: string) =>
    json<{ accessToken: string; user: { id: string } }>(`${base}${path}`, {
      method: 'POST',
      headers: {
        'Content-Type': 'application/json',
        ...(token ? { Authorization: `Bearer ${token}` } : {}),
      },
      body: JSON.stringify(body),
    });
  const admin = await post('/api/v1/auth/login', ADMIN);
  const user = await post('/api/v1/auth/register', {
    email: `bench-${workers}-${bench.prefix}@example.com`,
    password: 'bench-user-password',
    name: 'Bench User',
  });
  const bearer = (token: string) => ({ Authorization: `Bearer ${token}` });

  const rows: Array<[string, () => Promise<Measurement>]> = [
    ['GET /health/live', () => measure(`${base}/health/live`)],
    [
      'GET /users/me (cached)',
      () => measure(`${base}/api/v1/users/me`, { headers: bearer(user.accessToken) }),
    ],
    [
      'GET /users?limit=20 (admin, DB)',
      () => measure(`${base}/api/v1/users?limit=20`, { headers: bearer(admin.accessToken) }),
    ],
    [
      'POST /auth/login (argon2id)',
      () =>
        measure(`${base}/api/v1/auth/login`, {
          method: 'POST',
          headers: { 'Content-Type': 'application/json' },
          body: JSON.stringify({
            email: `bench-${workers}-${bench.prefix}@example.com`,
            password: 'bench-user-password',
          }),
        }),
    ],
  ];
  const results: Row[] = [];
  for (const [name, drive] of rows) {
    const measurement = await drive();
    results.push({
      name,
      apiWorkers: workers,
      ...measurement,
      ratioToBare: ratio(measurement, bare),
    });
    console.error(`  ${name} (API_WORKERS=${workers}): ${measurement.requestsPerSecond} req/s`);
  }
  return results;
}

const ratio = (measurement: Measurement, bare: number) =>
  Number((measurement.requestsPerSecond / bare).toFixed(2));

async function main(): Promise<void> {
  await withBenchEnvironment(async (environment) => {
    bench = environment;
    const children: ChildProcess[] = [];
    try {
      await measureAll(children);
    } finally {
      await Promise.all(children.map(stop));
    }
  });
}

async function measureAll(children: ChildProcess[]): Promise<void> {
  console.error(
    `Benchmark: ${DURATION} s per row, ${CONNECTIONS} connections, ${cpus().length} CPUs (${cpus()[0]?.model ?? '?'}), Node ${process.version}`,
  );
  const barePort = 3990;
  const bareChild = fork(join(__dirname, 'bare-nest.ts'), [], {
    env: { ...process.env, PORT: String(barePort) },
    execArgv: ['-r', 'ts-node/register/transpile-only'],
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
  });
  children.push(bareChild);
  await waitForHttp(`http://127.0.0.1:${barePort}/bare`, bareChild);
  const bare = await measure(`http://127.0.0.1:${barePort}/bare`);
  await stop(bareChild);
  console.error(`  bare NestJS JSON route: ${bare.requestsPerSecond} req/s`);
  const rows: Row[] = [
    { name: 'bare NestJS JSON route (baseline)', apiWorkers: 1, ...bare, ratioToBare: 1 },
  ];

  // Cold: the same authenticated read with the cache switched off (every request hits PostgreSQL).
  const coldPort = 3991;
  const cold = await startApi(coldPort, 1, { CACHE_ENABLED: 'false' });
  children.push(cold);
  {
    const base = `http://127.0.0.1:${coldPort}`;
    const login = await json<{ accessToken: string }>(`${base}/api/v1/auth/login`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify(ADMIN),
    });
    const measurement = await measure(`${base}/api/v1/users/me`, {
      headers: { Authorization: `Bearer ${login.accessToken}` },
    });
    rows.push({
      name: 'GET /users/me (cache off, DB)',
      apiWorkers: 1,
      ...measurement,
      ratioToBare: ratio(measurement, bare.requestsPerSecond),
    });
    console.error(`  GET /users/me (cache off): ${measurement.requestsPerSecond} req/s`);
  }
  await stop(cold);

  for (const workers of [1, 2]) {
    const port = 3992 + workers;
    const api = await startApi(port, workers);
    children.push(api);
    rows.push(...(await scenarios(`http://127.0.0.1:${port}`, workers, bare.requestsPerSecond)));
    await stop(api);
  }

  const find = (name: string, workers = 1) =>
    rows.find((row) => row.name === name && row.apiWorkers === workers)!;
  const cached = find('GET /users/me (cached)');
  const dbRead = find('GET /users/me (cache off, DB)');
  const scaling = find('GET /users/me (cached)', 2).requestsPerSecond / cached.requestsPerSecond;
  const targets = [
    {
      target: 'authenticated cached read ≥ 60% of bare Nest',
      value: `${Math.round(cached.ratioToBare * 100)}%`,
      met: cached.ratioToBare >= 0.6,
    },
    {
      target: 'authenticated DB read ≥ 45% of bare Nest',
      value: `${Math.round(dbRead.ratioToBare * 100)}%`,
      met: dbRead.ratioToBare >= 0.45,
    },
    {
      target: `p99 < 25 ms at ${CONNECTIONS} connections (cached read)`,
      value: `${cached.p99} ms`,
      met: cached.p99 < 25,
    },
    {
      target: 'API_WORKERS=2 ≥ 1.7× API_WORKERS=1 (cached read)',
      value: `${scaling.toFixed(2)}×`,
      met: scaling >= 1.7,
    },
  ];

  const table = [
    '| scenario | API_WORKERS | req/s | p50 ms | p99 ms | vs bare Nest | errors / non-2xx |',
    '| --- | --- | --- | --- | --- | --- | --- |',
    ...rows.map(
      (row) =>
        `| ${row.name} | ${row.apiWorkers} | ${row.requestsPerSecond} | ${row.p50} | ${row.p99} | ${Math.round(row.ratioToBare * 100)}% | ${row.errors} / ${row.non2xx} |`,
    ),
    '',
    '| target | measured | met |',
    '| --- | --- | --- |',
    ...targets.map((t) => `| ${t.target} | ${t.value} | ${t.met ? 'yes' : 'no'} |`),
  ].join('\n');
  console.log(table);

  const folder = join(__dirname, 'results');
  mkdirSync(folder, { recursive: true });
  writeFileSync(
    join(folder, 'http.json'),
    `${JSON.stringify(
      {
        date: new Date().toISOString(),
        node: process.version,
        cpus: availableParallelism(),
        cpuModel: cpus()[0]?.model,
        durationSeconds: DURATION,
        connections: CONNECTIONS,
        rows,
        targets,
      },
      null,
      2,
    )}\n`,
  );
}

runBench(main);
