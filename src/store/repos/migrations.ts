/** Migration records (Nova's migrations table): cold/live migrations, resizes, evacuations (store/sqlite/migrations-repo.ts). */
import type { Migration, MigrationChanges, MigrationQuery, NewMigration } from '../types.js';

export interface MigrationRepo {
  /** idempotent by uuid: a re-driven step gets the record it created before */
  createMigration(m: NewMigration): Promise<Migration>;
  getMigration(uuid: string): Promise<Migration | null>;
  /** by Nova's integer id, only if it belongs to the server */
  getServerMigration(serverId: string, id: number): Promise<Migration | null>;
  /** changes the record, only while its status is one of `fromStatuses` when given; true if it changed */
  updateMigration(uuid: string, changes: MigrationChanges, fromStatuses?: readonly string[]): Promise<boolean>;
  /** newest first; a marker that names no migration throws MarkerNotFound (the API's 400) */
  listMigrations(q: MigrationQuery): Promise<Migration[]>;
}

/** a list marker that names no migration */
export class MigrationMarkerNotFound extends Error {
  constructor(readonly marker: string) { super(`Marker ${marker} could not be found.`); }
}
