import { getQueueToken } from '@nestjs/bullmq';
import { SIGNUPS_SCHEDULER_ID } from '@girder/users';
import type { Queue } from 'bullmq';
import type { SessionBody } from '../support/api-client';
import { reportCounts } from './fault-report';
import { describeWithRedis } from '../support/redis-mode';
import { FaultWorld } from './fault-world';
import { tallyProbes, waitForProbes } from './probe-task';

/**
 * Redis restarted without persistence (its data gone) while tasks are queued and running and
 * sessions are revoked: nothing may come back to life, nothing may be lost or run twice.
 */
describeWithRedis('fault: Redis restarted empty', () => {
  const world = new FaultWorld();

  beforeAll(() => world.start());
  afterAll(() => world.stop());

  it('revoked tokens stay refused, queued and running tasks complete exactly once, schedules come back', async () => {
    const api = world.api!;
    const users: SessionBody[] = [];
    for (let n = 0; n < 10; n += 1) users.push(await api.register());
    const revoked = users.slice(0, 5);
    for (const session of revoked) {
      expect(
        (await api.send('post', '/api/v1/auth/logout', undefined, session.accessToken)).status,
      ).toBe(204);
    }

    // Two long probes run (WORKER_CONCURRENCY=2), everything else waits behind them.
    const owner = users[9];
    const submit = async (label: string, ms: number) => {
      const reply = await api.submitTask('test.probe', { label, ms }, owner.accessToken);
      expect(reply.status).toBe(202);
    };
    for (let n = 0; n < 4; n += 1) await submit('restart-long', 2_000);
    for (let n = 0; n < 20; n += 1) await submit('restart-short', 20);
    const deadline = Date.now() + 10_000;
    let running = 0;
    while (running < 2 && Date.now() < deadline) {
      [{ running }] = await world.database.query(
        "SELECT count(*)::int AS running FROM tasks WHERE type = 'test.probe' AND status = 'running'",
      );
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect(running).toBe(2);
    const before = {
      long: await tallyProbes(world.database, 'restart-long'),
      short: await tallyProbes(world.database, 'restart-short'),
    };

    await world.redis.restartEmpty();

    const long = await waitForProbes(world.database, 'restart-long', 90_000);
    const short = await waitForProbes(world.database, 'restart-short', 90_000);

    let revokedAccepted = 0;
    for (const session of revoked) {
      if ((await api.get('/api/v1/users/me', session.accessToken)).status !== 401)
        revokedAccepted += 1;
    }
    let liveRefused = 0;
    for (const session of users.slice(5)) {
      if ((await api.get('/api/v1/users/me', session.accessToken)).status !== 200) liveRefused += 1;
    }

    const queue = world.worker!.get<Queue>(getQueueToken('reports'), { strict: false });
    let schedules: string[] = [];
    const scheduleDeadline = Date.now() + 30_000;
    while (!schedules.includes(SIGNUPS_SCHEDULER_ID) && Date.now() < scheduleDeadline) {
      schedules = (await queue.getJobSchedulers().catch(() => [])).map(
        (scheduler) => scheduler.key,
      );
      await new Promise((resolve) => setTimeout(resolve, 200));
    }

    reportCounts('redis-restarted-empty', {
      revokedTokensAccepted: revokedAccepted,
      liveTokensRefused: liveRefused,
      tasksSubmitted: long.submitted + short.submitted,
      runningAtRestart: 2,
      finishedBeforeRestart: before.long.succeeded + before.short.succeeded,
      tasksLost: long.lost + short.lost,
      tasksRunTwice: long.ranTwice + short.ranTwice,
      schedulesBack: schedules.includes(SIGNUPS_SCHEDULER_ID) ? 1 : 0,
    });
    expect(revokedAccepted).toBe(0);
    expect(liveRefused).toBe(0);
    expect({ long, short }).toEqual({
      long: { submitted: 4, succeeded: 4, lost: 0, ranTwice: 0 },
      short: { submitted: 20, succeeded: 20, lost: 0, ranTwice: 0 },
    });
    expect(schedules).toContain(SIGNUPS_SCHEDULER_ID);
  });
});
