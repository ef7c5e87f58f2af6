/**
 * The operator's view of a store below the Store interface (`novalet db`): its schema version against this
 * novalet's, whether its tables and columns are the ones the migrations make (parity: a hand-edited or half-restored
 * database shows here, not as a 500 later), applying migrations explicitly, and a backup. Reading the version never
 * migrates: `check` on a database an older novalet left says what `migrate` would do.
 */
import { existsSync } from 'node:fs';
import { spawn } from 'node:child_process';
import Database from 'better-sqlite3';
import pg from 'pg';
import { MIGRATIONS } from './sqlite/migrations.js';
import { PG_MIGRATIONS } from './postgres/migrations.js';
import { isPostgresUrl, openStore } from './open-store.js';
import { SqliteStore } from './sqlite/sqlite-store.js';

export interface SchemaReport {
  store: 'sqlite' | 'postgres';
  /** the database's schema version (0: empty) */
  version: number;
  /** this novalet's */
  latest: number;
  /** tables (name) or columns (table.column) the migrations make that the database lacks */
  missing: string[];
  /** tables or columns the database has that the migrations do not make */
  extra: string[];
  /** the database is usable as is: at the latest version, nothing missing */
  ok: boolean;
}

/** table -> columns, of a database at the latest schema (a fresh in-memory SQLite: both stores have one schema) */
function expectedSchema(): Map<string, Set<string>> {
  const s = new SqliteStore(':memory:');
  try { return sqliteSchema(s['db']); } finally { void s.close(); }
}

function sqliteSchema(db: Database.Database): Map<string, Set<string>> {
  const out = new Map<string, Set<string>>();
  const tables = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'").all() as { name: string }[];
  for (const { name } of tables) {
    out.set(name, new Set((db.prepare('SELECT name FROM pragma_table_info(?)').all(name) as { name: string }[]).map((c) => c.name)));
  }
  return out;
}

async function postgresSchema(c: pg.Client): Promise<Map<string, Set<string>>> {
  const r = await c.query<{ t: string; c: string }>(`SELECT table_name AS t, column_name AS c FROM information_schema.columns
    WHERE table_schema = current_schema() ORDER BY table_name, ordinal_position`);
  const out = new Map<string, Set<string>>();
  for (const { t, c: col } of r.rows) {
    if (t === 'schema_migrations') continue; // PostgreSQL's ledger; SQLite keeps the version in PRAGMA user_version
    if (!out.has(t)) out.set(t, new Set());
    out.get(t)!.add(col);
  }
  return out;
}

function compare(have: Map<string, Set<string>>, want: Map<string, Set<string>>): { missing: string[]; extra: string[] } {
  const missing: string[] = []; const extra: string[] = [];
  for (const [t, cols] of want) {
    const h = have.get(t);
    if (!h) { missing.push(t); continue; }
    for (const c of cols) if (!h.has(c)) missing.push(`${t}.${c}`);
    for (const c of h) if (!cols.has(c)) extra.push(`${t}.${c}`);
  }
  for (const t of have.keys()) if (!want.has(t)) extra.push(t);
  return { missing: missing.sort(), extra: extra.sort() };
}

export class StoreAdminError extends Error {}

function report(store: SchemaReport['store'], version: number, latest: number, have: Map<string, Set<string>>): SchemaReport {
  // a database behind the latest version lacks what later migrations make: only the parity of a current one counts
  const { missing, extra } = version === latest ? compare(have, expectedSchema()) : { missing: [], extra: [] };
  return { store, version, latest, missing, extra, ok: version === latest && missing.length === 0 };
}

/** the schema of the store at `location`, read without changing anything */
export async function checkSchema(location: string): Promise<SchemaReport> {
  if (!isPostgresUrl(location)) {
    if (location !== ':memory:' && !existsSync(location)) throw new StoreAdminError(`no database at ${location}`);
    const db = new Database(location, { readonly: true, fileMustExist: true });
    try {
      return report('sqlite', db.pragma('user_version', { simple: true }) as number, MIGRATIONS.length, sqliteSchema(db));
    } finally { db.close(); }
  }
  const c = new pg.Client({ connectionString: location });
  await c.connect();
  try {
    const ledger = (await c.query("SELECT to_regclass('schema_migrations') AS t")).rows[0]?.t as string | null;
    const version = ledger ? Number((await c.query('SELECT COALESCE(MAX(version), 0) AS v FROM schema_migrations')).rows[0]?.v ?? 0) : 0;
    return report('postgres', version, PG_MIGRATIONS.length, await postgresSchema(c));
  } finally { await c.end(); }
}

/** applies the migrations the database lacks (what a controller does when it starts); the version before and after */
export async function migrateSchema(location: string): Promise<{ from: number; to: number }> {
  const from = isPostgresUrl(location) || existsSync(location) ? (await checkSchema(location)).version : 0;
  if (from > (isPostgresUrl(location) ? PG_MIGRATIONS.length : MIGRATIONS.length)) {
    throw new StoreAdminError(`the database is at schema version ${from}, newer than this novalet's: upgrade novalet`);
  }
  const store = await openStore(location);
  await store.close();
  return { from, to: (await checkSchema(location)).version };
}

/**
 * A consistent copy of a live database in `file`: SQLite's online backup API (pages copied while the controller
 * keeps writing; the copy is one point in time), PostgreSQL's pg_dump (custom format: `pg_restore -d URL FILE`).
 */
export async function backupStore(location: string, file: string, pgDump = 'pg_dump'): Promise<{ bytes?: number; tool: string }> {
  if (existsSync(file)) throw new StoreAdminError(`${file} exists: a backup never overwrites a file`);
  if (!isPostgresUrl(location)) {
    if (!existsSync(location)) throw new StoreAdminError(`no database at ${location}`);
    const db = new Database(location, { readonly: true, fileMustExist: true });
    try {
      await db.backup(file);
    } finally { db.close(); }
    return { tool: 'sqlite online backup' };
  }
  await new Promise<void>((resolve, reject) => {
    const p = spawn(pgDump, ['--format=custom', '--no-owner', '--file', file, '--dbname', location], { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    p.stderr.on('data', (d: Buffer) => { err += d.toString(); });
    p.on('error', (e: NodeJS.ErrnoException) => reject(new StoreAdminError(e.code === 'ENOENT'
      ? `${pgDump} is not installed (Debian: apt-get install postgresql-client; its major version must be at least the server's)`
      : `${pgDump}: ${e.message}`)));
    p.on('close', (code) => (code === 0 ? resolve() : reject(new StoreAdminError(`${pgDump} failed (exit ${code}): ${err.trim().replaceAll(location, '<url>')}`))));
  });
  return { tool: 'pg_dump --format=custom' };
}
