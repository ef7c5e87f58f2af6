/**
 * The store a location names: `postgres://` or `postgresql://` URLs open PostgreSQL (several controllers on one
 * database), anything else is a SQLite file (`:memory:` included). Callers get `Store`, never the implementation.
 */
import type { Store } from './store.js';
import { SqliteStore } from './sqlite/sqlite-store.js';
import { PostgresStore } from './postgres/postgres-store.js';

export const isPostgresUrl = (location: string): boolean => /^postgres(ql)?:\/\//i.test(location);

/** null when `location` is usable, else why not (for config validation before anything starts) */
export function checkStoreLocation(location: string): string | null {
  if (!isPostgresUrl(location)) return location.trim() === '' ? 'empty database path' : null;
  try {
    const u = new URL(location);
    if (!u.pathname || u.pathname === '/') return 'a PostgreSQL URL must name the database (postgres://user@host:port/DATABASE)';
    return null;
  } catch {
    return 'not a valid PostgreSQL URL (postgres://user:password@host:port/database)';
  }
}

export async function openStore(location: string): Promise<Store> {
  return isPostgresUrl(location) ? PostgresStore.open(location) : new SqliteStore(location);
}

/** the location without a password, for logs */
export function redactStoreLocation(location: string): string {
  if (!isPostgresUrl(location)) return location;
  try { const u = new URL(location); if (u.password) u.password = '***'; return u.toString(); } catch { return 'postgres://…'; }
}
