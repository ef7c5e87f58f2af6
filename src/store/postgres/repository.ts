/**
 * The base of every PostgreSQL repository: the store's pool. Single statements run on the pool (autocommit);
 * methods that are one transaction in SQLite run `this.db.tx(...)` on one client. Writes that several repositories
 * share inside one transaction (servers.ts, claims.ts) are module functions taking that transaction's Queryable.
 * Helpers of a repository are #private: PostgresStore exposes every other method of a repository's own class.
 */
import type { PgDatabase, Queryable, Row } from './db.js';

export abstract class PgRepository {
  protected readonly db: PgDatabase;
  protected readonly q: Queryable;

  constructor(db: PgDatabase) {
    this.db = db;
    this.q = db.q;
  }

  protected async one(sql: string, params: readonly unknown[] = []): Promise<Row | undefined> {
    return (await this.q.query(sql, params)).rows[0];
  }

  protected async all(sql: string, params: readonly unknown[] = []): Promise<Row[]> {
    return (await this.q.query(sql, params)).rows;
  }

  protected async run(sql: string, params: readonly unknown[] = []): Promise<number> {
    return (await this.q.query(sql, params)).rowCount;
  }
}
