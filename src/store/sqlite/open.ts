/** Opening a SQLite database: WAL, foreign keys, a REGEXP function, and the versioned migrations. */
import Database from 'better-sqlite3';
import { MIGRATIONS } from './migrations.js';

export type Db = Database.Database;

export function openDatabase(path: string): Db {
  const db = new Database(path);
  if (path !== ':memory:') db.pragma('journal_mode = WAL');
  // NORMAL is durable across process crashes in WAL mode; only an OS crash can lose the last transactions
  db.pragma('synchronous = NORMAL');
  db.pragma('foreign_keys = ON');
  db.pragma('busy_timeout = 5000');
  const cache = new Map<string, RegExp | null>();
  // `x REGEXP y` calls regexp(y, x); Nova's name/ip filters are regex searches. An invalid pattern matches nothing
  // (the API validates patterns first, so this is only a guard).
  db.function('regexp', { deterministic: true }, (pattern: unknown, value: unknown) => {
    if (typeof pattern !== 'string' || typeof value !== 'string') return 0;
    let re = cache.get(pattern);
    if (re === undefined) {
      try { re = new RegExp(pattern); } catch { re = null; }
      if (cache.size > 1000) cache.clear();
      cache.set(pattern, re);
    }
    return re !== null && re.test(value) ? 1 : 0;
  });
  migrate(db);
  return db;
}

export function migrate(db: Db): void {
  const current = db.pragma('user_version', { simple: true }) as number;
  for (let v = current; v < MIGRATIONS.length; v++) {
    const sql = MIGRATIONS[v]!;
    db.transaction(() => {
      db.exec(sql);
      db.pragma(`user_version = ${v + 1}`);
    })();
  }
}
