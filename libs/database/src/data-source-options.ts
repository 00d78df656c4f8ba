import type { DataSourceOptions } from 'typeorm';
import type { PostgresDataSourceOptions } from 'typeorm/driver/postgres/PostgresDataSourceOptions';
import { SnakeNamingStrategy } from './snake-naming.strategy';

export interface DatabaseConnectionSettings {
  url: string;
  readUrls?: string[];
  poolSize?: number;
  applicationName?: string;
}

type ModelList = NonNullable<DataSourceOptions['entities']>;
type MigrationList = NonNullable<DataSourceOptions['migrations']>;

/**
 * One place that turns Girder's settings into TypeORM options, shared by the Nest apps,
 * `ormconfig.ts` (the TypeORM CLI) and the test harness, so they can never disagree.
 *
 * With read URLs, TypeORM's replication sends plain SELECTs outside a transaction to a
 * replica; everything inside a transaction (it runs on one master query runner) and every
 * write goes to the primary.
 */
export function buildDataSourceOptions(
  settings: DatabaseConnectionSettings,
  entities: ModelList = [],
  migrations: MigrationList = [],
): PostgresDataSourceOptions {
  const pool = {
    max: settings.poolSize ?? 10,
    application_name: settings.applicationName ?? 'girder',
    // Dates and day boundaries are UTC everywhere, whatever the server's default.
    options: '-c TimeZone=UTC',
  };
  const connection: Pick<PostgresDataSourceOptions, 'url' | 'replication'> =
    settings.readUrls && settings.readUrls.length > 0
      ? {
          replication: {
            master: { url: settings.url },
            slaves: settings.readUrls.map((url) => ({ url })),
            defaultMode: 'slave',
          },
        }
      : { url: settings.url };
  return {
    type: 'postgres',
    ...connection,
    entities,
    migrations,
    migrationsTableName: 'migrations',
    migrationsTransactionMode: 'each',
    namingStrategy: new SnakeNamingStrategy(),
    synchronize: false,
    // Query errors reach the error reporter; TypeORM's own logger would print parameters (passwords).
    logging: false,
    extra: pool,
  };
}
