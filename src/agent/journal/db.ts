import { migrate, openSqlite, tableLedger, type Database, type Migration } from '../../sqlite/index.js';
import { MIGRATIONS } from './migrations.js';

/** The journal records its migrations in a table (names and times), as it always has. */
const LEDGER = tableLedger('schema_migrations');

/**
 * Opens the journal database. WAL so readers (RPC, ctl) never block the runner's writes. The connection runs
 * at synchronous=NORMAL (a commit survives a process crash, not necessarily a power cut) and the Journal
 * switches to FULL for intent rows (Journal.durable): those must survive a power cut because the hypervisor is
 * touched right after. A FULL commit fsyncs the WAL, so every earlier NORMAL commit becomes durable with it.
 * (All-FULL cost ~20 ms per operation here: ~8 fsyncs; selective FULL ~2 fsyncs.)
 */
export function openDatabase(path: string, migrations: Migration[] = MIGRATIONS): Database {
  const db = openSqlite(path, { createDir: true });
  migrate(db, migrations, {
    ledger: LEDGER,
    // A journal written by a newer agent: refuse rather than misread it.
    newer: (found, known) => new Error(`journal schema version ${found} is newer than this agent understands (${known})`),
  });
  return db;
}

export function schemaVersion(db: Database): number {
  return LEDGER.version(db);
}
