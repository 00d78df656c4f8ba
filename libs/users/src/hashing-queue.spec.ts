import { ProblemException } from '@girder/errors';
import { HashingQueue } from './hashing-queue';

/** A job that stays running until `finish()` is called. */
function gate() {
  let finish!: () => void;
  const done = new Promise<void>((resolve) => (finish = resolve));
  return { finish, done };
}

describe('HashingQueue', () => {
  it('runs at most `concurrency` jobs at once; the rest wait their turn', async () => {
    const queue = new HashingQueue(2, 10);
    const gates = [gate(), gate(), gate()];
    const started: number[] = [];
    const runs = gates.map((g, index) =>
      queue.run('hash', async () => {
        started.push(index);
        await g.done;
      }),
    );
    await Promise.resolve();
    expect(started).toEqual([0, 1]);
    expect(queue.size).toEqual({ running: 2, waiting: 1 });
    gates[0].finish();
    await runs[0];
    await Promise.resolve();
    expect(started).toEqual([0, 1, 2]);
    gates[1].finish();
    gates[2].finish();
    await Promise.all(runs);
    expect(queue.size).toEqual({ running: 0, waiting: 0 });
  });

  it('lets password checks go before queued hashes', async () => {
    const queue = new HashingQueue(1, 10);
    const first = gate();
    const order: string[] = [];
    const busy = queue.run('hash', () => first.done);
    const hash = queue.run('hash', async () => void order.push('hash'));
    const verify = queue.run('verify', async () => void order.push('verify'));
    first.finish();
    await Promise.all([busy, hash, verify]);
    expect(order).toEqual(['verify', 'hash']);
  });

  it('refuses with 503 once too many are waiting, and recovers', async () => {
    const queue = new HashingQueue(1, 1);
    const first = gate();
    const busy = queue.run('hash', () => first.done);
    const waiting = queue.run('hash', async () => 'ran');
    await expect(queue.run('hash', async () => 'never')).rejects.toMatchObject({
      code: 'SERVICE_UNAVAILABLE',
    });
    await expect(queue.run('verify', async () => 'never')).rejects.toBeInstanceOf(ProblemException);
    first.finish();
    await busy;
    expect(await waiting).toBe('ran');
    expect(await queue.run('hash', async () => 'again')).toBe('again');
  });

  it('frees the slot when a job fails', async () => {
    const queue = new HashingQueue(1, 5);
    await expect(
      queue.run('hash', async () => {
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    expect(await queue.run('hash', async () => 1)).toBe(1);
  });
});
