/**
 * Claims as rows (migration 7): one allocation per server and one usage row per host, changed together in one
 * transaction. A claim is a conditional UPDATE of the host's usage row that succeeds only while the host still
 * has room, so any number of racing creates (in one controller or several on one database) never over-commit a
 * host, and its cost does not depend on how many servers the host has.
 */
import type { ClaimRepo } from '../repos/claims.js';
import type { GroupRule, HostUsage, Resources } from '../types.js';
import { groupHosts } from './server-groups.js';
import { now, type Row } from './columns.js';
import { SqliteRepository, type Connection } from './repository.js';

const usage = (r: Row | undefined): HostUsage => (r
  ? { instances: r.instances as number, vcpus: r.vcpus as number, memoryMb: r.memory_mb as number, diskGb: r.disk_gb as number }
  : { instances: 0, vcpus: 0, memoryMb: 0, diskGb: 0 });

/** one conditional UPDATE: the host's usage changes only if the result stays within `limits` */
function add(c: Connection, host: string, d: Resources, instances: number, limits: Resources | null): boolean {
  c.cached('INSERT OR IGNORE INTO host_usage (host) VALUES (?)').run(host);
  const cond = limits ? ' AND vcpus + ? <= ? AND memory_mb + ? <= ? AND disk_gb + ? <= ?' : '';
  const params = limits ? [d.vcpus, limits.vcpus, d.memoryMb, limits.memoryMb, d.diskGb, limits.diskGb] : [];
  return c.cached(`UPDATE host_usage SET instances = MAX(0, instances + ?), vcpus = MAX(0, vcpus + ?),
    memory_mb = MAX(0, memory_mb + ?), disk_gb = MAX(0, disk_gb + ?) WHERE host = ?${cond}`)
    .run(instances, d.vcpus, d.memoryMb, d.diskGb, host, ...params).changes === 1;
}

/**
 * Takes `r` on `host` for the server if the host's usage stays within `limits` (null: no check). Idempotent: the
 * same server's claim on the same host is kept; a claim on another host moves.
 */
export function claim(c: Connection, serverId: string, host: string, r: Resources, limits: Resources | null): boolean {
  return c.db.transaction(() => {
    const held = c.cached('SELECT host FROM allocations WHERE server_id = ?').get(serverId) as Row | undefined;
    if (held?.host === host) return true;
    if (held) release(c, serverId);
    if (!add(c, host, r, 1, limits)) return false;
    c.cached('INSERT INTO allocations (server_id, host, vcpus, memory_mb, disk_gb, created_at) VALUES (?, ?, ?, ?, ?, ?)')
      .run(serverId, host, r.vcpus, r.memoryMb, r.diskGb, now());
    return true;
  })();
}

/** gives the server's claim back; a no-op without one */
export function release(c: Connection, serverId: string): void {
  c.db.transaction(() => {
    const a = c.cached('DELETE FROM allocations WHERE server_id = ? RETURNING *').get(serverId) as Row | undefined;
    if (a) add(c, a.host as string, { vcpus: -(a.vcpus as number), memoryMb: -(a.memory_mb as number), diskGb: -(a.disk_gb as number) }, -1, null);
  })();
}

/** thrown inside a claim's transaction to roll it back when the target has no room */
class Refused extends Error {}

/** affinity: no member on another host; anti-affinity: fewer than maxPerHost members on this one */
function groupAllows(cached: Connection['cached'], rule: GroupRule, serverId: string, host: string): boolean {
  const where = groupHosts(cached, rule.groupId, serverId);
  if (rule.policy === 'affinity') return [...where.keys()].every((h) => h === host);
  return (where.get(host) ?? 0) < rule.maxPerHost;
}

export class SqliteClaims extends SqliteRepository implements ClaimRepo {
  async claimHost(serverId: string, host: string, r: Resources, limits: Resources | null, rule?: GroupRule): Promise<boolean> {
    return this.db.transaction(() => {
      if (rule && !groupAllows(this.conn.cached, rule, serverId, host)) return false;
      if (!claim(this.conn, serverId, host, r, limits)) return false;
      this.cached('UPDATE servers SET host = ?, node = ? WHERE id = ? AND (host IS NOT ? OR node IS NOT ?)').run(host, host, serverId, host, host);
      return true;
    }).immediate();
  }

  async resizeClaim(serverId: string, r: Resources, limits: Resources | null): Promise<boolean> {
    return this.db.transaction(() => {
      const a = this.cached('SELECT * FROM allocations WHERE server_id = ?').get(serverId) as Row | undefined;
      if (!a) return false;
      const delta = { vcpus: r.vcpus - (a.vcpus as number), memoryMb: r.memoryMb - (a.memory_mb as number), diskGb: r.diskGb - (a.disk_gb as number) };
      const grows = delta.vcpus > 0 || delta.memoryMb > 0 || delta.diskGb > 0;
      if (!add(this.conn, a.host as string, delta, 0, grows ? limits : null)) return false;
      this.cached('UPDATE allocations SET vcpus = ?, memory_mb = ?, disk_gb = ? WHERE server_id = ?').run(r.vcpus, r.memoryMb, r.diskGb, serverId);
      return true;
    }).immediate();
  }

  async releaseClaim(serverId: string): Promise<void> { release(this.conn, serverId); }

  async claimMigration(serverId: string, migrationId: string, target: string, r: Resources, limits: Resources | null, rule?: GroupRule): Promise<boolean> {
    try {
      return this.db.transaction(() => {
        const held = this.cached('SELECT host FROM allocations WHERE server_id = ?').get(migrationId) as Row | undefined;
        const mine = this.cached('SELECT host FROM allocations WHERE server_id = ?').get(serverId) as Row | undefined;
        if (held && mine?.host === target) return true; // claimed before (a re-driven step)
        if (!held && mine) this.cached('UPDATE allocations SET server_id = ? WHERE server_id = ?').run(migrationId, serverId);
        else if (held && mine) release(this.conn, serverId); // a claim on another target from an earlier try
        if (rule && !groupAllows(this.conn.cached, rule, serverId, target)) throw new Refused();
        if (!add(this.conn, target, r, 1, limits)) throw new Refused();
        this.cached('INSERT INTO allocations (server_id, host, vcpus, memory_mb, disk_gb, created_at) VALUES (?, ?, ?, ?, ?, ?)')
          .run(serverId, target, r.vcpus, r.memoryMb, r.diskGb, now());
        return true;
      }).immediate();
    } catch (err) {
      if (err instanceof Refused) return false; // rolled back: the source's claim is the server's again
      throw err;
    }
  }

  async revertMigrationClaim(serverId: string, migrationId: string): Promise<void> {
    this.db.transaction(() => {
      const held = this.cached('SELECT host FROM allocations WHERE server_id = ?').get(migrationId) as Row | undefined;
      if (!held) return;
      release(this.conn, serverId);
      this.cached('UPDATE allocations SET server_id = ? WHERE server_id = ?').run(serverId, migrationId);
    }).immediate();
  }

  async getAllocation(serverId: string): Promise<(Resources & { host: string }) | null> {
    const a = this.cached('SELECT * FROM allocations WHERE server_id = ?').get(serverId) as Row | undefined;
    return a ? { host: a.host as string, vcpus: a.vcpus as number, memoryMb: a.memory_mb as number, diskGb: a.disk_gb as number } : null;
  }

  async getHostUsage(name: string): Promise<HostUsage> {
    return usage(this.cached('SELECT * FROM host_usage WHERE host = ?').get(name) as Row | undefined);
  }

  async listHostUsage(): Promise<Map<string, HostUsage>> {
    const out = new Map<string, HostUsage>();
    for (const r of this.db.prepare('SELECT * FROM host_usage').all() as Row[]) out.set(r.host as string, usage(r));
    return out;
  }
}
