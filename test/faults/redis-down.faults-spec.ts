import { reportCounts } from './fault-report';
import { describeWithRedis } from '../support/redis-mode';
import { FaultWorld, StatusCounts, traffic } from './fault-world';
import { waitForProbes } from './probe-task';

const DOWN_MS = Number(process.env.FAULTS_REDIS_DOWN_MS ?? 30_000);

/** Redis down for 30 s under traffic: reads and submissions carry on; everything runs later. */
describeWithRedis('fault: Redis down under traffic', () => {
  const world = new FaultWorld();

  beforeAll(() => world.start());
  afterAll(() => world.stop());

  it(
    `reads answer 200 and submissions 202 while Redis is down ${DOWN_MS / 1000} s; every task completes once afterwards`,
    async () => {
      const api = world.api!;
      const session = await api.register();
      const reads = new StatusCounts();
      const submissions = new StatusCounts();

      await world.redis.kill();
      let n = 0;
      await traffic(DOWN_MS, 4, async () => {
        if (n++ % 2 === 0) {
          reads.add((await api.get('/api/v1/users/me', session.accessToken)).status);
        } else {
          const reply = await api.submitTask(
            'test.probe',
            { label: 'redis-down', ms: 10 },
            session.accessToken,
          );
          submissions.add(reply.status);
        }
      });
      await world.redis.start();
      const tasks = await waitForProbes(world.database, 'redis-down', 120_000);

      reportCounts('redis-down', {
        downSeconds: DOWN_MS / 1000,
        reads: reads.toString(),
        submissions: submissions.toString(),
        responses500: reads.unexpected5xx + submissions.unexpected5xx,
        tasksAccepted: submissions.of(202),
        tasksLost: tasks.lost,
        tasksRunTwice: tasks.ranTwice,
      });
      expect(reads.total).toBeGreaterThan(20);
      expect(reads.of(200)).toBe(reads.total);
      expect(submissions.of(202)).toBe(submissions.total);
      expect(tasks).toEqual({
        submitted: submissions.of(202),
        succeeded: submissions.of(202),
        lost: 0,
        ranTwice: 0,
      });
    },
    DOWN_MS + 180_000,
  );
});
