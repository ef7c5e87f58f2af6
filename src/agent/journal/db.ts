import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { MIGRATIONS, type Migration } from './migrations.js';

/**
 * Opens the journal database. WAL so readers (RPC, ctl) never block the runner's writes. The connection runs
 * at synchronous=NORMAL (a commit survives a process crash, not necessarily a power cut) and the Journal
 * switches to FULL for intent rows (Journal.durable): those must survive a power cut because the hypervisor is
 * touched right after. A FULL commit fsyncs the WAL, so every earlier NORMAL commit becomes durable with it.
 * (All-FULL cost ~20 ms per operation here: ~8 fsyncs; selective FULL ~2 fsyncs.)
 */
export function openDatabase(path: string, migrations: Migration[] = MIGRATIONS): Database.Database {
  if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.pragma('foreign_keys = ON');
  db.pragma('busy_timeout = 5000');
  migrate(db, migrations);
  return db;
}

export function migrate(db: Database.Database, migrations: Migration[]): void {
  db.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
    version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)`);
  const applied = new Set((db.prepare('SELECT version FROM schema_migrations').all() as { version: number }[]).map((r) => r.version));
  const newest = Math.max(0, ...applied);
  const known = Math.max(0, ...migrations.map((m) => m.version));
  if (newest > known) {
    // A journal written by a newer agent: refuse rather than misread it.
    throw new Error(`journal schema version ${newest} is newer than this agent understands (${known})`);
  }
  for (const m of [...migrations].sort((a, b) => a.version - b.version)) {
    if (applied.has(m.version)) continue;
    db.transaction(() => {
      db.exec(m.sql);
      db.prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)').run(m.version, m.name, new Date().toISOString());
    })();
  }
}

export function schemaVersion(db: Database.Database): number {
  const r = db.prepare('SELECT MAX(version) AS v FROM schema_migrations').get() as { v: number | null };
  return r.v ?? 0;
}
