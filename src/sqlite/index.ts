/**
 * The SQLite helper shared by the controller's store and the agent's journal: opening with the common pragmas, a
 * statement cache and a migration runner. It imports nothing of the project, so any layer may use it.
 */
import type BetterSqlite3 from 'better-sqlite3';

export type Database = BetterSqlite3.Database;
export type Statement = BetterSqlite3.Statement;
export { openSqlite, type OpenOptions } from './open.js';
export { statementCache, type StatementCache } from './statements.js';
export { migrate, numbered, tableLedger, userVersionLedger, type MigrateOptions, type Migration, type MigrationLedger } from './migrate.js';
