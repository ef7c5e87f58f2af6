/**
 * Runs the PostgreSQL migrations (migrations.ts) that a database lacks, each in its own transaction with its
 * ledger row (schema_migrations: version, name, time). Controllers starting together on one database serialise on
 * an advisory lock, so each migration runs exactly once.
 */
import type pg from 'pg';
import { PG_MIGRATIONS } from './migrations.js';

/** the advisory lock key of schema changes (any constant of the project's own) */
const MIGRATE_LOCK = 7_415_200_016;

export async function migratePostgres(pool: pg.Pool, migrations: readonly string[] = PG_MIGRATIONS): Promise<number> {
  const c = await pool.connect();
  try {
    await c.query('SELECT pg_advisory_lock($1)', [MIGRATE_LOCK]);
    await c.query('CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)');
    const current = Number((await c.query('SELECT COALESCE(MAX(version), 0) AS v FROM schema_migrations')).rows[0].v);
    if (current > migrations.length) {
      throw new Error(`the database is at schema version ${current}, newer than this novalet's ${migrations.length}: upgrade novalet`);
    }
    for (let v = current + 1; v <= migrations.length; v++) {
      await c.query('BEGIN');
      try {
        await c.query(migrations[v - 1]!);
        await c.query('INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)', [v, `migration ${v}`, new Date().toISOString()]);
        await c.query('COMMIT');
      } catch (e) {
        await c.query('ROLLBACK').catch(() => undefined);
        throw e;
      }
    }
    return migrations.length;
  } finally {
    await c.query('SELECT pg_advisory_unlock($1)', [MIGRATE_LOCK]).catch(() => undefined);
    c.release();
  }
}
