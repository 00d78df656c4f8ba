import type { EntityManager } from 'typeorm';

const textByName = new Map<string, string>();

/**
 * SQL that PostgreSQL parses and plans once per connection (a named prepared statement)
 * instead of on every call: for statements a hot path runs thousands of times a second with
 * the same text, such as the task engine's state writes (README → Performance has the A/B).
 * It runs through `manager.query`, so it joins the caller's transaction and goes through
 * TypeORM's logging and error handling like any query; node-postgres sees `{ name, text }`
 * and prepares it on each connection's first use.
 *
 * A connection pooler in transaction mode must keep prepared statements apart per server
 * connection (PgBouncer 1.21+ with `max_prepared_statements`), see docs/operations.md.
 */
export class PreparedStatement {
  constructor(
    readonly name: string,
    readonly text: string,
  ) {
    // One name, one text: PostgreSQL would refuse a second text under a name already prepared.
    const known = textByName.get(name);
    if (known !== undefined && known !== text)
      throw new Error(`Prepared statement ${name} is declared twice with different SQL`);
    textByName.set(name, text);
  }

  query<Result = unknown>(manager: EntityManager, values: readonly unknown[]): Promise<Result> {
    // A fresh config per call: node-postgres writes the values onto the object it is given.
    const config = { name: this.name, text: this.text, toString: () => this.text };
    return manager.query<Result>(config as unknown as string, [...values]);
  }
}
