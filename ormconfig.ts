import 'reflect-metadata';
import {
  AccountToken,
  CreateAccountTokens1795420000001,
  CreateSessionRevocations1795420000002,
  CreateSessions1795409287913,
  Session,
  SessionRevocation,
} from '@girder/auth';
import { validateEnvironment } from '@girder/config';
import { buildDataSourceOptions, useEmbeddedPostgresIfRunning } from '@girder/database';
import { AddTasksOutbox1795430000000, CreateTasks1795410000000, Task } from '@girder/tasks';
import {
  AddUsersEmailVerifiedAt1795420000000,
  CreateUsers1795409287912,
  User,
} from '@girder/users';
import { config as loadDotenv } from 'dotenv';
import { DataSource, type DataSourceOptions } from 'typeorm';

/**
 * The schema of the whole application: every feature's entities and migrations, listed here
 * (the composition root for the TypeORM CLI, `npm start` and the e2e harness).
 */
export const ENTITIES: NonNullable<DataSourceOptions['entities']> = [
  User,
  Session,
  SessionRevocation,
  AccountToken,
  Task,
];
export const MIGRATIONS: NonNullable<DataSourceOptions['migrations']> = [
  CreateUsers1795409287912,
  CreateSessions1795409287913,
  CreateTasks1795410000000,
  AddUsersEmailVerifiedAt1795420000000,
  CreateAccountTokens1795420000001,
  CreateSessionRevocations1795420000002,
  AddTasksOutbox1795430000000,
];

export function createCliDataSource(env: NodeJS.ProcessEnv = process.env): DataSource {
  const environment = validateEnvironment(env);
  return new DataSource(
    buildDataSourceOptions(
      { url: environment.DATABASE_URL, poolSize: 2, applicationName: 'girder-migrations' },
      ENTITIES,
      MIGRATIONS,
    ),
  );
}

// Real environment variables win over .env, exactly as in the apps.
loadDotenv({ quiet: true });
// As in the apps: without DATABASE_URL, the project's running embedded PostgreSQL.
useEmbeddedPostgresIfRunning(process.env);

export default createCliDataSource();
