/**
 * The PostgreSQL implementation of Store (node-postgres): one repository per aggregate over one pool, composed
 * like SqliteStore (../sqlite/compose.ts). Several controllers may share the database: every state change is a
 * conditional UPDATE or one transaction, exactly as on SQLite. `PostgresStore.open(url)` runs the migrations.
 */
import type { Store } from '../store.js';
import { bindMethods, type Composed } from '../sqlite/compose.js';
import { PgDatabase } from './db.js';
import { migratePostgres } from './migrate.js';
import { PgSettings } from './settings.js';
import { PgIdentity } from './identity.js';
import { PgFlavors } from './flavors.js';
import { PgKeypairs } from './keypairs.js';
import { PgImages } from './images.js';
import { PgServers } from './servers.js';
import { PgServerMetadata } from './server-metadata.js';
import { PgInstanceActions } from './instance-actions.js';
import { PgHosts } from './hosts.js';
import { PgFixedIps } from './fixed-ips.js';
import { PgQuotas } from './quotas.js';
import { PgClaims } from './claims.js';
import { PgTasks } from './tasks.js';
import { PgServerGroups } from './server-groups.js';
import { PgAggregates } from './aggregates.js';
import { PgMigrations } from './migrations-repo.js';
import { PgVolumes } from './volumes.js';
import { PgClusterLeases } from './leases.js';
import { PgNetworks } from './networks.js';

/** Every repository; a new one is one entry here (and in sqlite-store.ts, and its interface in Store's `extends`). */
const REPOSITORIES = [
  PgSettings,
  PgIdentity,
  PgFlavors,
  PgKeypairs,
  PgImages,
  PgServers,
  PgServerMetadata,
  PgInstanceActions,
  PgHosts,
  PgFixedIps,
  PgQuotas,
  PgClaims,
  PgTasks,
  PgServerGroups,
  PgAggregates,
  PgClusterLeases,
  PgMigrations,
  PgVolumes,
  PgNetworks,
] as const;

// eslint-disable-next-line @typescript-eslint/no-empty-object-type, @typescript-eslint/no-unsafe-declaration-merging -- the methods are put on by bindMethods (compose.ts)
export interface PostgresStore extends Composed<InstanceType<(typeof REPOSITORIES)[number]>> {}

// eslint-disable-next-line @typescript-eslint/no-unsafe-declaration-merging -- see the interface above
export class PostgresStore implements Store {
  private readonly db: PgDatabase;

  private constructor(db: PgDatabase) {
    this.db = db;
    for (const Repository of REPOSITORIES) bindMethods(this, new Repository(db));
  }

  /**
   * Connects, checks the database sorts text by bytes (as SQLite does: list orders and keyset pages are then the
   * same on both stores) and brings the schema up to date.
   */
  static async open(url: string, o: { poolSize?: number } = {}): Promise<PostgresStore> {
    const db = new PgDatabase(url, o.poolSize);
    try {
      const collate = (await db.q.query('SELECT datcollate AS c FROM pg_database WHERE datname = current_database()')).rows[0]?.c as string;
      if (collate !== 'C' && collate !== 'POSIX') {
        throw new Error(`PostgreSQL database collation is ${collate}; novalet needs C (create it with: createdb --locale=C --template=template0 NAME)`);
      }
      await migratePostgres(db.pool);
    } catch (e) {
      await db.close();
      throw e;
    }
    return new PostgresStore(db);
  }

  async close(): Promise<void> { await this.db.close(); }
}

/** The store's connection pool, for tests that work below the Store interface (a raw UPDATE). */
export function pgDatabaseOf(store: PostgresStore): PgDatabase {
  return store['db'];
}
