import { RequestMethod } from '@nestjs/common';
import type { UnversionedRoute } from '@girder/http';

/** Where bull-board is mounted (admins only). */
export const QUEUE_DASHBOARD_PATH = '/admin/queues';

/** The dashboard stays outside `/api/v1`: pass these to `configureHttpApp`'s unversionedRoutes. */
export const QUEUE_DASHBOARD_ROUTES: UnversionedRoute[] = [
  { path: QUEUE_DASHBOARD_PATH.slice(1), method: RequestMethod.ALL },
  { path: `${QUEUE_DASHBOARD_PATH.slice(1)}/{*path}`, method: RequestMethod.ALL },
];
