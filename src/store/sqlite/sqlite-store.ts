/**
 * The SQLite implementation of Store (better-sqlite3): one repository per aggregate over one connection and one
 * statement cache. Calls are synchronous underneath and wrapped in async methods; multi-statement writes run in a
 * transaction, so each method is atomic.
 */
import { statementCache, type Database } from '../../sqlite/index.js';
import type { Store } from '../store.js';
import { bindMethods, type Composed } from './compose.js';
import { openDatabase } from './open.js';
import { SqliteSettings } from './settings.js';
import { SqliteIdentity } from './identity.js';
import { SqliteFlavors } from './flavors.js';
import { SqliteKeypairs } from './keypairs.js';
import { SqliteImages } from './images.js';
import { SqliteServers } from './servers.js';
import { SqliteServerMetadata } from './server-metadata.js';
import { SqliteInstanceActions } from './instance-actions.js';
import { SqliteHosts } from './hosts.js';
import { SqliteFixedIps } from './fixed-ips.js';
import { SqliteQuotas } from './quotas.js';
import { SqliteClaims } from './claims.js';
import { SqliteTasks } from './tasks.js';
import { SqliteServerGroups } from './server-groups.js';
import { SqliteAggregates } from './aggregates.js';
import { SqliteVolumes } from './volumes.js';
import { SqliteClusterLeases } from './leases.js';
import { SqliteMigrations } from './migrations-repo.js';
import { SqliteNetworks } from './networks.js';

/** Every repository; a new one is one entry here (and its interface one entry in Store's `extends`). */
const REPOSITORIES = [
  SqliteSettings,
  SqliteIdentity,
  SqliteFlavors,
  SqliteKeypairs,
  SqliteImages,
  SqliteServers,
  SqliteServerMetadata,
  SqliteInstanceActions,
  SqliteHosts,
  SqliteFixedIps,
  SqliteQuotas,
  SqliteClaims,
  SqliteTasks,
  SqliteServerGroups,
  SqliteAggregates,
  SqliteVolumes,
  SqliteClusterLeases,
  SqliteMigrations,
  SqliteNetworks,
] as const;

/** The repositories' methods, which the constructor puts on the store; `implements Store` checks that none is missing. */
// eslint-disable-next-line @typescript-eslint/no-empty-object-type, @typescript-eslint/no-unsafe-declaration-merging -- the methods are put on by bindMethods (compose.ts)
export interface SqliteStore extends Composed<InstanceType<(typeof REPOSITORIES)[number]>> {}

// eslint-disable-next-line @typescript-eslint/no-unsafe-declaration-merging -- see the interface above
export class SqliteStore implements Store {
  /** private: callers see Store only, never a better-sqlite3 type */
  private readonly db: Database;

  constructor(path: string) {
    this.db = openDatabase(path);
    const connection = { db: this.db, cached: statementCache(this.db) };
    for (const Repository of REPOSITORIES) bindMethods(this, new Repository(connection));
  }

  async close(): Promise<void> { this.db.close(); }
}

/**
 * The store's connection, for tests and benchmarks that work below the Store interface (a raw UPDATE, one
 * transaction around many creates). Not exported by src/store/index.ts: callers see Store only.
 */
export function databaseOf(store: SqliteStore): Database {
  return store['db'];
}
