import type { INestApplication } from '@nestjs/common';
import { queueSchema } from '@girder/tasks';
import Redis from 'ioredis';
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { DataSource } from 'typeorm';
import { ApiClient, uniqueEmail, type SessionBody } from '../support/api-client';
import { e2eRedisUrl } from '../support/redis-mode';
import { createApiApp, withEnv } from '../support/test-app';

/** A queue prefix no worker serves, so submitted jobs stay queued and can be inspected. */
const PREFIX = `${process.env.REDIS_KEY_PREFIX}_secret`;

describe('task payloads that carry secrets (users.import)', () => {
  let app: INestApplication;
  let api: ApiClient;
  let admin: SessionBody;
  let redis: Redis | undefined;

  /** The job's data as the queue backend in use keeps it: a Redis hash, or a row of BullMQ's job table. */
  const queuedJobData = async (id: string): Promise<string | undefined> => {
    if (redis) return (await redis.hgetall(`${PREFIX}:queue:users:${id}`)).data;
    const rows: Array<{ data: unknown }> = await app
      .get(DataSource)
      .query(`SELECT data FROM "${queueSchema(PREFIX)}".job WHERE queue = 'users' AND id = $1`, [
        id,
      ]);
    return rows[0] ? JSON.stringify(rows[0].data) : undefined;
  };

  beforeAll(async () => {
    app = await withEnv({ REDIS_KEY_PREFIX: PREFIX }, () => createApiApp());
    api = new ApiClient(app);
    admin = await api.loginAdmin();
    if (e2eRedisUrl) redis = new Redis(e2eRedisUrl);
  });
  afterAll(async () => {
    await redis?.quit();
    await app.close();
  });

  it('keeps the CSV out of queue data and the task record; its file is private and goes on cancel', async () => {
    const csv = `email,name,password\n${uniqueEmail('sec')},Secret Row,queue-data-secret-1\n`;
    const submitted = await api.send(
      'post',
      '/api/v1/tasks',
      { type: 'users.import', payload: { csv } },
      admin.accessToken,
    );
    expect(submitted.status).toBe(202);
    const id = submitted.body.id as string;
    expect(JSON.stringify(submitted.body)).not.toContain('queue-data-secret-1');

    // What BullMQ keeps (and the dashboard shows) for the job: a reference, not the CSV.
    const data = await queuedJobData(id);
    expect(data).toBeDefined();
    expect(data).not.toContain('queue-data-secret-1');
    expect(JSON.parse(data!)).toEqual({
      taskId: id,
      payloadRef: { file: `task-inputs/${id}.json` },
    });

    const file = join(process.env.STORAGE_DIR!, 'task-inputs', `${id}.json`);
    expect(existsSync(file)).toBe(true);
    expect(statSync(file).mode & 0o777).toBe(0o600);

    const cancelled = await api.send('delete', `/api/v1/tasks/${id}`, undefined, admin.accessToken);
    expect(cancelled.body.status).toBe('cancelled');
    expect(existsSync(file)).toBe(false);
  });
});
