/**
 * autocannon in its own process, so it can be pinned to a CPU of its own (see
 * bench-support.ts): the HTTP bench starts one with `LoadGenerator.start` and sends it one
 * request description per measurement over IPC; it answers the summary.
 */
import autocannon from 'autocannon';
import type { ChildProcess } from 'node:child_process';
import { nextMessage, spawnNode, stopChild, TS_NODE } from './bench-support';

export interface LoadRequest {
  url: string;
  method?: 'GET' | 'POST';
  headers?: Record<string, string>;
  body?: string;
  connections: number;
  durationSeconds: number;
}

export interface Measurement {
  requestsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  /** Connection errors and timeouts. */
  errors: number;
  non2xx: number;
  requests: number;
}

type Answer = { id: number; measurement?: Measurement; error?: string };

export class LoadGenerator {
  private nextId = 1;

  private constructor(private readonly child: ChildProcess) {}

  static async start(cpus: string | null): Promise<LoadGenerator> {
    const child = spawnNode([...TS_NODE, __filename], {
      cpus,
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    await nextMessage<string>(child, (message) => message === 'ready', 60_000);
    return new LoadGenerator(child);
  }

  async measure(request: LoadRequest): Promise<Measurement> {
    const id = this.nextId++;
    const answer = nextMessage<Answer>(
      this.child,
      (message) => message.id === id,
      (request.durationSeconds + 60) * 1000,
    );
    this.child.send({ id, request });
    const { measurement, error } = await answer;
    if (!measurement) throw new Error(`autocannon ${request.url}: ${error}`);
    return measurement;
  }

  close(): Promise<void> {
    return stopChild(this.child, 5_000);
  }
}

async function drive(request: LoadRequest): Promise<Measurement> {
  const result = await autocannon({
    url: request.url,
    method: request.method ?? 'GET',
    headers: request.headers,
    body: request.body,
    connections: request.connections,
    duration: request.durationSeconds,
  });
  return {
    requestsPerSecond: Math.round(result.requests.average),
    p50Ms: result.latency.p50,
    p99Ms: result.latency.p99,
    errors: result.errors + result.timeouts,
    non2xx: result.non2xx,
    requests: result.requests.total,
  };
}

if (require.main === module) {
  process.on('message', (message: { id: number; request: LoadRequest }) => {
    drive(message.request).then(
      (measurement) => process.send?.({ id: message.id, measurement }),
      (error: unknown) => process.send?.({ id: message.id, error: String(error) }),
    );
  });
  process.on('SIGTERM', () => process.exit(0));
  process.send?.('ready');
}
