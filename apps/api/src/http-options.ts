import type { HttpAppOptions } from '@girder/http';

/** HTTP settings of this API, shared by main.ts and the e2e harness. */
export const API_HTTP_OPTIONS: HttpAppOptions = {
  // A users.import CSV of 10,000 rows is far above the default 100 kB.
  bodyLimits: { '/api/v1/tasks': '5mb' },
};
