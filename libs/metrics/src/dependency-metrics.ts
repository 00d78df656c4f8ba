import { Injectable } from '@nestjs/common';
import { Gauge } from 'prom-client';
import { MetricsRegistry } from './metrics-registry';

/**
 * The state of this process's dependencies, in its registry:
 * - `girder_dependency_up{dependency}`: 1 when the dependency passed its readiness check, 0
 *   when it did not; the readiness checks run again at every scrape (`refreshOnScrape`);
 * - `girder_degraded{dependency}`: 1 while a feature works around a dependency that is down
 *   (`rate_limit_redis`: rate limits counted in process memory), else 0.
 */
@Injectable()
export class DependencyMetrics {
  private readonly up: Gauge<'dependency'>;
  private readonly degraded: Gauge<'dependency'>;
  private readonly refreshers: Array<() => Promise<unknown>> = [];

  constructor(registry: MetricsRegistry) {
    const refreshers = this.refreshers;
    this.up = new Gauge({
      name: 'girder_dependency_up',
      help: 'Whether a dependency passed its readiness check (1) or not (0), checked at scrape time',
      labelNames: ['dependency'],
      registers: [registry],
      async collect() {
        await Promise.all(refreshers.map((refresh) => refresh().catch(() => undefined)));
      },
    });
    this.degraded = new Gauge({
      name: 'girder_degraded',
      help: 'Whether a feature works around a dependency that is down (1) or not (0)',
      labelNames: ['dependency'],
      registers: [registry],
    });
  }

  /** Runs `refresh` (which calls `setUp`) before every scrape of `girder_dependency_up`. */
  refreshOnScrape(refresh: () => Promise<unknown>): void {
    this.refreshers.push(refresh);
  }

  setUp(dependency: string, up: boolean): void {
    this.up.set({ dependency }, up ? 1 : 0);
  }

  setDegraded(dependency: string, degraded: boolean): void {
    this.degraded.set({ dependency }, degraded ? 1 : 0);
  }
}
