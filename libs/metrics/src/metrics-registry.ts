import { Injectable } from '@nestjs/common';
import { Registry, collectDefaultMetrics } from 'prom-client';

/**
 * This app's Prometheus registry: process metrics plus whatever features register. One per
 * app, not prom-client's global one, so two apps in one process (tests) do not collide.
 */
@Injectable()
export class MetricsRegistry extends Registry {
  constructor(service: string) {
    super();
    this.setDefaultLabels({ service });
    collectDefaultMetrics({ register: this });
  }
}
