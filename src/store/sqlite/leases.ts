/** SQLite repository of cluster leases (migration 12). */
import { LIST_LEASES, listLeaseParams, type ClusterLease, type ClusterLeaseRepo } from '../repos/leases.js';
import { SqliteRepository } from './repository.js';

/** the upsert both stores run: a new row, or the existing one only when it ran out or is the holder's */
export const TAKE_LEASE = `INSERT INTO cluster_leases (name, holder, lease_until) VALUES (?, ?, ?)
  ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, lease_until = excluded.lease_until
  WHERE cluster_leases.holder = excluded.holder OR cluster_leases.lease_until < ?`;

export class SqliteClusterLeases extends SqliteRepository implements ClusterLeaseRepo {
  async takeClusterLease(name: string, holder: string, untilMs: number, nowMs: number): Promise<boolean> {
    return this.cached(TAKE_LEASE).run(name, holder, untilMs, nowMs).changes === 1;
  }
  async releaseClusterLease(name: string, holder: string): Promise<void> {
    this.cached('DELETE FROM cluster_leases WHERE name = ? AND holder = ?').run(name, holder);
  }
  async listClusterLeases(prefix: string, nowMs: number): Promise<ClusterLease[]> {
    const rows = this.cached(LIST_LEASES).all(...listLeaseParams(prefix, nowMs)) as { name: string; holder: string; lease_until: number }[];
    return rows.map((r) => ({ name: r.name, holder: r.holder, leaseUntil: r.lease_until }));
  }
}
