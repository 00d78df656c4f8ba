import { PreparedStatement } from '@girder/database';
import { DataSource } from 'typeorm';

/** Named prepared statements through TypeORM's `manager.query`, on the run's database. */
describe('PreparedStatement', () => {
  const dataSource = new DataSource({ type: 'postgres', url: process.env.DATABASE_URL });
  const doubled = new PreparedStatement('e2e_doubled', 'SELECT ($1::int * 2) AS doubled');

  beforeAll(() => dataSource.initialize());
  afterAll(() => dataSource.destroy());

  it('is prepared on the connection once and answers each call its own values', async () => {
    await dataSource.transaction(async (manager) => {
      // One transaction: one connection, whose prepared statements PostgreSQL lists.
      const answers = await Promise.all(
        [1, 2, 3].map((n) => doubled.query<Array<{ doubled: number }>>(manager, [n])),
      );
      expect(answers.map(([row]) => row.doubled)).toEqual([2, 4, 6]);
      const prepared: Array<{ name: string; statement: string }> = await manager.query(
        'SELECT name, statement FROM pg_prepared_statements',
      );
      expect(prepared).toEqual([{ name: 'e2e_doubled', statement: doubled.text }]);
    });
  });

  it('runs in the caller’s transaction: a rollback undoes it', async () => {
    const insert = new PreparedStatement(
      'e2e_insert_probe',
      'INSERT INTO e2e_prepared_probe VALUES ($1)',
    );
    await dataSource.query('CREATE TABLE e2e_prepared_probe (n int)');
    try {
      await expect(
        dataSource.transaction(async (manager) => {
          await insert.query(manager, [7]);
          throw new Error('roll back');
        }),
      ).rejects.toThrow('roll back');
      expect(await dataSource.query('SELECT n FROM e2e_prepared_probe')).toEqual([]);
    } finally {
      await dataSource.query('DROP TABLE e2e_prepared_probe');
    }
  });

  it('fails like any query, and refuses a second SQL text under a name already declared', async () => {
    const broken = new PreparedStatement('e2e_broken', 'SELECT * FROM e2e_no_such_table');
    await expect(broken.query(dataSource.manager, [])).rejects.toMatchObject({
      driverError: { code: '42P01' },
    });
    expect(() => new PreparedStatement('e2e_doubled', 'SELECT 1')).toThrow(
      'Prepared statement e2e_doubled is declared twice with different SQL',
    );
  });
});
