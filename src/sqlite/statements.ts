/** Prepared statements by SQL text, so that a recurring statement is prepared once per connection. */
import type Database from 'better-sqlite3';

export type StatementCache = (sql: string) => Database.Statement;

/**
 * Preparing costs more than running the small statements of the hot paths (list pages, heartbeats, journal rows).
 * Callers build SQL from a bounded set of shapes, so few texts recur; the cache is still bounded (cleared when full)
 * in case one does not.
 */
export function statementCache(db: Database.Database, max = 500): StatementCache {
  const statements = new Map<string, Database.Statement>();
  return (sql) => {
    let st = statements.get(sql);
    if (!st) {
      if (statements.size >= max) statements.clear();
      st = db.prepare(sql);
      statements.set(sql, st);
    }
    return st;
  };
}
