import { ServiceUnavailableException } from '@nestjs/common';
import { HealthCheckService, type HealthCheckResult } from '@nestjs/terminus';
import { DependencyMetrics } from '@girder/metrics';
import { newTestService } from '../../../test/unit/new-test-service';
import { REQUIRED_CHECKS, ReadinessService } from './readiness.service';
import { RedisHealthIndicator } from './redis.health';

const up = { status: 'up' as const };
const down = { status: 'down' as const, message: 'connect ECONNREFUSED' };

/** What terminus answers (or throws, with a 503) for these indicator states. */
function terminus(details: HealthCheckResult['details'], shuttingDown = false): HealthCheckResult {
  const entries = Object.entries(details);
  const failed = entries.some(([, value]) => value.status !== 'up');
  return {
    status: shuttingDown ? 'shutting_down' : failed ? 'error' : 'ok',
    info: Object.fromEntries(entries.filter(([, value]) => value.status === 'up')),
    error: Object.fromEntries(entries.filter(([, value]) => value.status !== 'up')),
    details,
  };
}

async function readiness(
  required: string[],
  details: HealthCheckResult['details'],
  shuttingDown = false,
  redisConfigured = true,
) {
  const { sut, mock } = await newTestService(ReadinessService, [
    { provide: REQUIRED_CHECKS, useValue: required },
    {
      provide: RedisHealthIndicator,
      useValue: { configured: redisConfigured, pingCheck: jest.fn() },
    },
  ]);
  const result = terminus(details, shuttingDown);
  const health = mock(HealthCheckService);
  if (result.status === 'ok') health.check.mockResolvedValue(result);
  else health.check.mockRejectedValue(new ServiceUnavailableException(result));
  return { sut, mock, health, metrics: mock(DependencyMetrics), result };
}

describe('ReadinessService', () => {
  it('every check up: ready, terminus result as is', async () => {
    const { sut, result } = await readiness(['database'], { database: up, redis: up });
    await expect(sut.check()).resolves.toEqual({ healthy: true, result });
  });

  it('API: Redis down is degraded, not unready: status ok, Redis still listed in error and details', async () => {
    const { sut } = await readiness(['database'], { database: up, redis: down, queues: down });
    const report = await sut.check();
    expect(report.healthy).toBe(true);
    expect(report.result).toEqual({
      status: 'ok',
      info: { database: up },
      error: { redis: down, queues: down },
      details: { database: up, redis: down, queues: down },
    });
  });

  it('API: PostgreSQL down is unready', async () => {
    const { sut } = await readiness(['database'], { database: down, redis: up });
    await expect(sut.check()).resolves.toMatchObject({
      healthy: false,
      result: { status: 'error', error: { database: down } },
    });
  });

  it('worker: its queue backend down is unready; the shared Redis client alone is not', async () => {
    const queuesDown = await readiness(['database', 'queues'], { database: up, queues: down });
    expect((await queuesDown.sut.check()).healthy).toBe(false);
    const redisDown = await readiness(['database', 'queues'], {
      database: up,
      redis: down,
      queues: up,
    });
    expect(await redisDown.sut.check()).toMatchObject({ healthy: true, result: { status: 'ok' } });
  });

  it('shutting down is unready, whatever the checks say', async () => {
    const { sut } = await readiness(['database'], { database: up }, true);
    await expect(sut.check()).resolves.toMatchObject({
      healthy: false,
      result: { status: 'shutting_down' },
    });
  });

  it('sets girder_dependency_up per check and registers itself to run at every scrape', async () => {
    const { sut, metrics } = await readiness(['database'], { database: up, redis: down });
    expect(metrics.refreshOnScrape).toHaveBeenCalledTimes(1);
    await sut.check();
    expect(metrics.setUp).toHaveBeenCalledWith('database', true);
    expect(metrics.setUp).toHaveBeenCalledWith('redis', false);
  });

  it('runs the Redis check only when REDIS_URL is set (PostgreSQL-only mode has none)', async () => {
    const withRedis = await readiness(['database'], { database: up });
    await withRedis.sut.check();
    expect(withRedis.health.check.mock.calls[0][0]).toHaveLength(2);

    const withoutRedis = await readiness(['database'], { database: up }, false, false);
    await withoutRedis.sut.check();
    const checks = withoutRedis.health.check.mock.calls[0][0];
    expect(checks).toHaveLength(1);
    for (const check of checks) await check();
    const indicator = withoutRedis.mock(RedisHealthIndicator);
    expect(indicator.pingCheck).not.toHaveBeenCalled();
  });

  it('concurrent callers (a probe and a scrape) share one run', async () => {
    const { sut, health } = await readiness(['database'], { database: up });
    const [first, second] = await Promise.all([sut.check(), sut.check()]);
    expect(first).toBe(second);
    expect(health.check).toHaveBeenCalledTimes(1);
    await sut.check();
    expect(health.check).toHaveBeenCalledTimes(2);
  });
});
