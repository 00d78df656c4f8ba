import { TransactionHost } from '@nestjs-cls/transactional';
import { TransactionalAdapterTypeOrm } from '@nestjs-cls/transactional-adapter-typeorm';
import type { EntityManager, EntityTarget, ObjectLiteral, Repository } from 'typeorm';

export type TypeOrmTransactionHost = TransactionHost<TransactionalAdapterTypeOrm>;

/**
 * Base class for every feature repository. Its `repository` is always taken from the
 * transaction host, so queries join the surrounding `@Transactional()` transaction when there
 * is one and use the pool otherwise. (A repository from `@InjectRepository` would silently
 * run outside the transaction; lint forbids that import in feature code.)
 */
export abstract class TransactionalRepository<Entity extends ObjectLiteral> {
  protected constructor(
    protected readonly txHost: TypeOrmTransactionHost,
    private readonly target: EntityTarget<Entity>,
  ) {}

  protected get repository(): Repository<Entity> {
    return this.txHost.tx.getRepository(this.target);
  }

  protected get manager(): EntityManager {
    return this.txHost.tx;
  }

  /** Whether queries now run in a caller's transaction (see `@Transactional()`). */
  get inTransaction(): boolean {
    return this.txHost.isTransactionActive();
  }
}
