/**
 * The base of every SQLite repository: the store's one connection and its statement cache, shared by all of them.
 * Helpers of a repository are #private: SqliteStore exposes every other method of a repository's own class.
 */
import type { Database, StatementCache } from '../../sqlite/index.js';

export interface Connection {
  readonly db: Database;
  /** for statements of the hot paths; one-off statements use db.prepare */
  readonly cached: StatementCache;
}

export abstract class SqliteRepository {
  protected readonly db: Database;
  protected readonly cached: StatementCache;
  /** for the module-level writes repositories share inside one transaction (servers.ts, claims.ts) */
  protected readonly conn: Connection;

  constructor(c: Connection) {
    this.db = c.db;
    this.cached = c.cached;
    this.conn = c;
  }
}
