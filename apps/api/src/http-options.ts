import { ACCOUNT_API_TAG, AUTH_API_TAG } from '@girder/auth';
import type { HttpAppOptions } from '@girder/http';
import { QUEUE_DASHBOARD_ROUTES, TASKS_API_TAG, taskTypesOpenApi } from '@girder/tasks';
import { USERS_API_TAG } from '@girder/users';

/** HTTP settings of this API, shared by main.ts, the e2e harness and `npm run openapi`. */
export const API_HTTP_OPTIONS: HttpAppOptions = {
  // A users.import CSV of 10,000 rows is far above the default 100 kB.
  bodyLimits: { '/api/v1/tasks': '5mb' },
  unversionedRoutes: QUEUE_DASHBOARD_ROUTES,
  openApi: {
    tags: [AUTH_API_TAG, ACCOUNT_API_TAG, USERS_API_TAG, TASKS_API_TAG],
    ...taskTypesOpenApi(),
  },
};
