/** Opening the controller's database: the shared pragmas, a REGEXP function, and the versioned migrations. */
import { migrate, numbered, openSqlite, userVersionLedger, type Database } from '../../sqlite/index.js';
import { MIGRATIONS } from './migrations.js';
import { compileSearchPattern, type SearchPattern } from '../search-pattern.js';

export function openDatabase(path: string): Database {
  const db = openSqlite(path);
  addRegexp(db);
  // the version is PRAGMA user_version, as in every controller database so far
  migrate(db, numbered(MIGRATIONS), { ledger: userVersionLedger });
  return db;
}

/**
 * `x REGEXP y` calls regexp(y, x); Nova's name/ip filters are regex searches, run by RE2 in linear time
 * (search-pattern.ts). An invalid pattern matches nothing (the API validates patterns first, so this is only a guard).
 */
function addRegexp(db: Database): void {
  const cache = new Map<string, SearchPattern | null>();
  db.function('regexp', { deterministic: true }, (pattern: unknown, value: unknown) => {
    if (typeof pattern !== 'string' || typeof value !== 'string') return 0;
    let re = cache.get(pattern);
    if (re === undefined) {
      re = compileSearchPattern(pattern);
      if (cache.size > 1000) cache.clear();
      cache.set(pattern, re);
    }
    return re !== null && re.test(value) ? 1 : 0;
  });
}
