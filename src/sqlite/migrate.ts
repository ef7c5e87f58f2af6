/**
 * Versioned schema migrations: each runs once, in version order, inside its own transaction together with the
 * record that it ran. Where that record lives is the database's ledger: the controller's database has always kept
 * it in PRAGMA user_version, the agent's journal in a schema_migrations table, and existing files keep theirs.
 */
import type Database from 'better-sqlite3';

export interface Migration {
  version: number;
  name: string;
  sql: string;
}

export interface MigrationLedger {
  /** the highest version applied so far (0 for a new database) */
  version(db: Database.Database): number;
  /** records `m` as applied; runs inside m's transaction */
  record(db: Database.Database, m: Migration): void;
}

/** The version in the database header: no table, no names. */
export const userVersionLedger: MigrationLedger = {
  version: (db) => db.pragma('user_version', { simple: true }) as number,
  record: (db, m) => { db.pragma(`user_version = ${m.version}`); },
};

/** A table of applied migrations with their names and times, created by the first migration recorded. */
export function tableLedger(table: string): MigrationLedger {
  return {
    version(db) {
      const exists = db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?").get(table) !== undefined;
      return exists ? ((db.prepare(`SELECT MAX(version) AS v FROM ${table}`).get() as { v: number | null }).v ?? 0) : 0;
    },
    record(db, m) {
      db.exec(`CREATE TABLE IF NOT EXISTS ${table} (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)`);
      db.prepare(`INSERT INTO ${table} (version, name, applied_at) VALUES (?, ?, ?)`).run(m.version, m.name, new Date().toISOString());
    },
  };
}

/** Migrations given as an append-only array of SQL texts: entry i is version i + 1. */
export function numbered(sqls: readonly string[]): Migration[] {
  return sqls.map((sql, i) => ({ version: i + 1, name: `migration ${i + 1}`, sql }));
}

export interface MigrateOptions {
  ledger: MigrationLedger;
  /**
   * The error for a database migrated by newer code (a version above every known one), which this code could
   * misread. Without it such a database opens as it is.
   */
  newer?: (found: number, known: number) => Error;
}

export function migrate(db: Database.Database, migrations: readonly Migration[], o: MigrateOptions): void {
  const current = o.ledger.version(db);
  const known = Math.max(0, ...migrations.map((m) => m.version));
  if (current > known && o.newer) throw o.newer(current, known);
  for (const m of [...migrations].sort((a, b) => a.version - b.version)) {
    if (m.version <= current) continue;
    db.transaction(() => {
      db.exec(m.sql);
      o.ledger.record(db, m);
    })();
  }
}
