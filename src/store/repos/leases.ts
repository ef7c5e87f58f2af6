/** Named cluster-wide leases: periodic work that runs once per cluster, not once per controller (store/sqlite/leases.ts). */
export interface ClusterLeaseRepo {
  /**
   * Takes or renews the lease `name` for `holder` until `untilMs` (epoch ms) when it is free, ran out before
   * `nowMs`, or is the holder's already: one conditional write, so of racing controllers exactly one holds it.
   */
  takeClusterLease(name: string, holder: string, untilMs: number, nowMs: number): Promise<boolean>;
  /** gives the lease up if `holder` has it (a controller stopping: another takes the work at once) */
  releaseClusterLease(name: string, holder: string): Promise<void>;
  /** the leases whose name starts with `prefix` and that last beyond `nowMs` (live controllers: `member:<id>`), by name */
  listClusterLeases(prefix: string, nowMs: number): Promise<ClusterLease[]>;
}

export interface ClusterLease { name: string; holder: string; leaseUntil: number }

/**
 * the query both stores run: the prefix compared as a substring (no LIKE: names may hold `%` or `_`; no range:
 * PostgreSQL's order depends on the database's collation)
 */
export const LIST_LEASES = `SELECT name, holder, lease_until FROM cluster_leases
  WHERE substr(name, 1, ?) = ? AND lease_until >= ? ORDER BY name`;

/** the parameters of LIST_LEASES */
export function listLeaseParams(prefix: string, nowMs: number): [number, string, number] { return [prefix.length, prefix, nowMs]; }
