import {
  Controller,
  INestApplication,
  INestApplicationContext,
  Injectable,
  Module,
  Param,
  Post,
} from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { TransactionHost } from '@nestjs-cls/transactional';
import { ConfigModule } from '@girder/config';
import {
  BaseEntity,
  DatabaseModule,
  Propagation,
  Transactional,
  TransactionalRepository,
  afterCommit,
} from '@girder/database';
import { AllowAll, Permissions } from '@girder/permissions';
import request from 'supertest';
import { Column, DataSource, Entity } from 'typeorm';
import { createApiApp, withEnv } from '../support/test-app';

@Entity('e2e_tx_probe')
class ProbeRecord extends BaseEntity {
  @Column()
  label!: string;
}

@Injectable()
class ProbeRepository extends TransactionalRepository<ProbeRecord> {
  constructor(txHost: TransactionHost) {
    super(txHost, ProbeRecord);
  }
  insert(label: string): Promise<ProbeRecord> {
    return this.repository.save(this.repository.create({ label }));
  }
  labels(prefix: string): Promise<string[]> {
    return this.repository
      .createQueryBuilder('probe')
      .where('probe.label LIKE :prefix', { prefix: `${prefix}%` })
      .orderBy('probe.label')
      .getMany()
      .then((rows) => rows.map((row) => row.label));
  }
  /** Locks the probe row with this label until the transaction ends. */
  async lock(label: string): Promise<void> {
    await this.repository
      .createQueryBuilder('probe')
      .where('probe.label = :label', { label })
      .setLock('pessimistic_write')
      .getOne();
  }
  /** Which connection pool answered: the primary's and the replica's application_name differ. */
  answeredBy(): Promise<string> {
    return this.manager
      .createQueryBuilder()
      .select("current_setting('application_name')", 'app')
      .fromDummy()
      .getRawOne<{ app: string }>()
      .then((row) => row!.app);
  }
}

class Boom extends Error {}

@Injectable()
class ProbeService {
  readonly committed: string[] = [];

  constructor(private readonly records: ProbeRepository) {}

  @Transactional()
  async createAndFail(label: string): Promise<void> {
    await this.records.insert(label);
    throw new Boom('rolled back');
  }

  @Transactional()
  async createWithHook(label: string, fail: boolean): Promise<void> {
    await this.records.insert(label);
    await afterCommit(() => {
      this.committed.push(label);
    });
    if (fail) throw new Boom('rolled back');
  }

  @Transactional()
  async outerFailsAfterRequiresNew(label: string): Promise<void> {
    await this.records.insert(`${label}-outer`);
    await this.independent(`${label}-independent`);
    throw new Boom('outer rolled back');
  }

  @Transactional(Propagation.RequiresNew)
  async independent(label: string): Promise<void> {
    await this.records.insert(label);
    await afterCommit(() => {
      this.committed.push(label);
    });
  }

  @Transactional()
  async outerSurvivesFailedNested(label: string): Promise<void> {
    await this.records.insert(`${label}-outer`);
    await this.nestedThatFails(`${label}-nested`).catch(() => undefined);
    await this.records.insert(`${label}-after`);
  }

  @Transactional(Propagation.Nested)
  async nestedThatFails(label: string): Promise<void> {
    await this.records.insert(label);
    await afterCommit(() => {
      this.committed.push(label);
    });
    throw new Boom('savepoint rolled back');
  }

  @Transactional()
  async readInsideTransaction(): Promise<string> {
    return this.records.answeredBy();
  }

  readOutsideTransaction(): Promise<string> {
    return this.records.answeredBy();
  }

  labels(prefix: string): Promise<string[]> {
    return this.records.labels(prefix);
  }

  readonly attempts = new Map<string, number>();

  /**
   * Locks `first`, waits at `meet` (first attempt only), then locks `second`: two calls with
   * the rows swapped deadlock, and PostgreSQL aborts one of them (40P01).
   */
  @Transactional()
  async lockBoth(first: string, second: string, meet: () => Promise<void>): Promise<void> {
    const attempt = (this.attempts.get(first) ?? 0) + 1;
    this.attempts.set(first, attempt);
    await this.records.lock(first);
    if (attempt === 1) await meet();
    await this.records.lock(second);
    await this.records.insert(`${first}-done`);
  }
}

@Controller('e2e-tx')
@Permissions(AllowAll)
class ProbeController {
  constructor(private readonly probes: ProbeService) {}

  @Post(':label/fail')
  fail(@Param('label') label: string): Promise<void> {
    return this.probes.createWithHook(label, true);
  }

  @Post(':label')
  create(@Param('label') label: string): Promise<void> {
    return this.probes.createWithHook(label, false);
  }
}

@Module({
  imports: [DatabaseModule.forFeature([ProbeRecord])],
  providers: [ProbeRepository, ProbeService],
  controllers: [ProbeController],
  exports: [ProbeService],
})
class ProbeModule {}

@Module({ imports: [ConfigModule, DatabaseModule.forRoot('girder-e2e-worker'), ProbeModule] })
class WorkerLikeModule {}

/** The same service behaviour in both runtimes: inside HTTP requests and inside a worker context. */
describe('@Transactional()', () => {
  let api: INestApplication;
  let worker: INestApplicationContext;

  beforeAll(async () => {
    api = await createApiApp({ imports: [ProbeModule] });
    await api
      .get(DataSource)
      .query(
        'CREATE TABLE IF NOT EXISTS e2e_tx_probe (id uuid PRIMARY KEY DEFAULT gen_random_uuid(), label text NOT NULL, created_at timestamptz NOT NULL DEFAULT now(), updated_at timestamptz NOT NULL DEFAULT now())',
      );
    worker = await NestFactory.createApplicationContext(WorkerLikeModule, { logger: false });
  });
  afterAll(async () => {
    await worker?.close();
    await api?.close();
  });

  describe('inside HTTP requests', () => {
    it('commits, then runs the after-commit hook', async () => {
      await request(api.getHttpServer()).post('/api/v1/e2e-tx/http-commit').expect(201);
      const service = api.get(ProbeService);
      expect(await service.labels('http-commit')).toEqual(['http-commit']);
      expect(service.committed).toContain('http-commit');
    });

    it('rolls back on error and never runs the hook', async () => {
      await request(api.getHttpServer()).post('/api/v1/e2e-tx/http-rollback/fail').expect(500);
      const service = api.get(ProbeService);
      expect(await service.labels('http-rollback')).toEqual([]);
      expect(service.committed).not.toContain('http-rollback');
    });
  });

  describe.each([
    ['the API', () => api],
    ['a worker application context', () => worker],
  ])('in %s', (runtime, context) => {
    const tag = runtime.startsWith('the API') ? 'api' : 'worker';
    const service = () => context().get(ProbeService);

    it('required: rollback removes the row', async () => {
      await expect(service().createAndFail(`${tag}-req`)).rejects.toBeInstanceOf(Boom);
      expect(await service().labels(`${tag}-req`)).toEqual([]);
    });

    it('requires-new: commits independently of the failing caller', async () => {
      await expect(service().outerFailsAfterRequiresNew(`${tag}-new`)).rejects.toBeInstanceOf(Boom);
      expect(await service().labels(`${tag}-new`)).toEqual([`${tag}-new-independent`]);
      expect(service().committed).toContain(`${tag}-new-independent`);
    });

    it('nested: a failed savepoint is undone, the outer transaction commits, the savepoint hook is dropped', async () => {
      await service().outerSurvivesFailedNested(`${tag}-nest`);
      expect(await service().labels(`${tag}-nest`)).toEqual([
        `${tag}-nest-after`,
        `${tag}-nest-outer`,
      ]);
      expect(service().committed).not.toContain(`${tag}-nest-nested`);
    });

    it('after-commit hooks run only after a commit', async () => {
      await service().createWithHook(`${tag}-hook-ok`, false);
      await expect(service().createWithHook(`${tag}-hook-fail`, true)).rejects.toBeInstanceOf(Boom);
      expect(service().committed).toContain(`${tag}-hook-ok`);
      expect(service().committed).not.toContain(`${tag}-hook-fail`);
    });
  });

  it('a deadlock is retried once, so both transactions commit', async () => {
    const service = api.get(ProbeService);
    await service.createWithHook('dl-a', false);
    await service.createWithHook('dl-b', false);
    let arrived = 0;
    let release!: () => void;
    const bothLocked = new Promise<void>((done) => (release = done));
    const meet = async () => {
      arrived += 1;
      if (arrived === 2) release();
      await bothLocked;
    };
    await Promise.all([
      service.lockBoth('dl-a', 'dl-b', meet),
      service.lockBoth('dl-b', 'dl-a', meet),
    ]);
    expect(await service.labels('dl-')).toEqual(['dl-a', 'dl-a-done', 'dl-b', 'dl-b-done']);
    // One of the two was chosen as the deadlock victim and ran a second time.
    expect([...service.attempts.values()].sort()).toEqual([1, 2]);
  });

  describe('read replicas (DATABASE_READ_URLS)', () => {
    it('sends reads outside a transaction to a replica, and reads inside one to the primary', async () => {
      const replica = new URL(process.env.DATABASE_URL!);
      replica.searchParams.set('application_name', 'girder-e2e-replica');
      const app = await withEnv({ DATABASE_READ_URLS: replica.toString() }, () =>
        NestFactory.createApplicationContext(WorkerLikeModule, { logger: false }),
      );
      try {
        const service = app.get(ProbeService);
        expect(await service.readOutsideTransaction()).toBe('girder-e2e-replica');
        expect(await service.readInsideTransaction()).toBe('girder-e2e-worker');
        await service.createWithHook('replica-write', false);
        expect(await service.labels('replica-write')).toEqual(['replica-write']);
      } finally {
        await app.close();
      }
    });
  });
});
