export { BaseEntity } from './base.entity';
export { buildDataSourceOptions, type DatabaseConnectionSettings } from './data-source-options';
export { DatabaseModule } from './database.module';
export { PreparedStatement } from './prepared-statement';
export { SnakeNamingStrategy } from './snake-naming.strategy';
export { assertTestDatabase } from './test-database-guard';
export {
  Propagation,
  Transactional,
  afterCommit,
  runInTransaction,
  type AfterCommitHook,
} from './transactional';
export { TransactionalRepository, type TypeOrmTransactionHost } from './transactional.repository';
export { dropDatabase, ensureDatabaseExists, runPendingMigrations } from './database-admin';
export {
  PostgresListener,
  type PostgresListenerEvents,
  type PostgresListenerOptions,
} from './postgres-listener';
export {
  EMBEDDED_DATABASE_NAME,
  EMBEDDED_POSTGRES_DEFAULT_DIRECTORY,
  EmbeddedPostgres,
  embeddedPostgresDirectory,
  embeddedPostgresUrl,
  findRunningEmbeddedPostgres,
  useEmbeddedPostgresIfRunning,
  type EmbeddedPostgresOptions,
  type EmbeddedPostgresState,
  type RunningEmbeddedPostgres,
} from './embedded/embedded-postgres';
