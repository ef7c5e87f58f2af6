/** The words of a server list query that the API checks a request against: Nova's statuses, the sort keys and the filter patterns. */
import { compileSearchPattern, KNOWN_STATUSES, SERVER_SORT_COLUMNS, type ServerSortKey } from '../../store/index.js';

export const isKnownStatus = (s: string): boolean => KNOWN_STATUSES.has(s);

/** own keys only: `constructor` or `__proto__` are no sort keys */
export const isServerSortKey = (k: string): k is ServerSortKey => Object.hasOwn(SERVER_SORT_COLUMNS, k);

/** a name/ip filter the store can run (RE2: linear time; no backreferences or lookaround) */
export const isSearchPattern = (p: string): boolean => compileSearchPattern(p) !== null;
