import { DynamicModule, Module } from '@nestjs/common';
import { TypeOrmModule, getDataSourceToken } from '@nestjs/typeorm';
import { ClsPluginTransactional } from '@nestjs-cls/transactional';
import { TransactionalAdapterTypeOrm } from '@nestjs-cls/transactional-adapter-typeorm';
import { AppConfig } from '@girder/config';
import { ClsModule } from 'nestjs-cls';
import type { EntityClassOrSchema } from '@nestjs/typeorm/dist/interfaces/entity-class-or-schema.type';
import { buildDataSourceOptions } from './data-source-options';
import { TransactionHostRegistration } from './transaction-host-registry';

@Module({})
export class DatabaseModule {
  /**
   * The connection pool(s) and the CLS-based transaction machinery. Import once, in the app's
   * root module. `applicationName` shows up in `pg_stat_activity`.
   */
  static forRoot(applicationName: string): DynamicModule {
    return {
      module: DatabaseModule,
      global: true,
      imports: [
        TypeOrmModule.forRootAsync({
          inject: [AppConfig],
          useFactory: (config: AppConfig) => ({
            ...buildDataSourceOptions({
              url: config.get('DATABASE_URL'),
              readUrls: config.get('DATABASE_READ_URLS'),
              poolSize: config.get('DATABASE_POOL_SIZE'),
              applicationName,
            }),
            autoLoadEntities: true,
          }),
        }),
        // The transaction plugin alone (its module is global). `ClsModule.forRoot()` would also
        // register a global guard and interceptor, no-ops unless mounted, that every request
        // would pass through: Nest's interceptor chain (rxjs) for each route, which cost
        // GET /health/live a third of its throughput. Transactions open their own CLS context
        // (`runInTransaction`), so nothing needs one per request.
        ClsModule.registerPlugins([
          new ClsPluginTransactional({
            imports: [TypeOrmModule],
            adapter: new TransactionalAdapterTypeOrm({ dataSourceToken: getDataSourceToken() }),
          }),
        ]),
      ],
      providers: [TransactionHostRegistration],
    };
  }

  /** Registers a feature's entities; pair it with a `TransactionalRepository` per entity. */
  static forFeature(entities: EntityClassOrSchema[]): DynamicModule {
    return {
      module: DatabaseModule,
      imports: [TypeOrmModule.forFeature(entities)],
      exports: [TypeOrmModule],
    };
  }
}
