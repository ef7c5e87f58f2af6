/**
 * PostgreSQL repository of cluster leases (migration 12): the same upsert as SQLite's; INSERT ... ON CONFLICT DO
 * UPDATE locks the existing row and checks the WHERE against its committed version, so one of racing takers wins.
 */
import { LIST_LEASES, listLeaseParams, type ClusterLease, type ClusterLeaseRepo } from '../repos/leases.js';
import { TAKE_LEASE } from '../sqlite/leases.js';
import { PgRepository } from './repository.js';

export class PgClusterLeases extends PgRepository implements ClusterLeaseRepo {
  async takeClusterLease(name: string, holder: string, untilMs: number, nowMs: number): Promise<boolean> {
    return (await this.run(TAKE_LEASE, [name, holder, untilMs, nowMs])) === 1;
  }
  async releaseClusterLease(name: string, holder: string): Promise<void> {
    await this.run('DELETE FROM cluster_leases WHERE name = ? AND holder = ?', [name, holder]);
  }
  async listClusterLeases(prefix: string, nowMs: number): Promise<ClusterLease[]> {
    const rows = await this.all(LIST_LEASES, listLeaseParams(prefix, nowMs)) as { name: string; holder: string; lease_until: number }[];
    return rows.map((r) => ({ name: r.name, holder: r.holder, leaseUntil: Number(r.lease_until) }));
  }
}
