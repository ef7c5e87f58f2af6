/**
 * `novalet db migrate|check|backup`: the operator's commands on the controller's database (<data-dir>/controller.db,
 * or what --store names: another SQLite file or a postgres:// URL). A controller migrates at start; `migrate`
 * applies them before (a planned upgrade: one command, then start the controllers), `check` reports the schema
 * version and whether the tables and columns are the migrations' (exit 1 when not), `backup` copies a live
 * database (SQLite online backup; PostgreSQL through pg_dump).
 */
import { join } from 'node:path';
import { checkStoreLocation, redactStoreLocation } from '../store/index.js';
import { backupStore, checkSchema, migrateSchema, StoreAdminError, type SchemaReport } from '../store/admin.js';
import { parseArgs, str } from './args.js';

export const DB_USAGE = `usage: novalet db migrate   apply the schema migrations the database lacks
       novalet db check     schema version and parity with this novalet's migrations (exit 1: not usable as is)
       novalet db backup FILE   a consistent copy of the live database (SQLite online backup; PostgreSQL: pg_dump, custom format)
  common: [--data-dir DIR] (default /var/lib/novalet; database DIR/controller.db) [--store PATH|postgres://...] [-f table|json]`;

type Out = (line: string) => void;

function describe(r: SchemaReport): string[] {
  const lines = [`store: ${r.store}`, `schema version: ${r.version} (this novalet: ${r.latest})`];
  if (r.version < r.latest) lines.push(`${r.latest - r.version} migration(s) pending: run novalet db migrate`);
  if (r.version > r.latest) lines.push('the database is newer than this novalet: upgrade novalet');
  if (r.missing.length) lines.push(`missing: ${r.missing.join(', ')}`);
  if (r.extra.length) lines.push(`not made by the migrations: ${r.extra.join(', ')}`);
  lines.push(r.ok ? 'ok' : 'NOT OK');
  return lines;
}

/** Runs one db command; returns the exit code (0 ok, 1 failed or not ok, 2 usage). */
export async function dbCommand(argv: string[], out: Out = (l) => console.log(l), err: Out = (l) => console.error(l)): Promise<number> {
  const norm = argv.map((a) => (a === '-f' ? '--format' : a));
  const { flags, positional } = parseArgs(norm, ['help']);
  const [verb, ...args] = positional;
  if (flags['help'] || !verb) { out(DB_USAGE); return verb ? 0 : 2; }
  const known = new Set(['help', 'format', 'data-dir', 'store']);
  const unknown = Object.keys(flags).find((f) => !known.has(f));
  if (unknown) { err(`unknown option --${unknown}\n${DB_USAGE}`); return 2; }
  const format = str(flags, 'format') ?? 'table';
  if (format !== 'table' && format !== 'json') { err(`-f: expected table or json, got ${format}`); return 2; }
  if (flags['data-dir'] === true || flags['store'] === true) { err(`--${flags['store'] === true ? 'store' : 'data-dir'} needs a value`); return 2; }
  const location = str(flags, 'store') ?? join(str(flags, 'data-dir') ?? '/var/lib/novalet', 'controller.db');
  const bad = checkStoreLocation(location);
  if (bad) { err(`--store: ${bad}`); return 2; }
  const expected = verb === 'backup' ? 1 : 0;
  if (!['migrate', 'check', 'backup'].includes(verb)) { err(`unknown db command ${verb}\n${DB_USAGE}`); return 2; }
  if (args.length !== expected) { err(verb === 'backup' ? 'novalet db backup FILE: name one file to write' : `novalet db ${verb} takes no arguments`); return 2; }
  const where = redactStoreLocation(location);
  try {
    if (verb === 'check') {
      const r = await checkSchema(location);
      if (format === 'json') out(JSON.stringify(r, null, 2)); else for (const l of describe(r)) out(l);
      return r.ok ? 0 : 1;
    }
    if (verb === 'migrate') {
      const r = await migrateSchema(location);
      if (format === 'json') out(JSON.stringify(r));
      else out(r.from === r.to ? `${where}: at schema version ${r.to}, nothing to do` : `${where}: migrated from schema version ${r.from} to ${r.to}`);
      return 0;
    }
    const file = args[0]!;
    const r = await backupStore(location, file);
    if (format === 'json') out(JSON.stringify({ file, ...r })); else out(`${where}: backed up to ${file} (${r.tool})`);
    return 0;
  } catch (e) {
    const msg = e instanceof Error ? e.message : String(e);
    err(e instanceof StoreAdminError ? msg : `${where}: ${msg.replaceAll(location, where)}`);
    return 1;
  }
}
