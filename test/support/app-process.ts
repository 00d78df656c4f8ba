import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { resolve } from 'node:path';

const ROOT = resolve(__dirname, '../..');

export const ENTRY_POINTS = {
  api: 'apps/api/src/main.ts',
  worker: 'apps/worker/src/main.ts',
} as const;

/** A free TCP port on loopback (the OS picks it; we release it for the child). */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const address = server.address();
  await new Promise<void>((done) => server.close(() => done()));
  if (typeof address !== 'object' || !address) throw new Error('no port');
  return address.port;
}

export interface AppProcessOptions {
  /** Modules (paths from the repository root) loaded before the entry point, e.g. test hooks. */
  preload?: string[];
}

/** One real app process (API or worker) run from the TypeScript sources, as `npm run start:dev` would. */
export class AppProcess {
  /** stdout and stderr as they arrived, interleaved. */
  readonly output: string[] = [];
  private readonly stdoutChunks: string[] = [];
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  private readonly child: ChildProcess;

  constructor(
    entry: keyof typeof ENTRY_POINTS,
    env: Record<string, string> = {},
    options: AppProcessOptions = {},
  ) {
    this.child = spawn(
      process.execPath,
      [
        '-r',
        'ts-node/register/transpile-only',
        '-r',
        'tsconfig-paths/register',
        ...(options.preload ?? []).flatMap((module) => ['-r', resolve(ROOT, module)]),
        ENTRY_POINTS[entry],
      ],
      {
        cwd: ROOT,
        env: { ...process.env, LOG_LEVEL: 'info', ...env },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    this.child.stdout!.on('data', (chunk: Buffer) => {
      this.output.push(chunk.toString());
      this.stdoutChunks.push(chunk.toString());
    });
    this.child.stderr!.on('data', (chunk: Buffer) => this.output.push(chunk.toString()));
    this.exited = new Promise((done) =>
      this.child.once('exit', (code, signal) => done({ code, signal })),
    );
  }

  get pid(): number {
    return this.child.pid!;
  }

  get text(): string {
    return this.output.join('');
  }

  /** stdout alone: whole log lines, never cut by what stderr wrote meanwhile. */
  get stdout(): string {
    return this.stdoutChunks.join('');
  }

  /**
   * Stops reading the process's stdout: once the pipe's buffer is full, what it writes waits in
   * its own memory (a log reader that cannot keep up). `resumeOutput` reads again.
   */
  pauseOutput(): void {
    this.child.stdout!.pause();
  }

  resumeOutput(): void {
    this.child.stdout!.resume();
  }

  kill(signal: NodeJS.Signals): void {
    this.child.kill(signal);
  }

  /** Polls `url` until it answers `status`, or fails after `timeoutMs` with the process output. */
  async waitFor(url: string, status = 200, timeoutMs = 30_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    let exited = false;
    void this.exited.then(() => (exited = true));
    while (Date.now() < deadline && !exited) {
      try {
        const response = await fetch(url);
        if (response.status === status) return;
      } catch {
        // not listening yet
      }
      await new Promise((done) => setTimeout(done, 150));
    }
    throw new Error(`${url} did not answer ${status} in time. Output:\n${this.text}`);
  }

  /** Ensures the process is gone (used in afterAll). */
  async stop(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGKILL');
    await this.exited;
  }
}
