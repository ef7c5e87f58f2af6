export type { Store } from './store.js';
export * from './types.js';
export type * from './repos/volumes.js';
export { serverStatus, KNOWN_STATUSES } from './status.js';
export { SqliteStore } from './sqlite/sqlite-store.js';
export { SORT_COLUMNS as SERVER_SORT_COLUMNS } from './sqlite/server-query.js';
export { FLAVOR_SORT_COLUMNS } from './sqlite/flavors.js';
export { compileSearchPattern } from './search-pattern.js';
export { claimOf } from './resources.js';
