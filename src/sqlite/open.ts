/** Opening a SQLite database with the pragmas every novalet database runs with. */
import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';

export interface OpenOptions {
  /** create the file's directory first, private to the owner (the agent's journal lives under its own data dir) */
  createDir?: boolean;
}

export function openSqlite(path: string, o: OpenOptions = {}): Database.Database {
  const memory = path === ':memory:';
  if (o.createDir && !memory) mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  const db = new Database(path);
  // WAL: readers never block the writer (an in-memory database has no WAL)
  if (!memory) db.pragma('journal_mode = WAL');
  // NORMAL is durable across process crashes in WAL mode; only an OS crash can lose the last transactions
  db.pragma('synchronous = NORMAL');
  db.pragma('foreign_keys = ON');
  db.pragma('busy_timeout = 5000');
  return db;
}
