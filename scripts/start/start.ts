/**
 * `npm start` (after `npm run build`): migrate, then run the API and the worker together with
 * prefixed logs, and print where everything is once both are ready. Without DATABASE_URL
 * (development) it first starts this project's embedded PostgreSQL, or uses the one already
 * running (`npm run db:start`). Ctrl-C / SIGTERM: both apps drain and exit, then the embedded
 * PostgreSQL this launcher started is stopped cleanly.
 *
 * `--from-sources` runs the TypeScript sources through ts-node instead of dist/ (the e2e test
 * of this launcher uses it, so it needs no build).
 */
import {
  DEVELOPMENT_ADMIN_PASSWORD,
  type Environment,
  InvalidEnvironmentError,
  validateEnvironment,
} from '@girder/config';
import { EmbeddedPostgres, embeddedPostgresDirectory, embeddedPostgresUrl } from '@girder/database';
import { isPinoPrettyInstalled, shouldPrettyPrint } from '@girder/logging';
import { type ChildProcess, spawn } from 'node:child_process';
import { relative } from 'node:path';
import { createInterface } from 'node:readline';
import { config as loadDotenv } from 'dotenv';

const FROM_SOURCES = process.argv.includes('--from-sources');
const ENTRY_POINTS = {
  migrate: 'apps/api/src/migrate',
  api: 'apps/api/src/main',
  worker: 'apps/worker/src/main',
} as const;
type AppName = 'api' | 'worker';

/** node's arguments to run an entry point, built (dist/) or from the sources. */
function nodeArgs(entry: keyof typeof ENTRY_POINTS): string[] {
  return FROM_SOURCES
    ? [
        '-r',
        'ts-node/register/transpile-only',
        '-r',
        'tsconfig-paths/register',
        `${ENTRY_POINTS[entry]}.ts`,
      ]
    : [`dist/${ENTRY_POINTS[entry]}.js`];
}

const tty = process.stdout.isTTY === true;
const paint = (code: number, text: string) => (tty ? `\u001b[${code}m${text}\u001b[0m` : text);
const LABELS: Record<AppName | 'postgres' | 'start', string> = {
  api: paint(34, '[api]     '),
  worker: paint(35, '[worker]  '),
  postgres: paint(36, '[postgres]'),
  start: paint(32, '[start]   '),
};
const say = (label: keyof typeof LABELS, line: string) =>
  process.stdout.write(`${LABELS[label]} ${line}\n`);

const children = new Map<AppName, ChildProcess>();
let postgres: EmbeddedPostgres | undefined; // only when this launcher started it
let stopping = false;

async function main(): Promise<void> {
  // Where the output goes may close first (Ctrl-C also stops `npm start | tee log`): a write
  // failing then must not end this process before it has stopped the apps and PostgreSQL.
  for (const stream of [process.stdout, process.stderr]) stream.on('error', () => undefined);
  loadDotenv({ quiet: true });
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.on(signal, () => void shutDown(`${signal} received`, 0));
  }
  // Should this process die in an unexpected way, do not leave the apps behind.
  process.on('exit', () => children.forEach((child) => signalApp(child, 'SIGTERM')));

  let database = 'DATABASE_URL';
  if (!env.DATABASE_URL) {
    if (env.NODE_ENV === 'production') {
      say(
        'start',
        'DATABASE_URL: must be set in production (the embedded PostgreSQL is for development)',
      );
      process.exit(1);
    }
    database = await startEmbeddedPostgres(env);
  }

  let environment: Environment;
  try {
    environment = validateEnvironment(env);
  } catch (error) {
    if (!(error instanceof InvalidEnvironmentError)) throw error;
    process.stderr.write(`${error.message}\n`);
    return shutDown('invalid environment', 1);
  }
  // The apps write to our pipes, not to the terminal: decide "automatic" for them.
  if (
    !env.LOG_PRETTY &&
    shouldPrettyPrint(undefined, {
      isTty: tty,
      production: environment.NODE_ENV === 'production',
      prettyInstalled: isPinoPrettyInstalled,
    })
  ) {
    Object.assign(env, { LOG_PRETTY: 'true', FORCE_COLOR: env.FORCE_COLOR ?? '1' });
  }

  const migrated = await runToEnd(process.execPath, nodeArgs('migrate'), env);
  if (stopping) return;
  if (migrated !== 0) return shutDown('migrations failed', 1);

  for (const name of ['api', 'worker'] as const) startApp(name, env);
  if (await waitUntilReady(environment)) printBanner(environment, database);
}

async function startEmbeddedPostgres(env: NodeJS.ProcessEnv): Promise<string> {
  const { directory, note } = embeddedPostgresDirectory(process.cwd(), env);
  if (note) say('postgres', note);
  const shown = relative(process.cwd(), directory).startsWith('..')
    ? directory
    : relative(process.cwd(), directory);
  const server = new EmbeddedPostgres({ directory, log: (line) => say('postgres', line) });
  const startedAt = Date.now();
  const running = await server.start();
  env.DATABASE_URL = embeddedPostgresUrl(running.port);
  if (running.reused) {
    say(
      'postgres',
      `using the embedded PostgreSQL already running on 127.0.0.1:${running.port} (data in ${shown}); it keeps running after this`,
    );
    return `embedded, data in ${shown}; npm run db:stop stops it`;
  }
  postgres = server;
  say(
    'postgres',
    `embedded PostgreSQL ${running.initialised ? 'created and ' : ''}started on 127.0.0.1:${running.port} in ${Date.now() - startedAt} ms (data in ${shown})`,
  );
  return `embedded, data in ${shown}`;
}

function startApp(name: AppName, env: NodeJS.ProcessEnv): void {
  const child = spawn(process.execPath, nodeArgs(name), {
    env,
    // The IPC channel is the app's lifeline: it shuts down when this launcher dies, even by
    // kill -9 (runMain in @girder/lifecycle).
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    // Own process group: the terminal's Ctrl-C reaches only this launcher, which then asks
    // each app once to drain (a second signal would make an app exit at once).
    detached: process.platform !== 'win32',
  });
  children.set(name, child);
  for (const stream of [child.stdout!, child.stderr!]) {
    createInterface({ input: stream }).on('line', (line) => say(name, line));
  }
  child.once('exit', (code, signal) => {
    children.delete(name);
    if (stopping) return;
    say(name, `exited unexpectedly (${signal ?? `code ${code}`}); stopping everything`);
    void shutDown(`${name} exited`, 1);
  });
}

function signalApp(child: ChildProcess, signal: NodeJS.Signals): void {
  try {
    child.kill(signal);
  } catch {
    // already gone
  }
}

async function waitUntilReady(environment: Environment): Promise<boolean> {
  const urls = [
    `http://127.0.0.1:${environment.PORT}/health/ready`,
    `http://127.0.0.1:${environment.WORKER_HEALTH_PORT}/health/ready`,
  ];
  const deadline = Date.now() + 120_000;
  while (!stopping && Date.now() < deadline) {
    const answers = await Promise.all(
      urls.map((url) =>
        fetch(url, { signal: AbortSignal.timeout(2_000) }).then(
          (response) => response.status,
          () => 0,
        ),
      ),
    );
    if (answers.every((status) => status === 200)) return true;
    await new Promise((done) => setTimeout(done, 250));
  }
  if (!stopping) say('start', `not ready after 120 s (${urls.join(', ')}): see the logs above`);
  return false;
}

function printBanner(environment: Environment, database: string): void {
  const api = `http://localhost:${environment.PORT}`;
  const rows: Array<[string, string]> = [
    ['API', `${api}/api/v1`],
    ['Swagger UI', `${api}/docs`],
    ['Queue dashboard', `${api}/admin/queues`],
    ['Worker health', `http://localhost:${environment.WORKER_HEALTH_PORT}/health/ready`],
    ['PostgreSQL', `${redactPassword(environment.DATABASE_URL)} (${database})`],
  ];
  if (environment.NODE_ENV === 'development' && environment.ADMIN_EMAIL) {
    const password =
      environment.ADMIN_PASSWORD === DEVELOPMENT_ADMIN_PASSWORD
        ? environment.ADMIN_PASSWORD
        : '(your ADMIN_PASSWORD)';
    rows.push([
      'Sign in',
      `${environment.ADMIN_EMAIL} / ${password} (POST /api/v1/auth/login, or Authorize in Swagger UI)`,
    ]);
  }
  const width = Math.max(...rows.map(([name]) => name.length));
  const rule = paint(32, '─'.repeat(72));
  process.stdout.write(
    [
      '',
      rule,
      paint(32, `  Girder is ready (${environment.NODE_ENV})`),
      ...rows.map(([name, value]) => `  ${name.padEnd(width)}  ${value}`),
      `  Ctrl-C stops both apps${postgres ? ', then PostgreSQL' : ''}.`,
      rule,
      '',
    ].join('\n') + '\n',
  );
}

function redactPassword(url: string): string {
  const parsed = new URL(url);
  if (parsed.password) parsed.password = '***';
  return parsed.toString();
}

/** A step in our own process group (migrations): Ctrl-C reaches it directly. */
function runToEnd(file: string, args: string[], env: NodeJS.ProcessEnv): Promise<number> {
  return new Promise((done) => {
    const child = spawn(file, args, { env, stdio: 'inherit' });
    child.once('exit', (code) => done(code ?? 1));
  });
}

async function shutDown(reason: string, code: number): Promise<void> {
  if (stopping) {
    // A second Ctrl-C: no more waiting for the apps to drain.
    children.forEach((child) => killGroup(child));
    return;
  }
  stopping = true;
  let exitCode = code;
  if (children.size > 0) {
    say('start', `${reason}: stopping the apps`);
    const exits = [...children.values()].map(
      (child) =>
        new Promise<void>((done) =>
          child.once('exit', (childCode) => {
            if (childCode !== 0) exitCode = 1;
            done();
          }),
        ),
    );
    children.forEach((child) => signalApp(child, 'SIGTERM'));
    const patience = setTimeout(() => children.forEach((child) => killGroup(child)), 20_000);
    await Promise.all(exits);
    clearTimeout(patience);
  }
  if (postgres) {
    say('postgres', 'stopping');
    try {
      await postgres.stop();
      say('postgres', 'stopped');
    } catch (error) {
      say('postgres', `did not stop cleanly: ${(error as Error).message}`);
      exitCode = 1;
    }
  }
  process.exit(exitCode);
}

function killGroup(child: ChildProcess): void {
  try {
    if (child.pid && process.platform !== 'win32') process.kill(-child.pid, 'SIGKILL');
    else child.kill('SIGKILL');
  } catch {
    // already gone
  }
}

main().catch(async (error: unknown) => {
  say('start', `failed: ${(error as Error)?.message ?? String(error)}`);
  await shutDown('failure', 1);
});
