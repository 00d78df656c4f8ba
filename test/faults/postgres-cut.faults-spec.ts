import { reportCounts } from './fault-report';
import { FaultWorld, StatusCounts, traffic } from './fault-world';
import { waitForProbes } from './probe-task';

const CUT_MS = Number(process.env.FAULTS_POSTGRES_CUT_MS ?? 10_000);

/**
 * PostgreSQL cut for 10 s (every connection dropped, new ones refused) under traffic: only 503
 * problems, no 500, no crash; back within 5 s; no task lost or run twice.
 *
 * Cached reads differ by mode. With Redis the cache and its invalidations do not need
 * PostgreSQL, so a cached read is answered. On PostgreSQL alone the invalidations travel over
 * the cut connection (LISTEN/NOTIFY): a process that cannot hear them cannot prove a local copy
 * fresh (another process may still reach the database and write), so it refuses with a 503
 * rather than risk a stale answer.
 */
describe('fault: PostgreSQL cut under traffic', () => {
  const world = new FaultWorld();

  beforeAll(() => world.start());
  afterAll(() => world.stop());

  it(
    `answers only 503 problems during a ${CUT_MS / 1000} s cut, recovers within 5 s and loses no task`,
    async () => {
      const api = world.api!;
      const admin = await api.loginAdmin();
      const session = await api.register();
      // Tasks in flight when the database goes away.
      for (let n = 0; n < 6; n += 1) {
        const reply = await api.submitTask(
          'test.probe',
          { label: 'pg-cut', ms: 1_500 },
          session.accessToken,
        );
        expect(reply.status).toBe(202);
      }
      // Cached before the cut.
      expect((await api.get('/api/v1/users/me', session.accessToken)).status).toBe(200);
      const reads = new StatusCounts();
      const listings = new StatusCounts();
      const submissions = new StatusCounts();
      const problemTypes = new Set<string>();

      await world.postgresProxy.cut();
      let n = 0;
      await traffic(CUT_MS, 4, async () => {
        const kind = n++ % 3;
        const reply =
          kind === 0
            ? await api.get('/api/v1/users/me', session.accessToken)
            : kind === 1
              ? await api.get('/api/v1/users?limit=5', admin.accessToken)
              : await api.submitTask(
                  'test.probe',
                  { label: 'pg-cut', ms: 10 },
                  session.accessToken,
                );
        [reads, listings, submissions][kind].add(reply.status);
        if (reply.status >= 500)
          problemTypes.add(
            `${reply.headers['content-type']};${reply.body.code};retry-after=${reply.headers['retry-after']}`,
          );
      });
      await world.postgresProxy.restore();
      const restoredAt = Date.now();
      let recoveredMs = -1;
      while (Date.now() - restoredAt < 30_000) {
        const reply = await api.get('/api/v1/users?limit=5', admin.accessToken);
        if (reply.status === 200) {
          recoveredMs = Date.now() - restoredAt;
          break;
        }
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      const tasks = await waitForProbes(world.database, 'pg-cut', 120_000);

      reportCounts('postgres-cut', {
        cutSeconds: CUT_MS / 1000,
        cachedReads: reads.toString(),
        databaseReads: listings.toString(),
        submissions: submissions.toString(),
        responses500: reads.unexpected5xx + listings.unexpected5xx + submissions.unexpected5xx,
        recoveredMs,
        tasksAccepted: tasks.submitted,
        tasksLost: tasks.lost,
        tasksRunTwice: tasks.ranTwice,
      });
      expect(reads.unexpected5xx + listings.unexpected5xx + submissions.unexpected5xx).toBe(0);
      expect(listings.of(503)).toBeGreaterThan(0);
      expect(reads.total).toBeGreaterThan(0);
      expect(reads.of(world.withRedis ? 200 : 503)).toBe(reads.total);
      for (const type of problemTypes)
        expect(type).toBe(
          'application/problem+json; charset=utf-8;SERVICE_UNAVAILABLE;retry-after=5',
        );
      expect(recoveredMs).toBeGreaterThanOrEqual(0);
      expect(recoveredMs).toBeLessThan(5_000);
      expect(tasks.lost).toBe(0);
      expect(tasks.ranTwice).toBe(0);
      expect(tasks.succeeded).toBe(tasks.submitted);
    },
    CUT_MS + 180_000,
  );
});
