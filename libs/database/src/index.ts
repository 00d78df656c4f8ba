export { BaseEntity } from './base.entity';
export { buildDataSourceOptions, type DatabaseConnectionSettings } from './data-source-options';
export { DatabaseModule } from './database.module';
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
