/**
 * Claims as rows (migration 7), as in sqlite/claims.ts: one allocation per server and one usage row per host,
 * changed together in one transaction. A claim is a conditional UPDATE of the host's usage row: PostgreSQL locks
 * that row, and a racing claim (another controller's) waits for the lock and then re-checks the condition against
 * the committed usage (READ COMMITTED re-evaluates an UPDATE's WHERE on the newest row), so no host is ever
 * over-committed. A group's rule is checked under a lock of the group's row, so racing members take turns.
 */
import type { ClaimRepo } from '../repos/claims.js';
import type { GroupRule, HostUsage, Resources } from '../types.js';
import { now } from '../sqlite/columns.js';
import type { Queryable, Row } from './db.js';
import { groupHosts } from './server-groups.js';
import { PgRepository } from './repository.js';

const usage = (r: Row | undefined): HostUsage => (r
  ? { instances: r.instances as number, vcpus: r.vcpus as number, memoryMb: r.memory_mb as number, diskGb: r.disk_gb as number }
  : { instances: 0, vcpus: 0, memoryMb: 0, diskGb: 0 });

/** one conditional UPDATE (a row lock): the host's usage changes only if the result stays within `limits` */
async function add(q: Queryable, host: string, d: Resources, instances: number, limits: Resources | null): Promise<boolean> {
  await q.query('INSERT INTO host_usage (host) VALUES (?) ON CONFLICT (host) DO NOTHING', [host]);
  const cond = limits ? ' AND vcpus + ? <= ? AND memory_mb + ? <= ? AND disk_gb + ? <= ?' : '';
  const params = limits ? [d.vcpus, limits.vcpus, d.memoryMb, limits.memoryMb, d.diskGb, limits.diskGb] : [];
  return (await q.query(`UPDATE host_usage SET instances = GREATEST(0, instances + ?), vcpus = GREATEST(0, vcpus + ?),
    memory_mb = GREATEST(0, memory_mb + ?), disk_gb = GREATEST(0, disk_gb + ?) WHERE host = ?${cond}`,
  [instances, d.vcpus, d.memoryMb, d.diskGb, host, ...params])).rowCount === 1;
}

/** the claims of one server take turns (a create's claim and its retry must not both insert an allocation) */
async function lockServerClaim(q: Queryable, serverId: string): Promise<void> {
  await q.query('SELECT pg_advisory_xact_lock(hashtextextended(?, 0))', [`claim/${serverId}`]);
}

/** Takes `r` on `host` for the server if the host's usage stays within `limits`; runs inside the caller's transaction. */
export async function claim(q: Queryable, serverId: string, host: string, r: Resources, limits: Resources | null): Promise<boolean> {
  await lockServerClaim(q, serverId);
  const held = (await q.query('SELECT host FROM allocations WHERE server_id = ?', [serverId])).rows[0];
  if (held?.host === host) return true;
  if (held) await release(q, serverId);
  if (!(await add(q, host, r, 1, limits))) return false;
  await q.query('INSERT INTO allocations (server_id, host, vcpus, memory_mb, disk_gb, created_at) VALUES (?, ?, ?, ?, ?, ?)',
    [serverId, host, r.vcpus, r.memoryMb, r.diskGb, now()]);
  return true;
}

/** gives the server's claim back (a no-op without one); inside the caller's transaction */
export async function release(q: Queryable, serverId: string): Promise<void> {
  await lockServerClaim(q, serverId);
  const a = (await q.query('DELETE FROM allocations WHERE server_id = ? RETURNING *', [serverId])).rows[0];
  if (a) await add(q, a.host as string, { vcpus: -(a.vcpus as number), memoryMb: -(a.memory_mb as number), diskGb: -(a.disk_gb as number) }, -1, null);
}

/** thrown inside a claim's transaction to roll it back when the target has no room */
class Refused extends Error {}

/** affinity: no member on another host; anti-affinity: fewer than maxPerHost members on this one */
async function groupAllows(q: Queryable, rule: GroupRule, serverId: string, host: string): Promise<boolean> {
  await q.query('SELECT 1 FROM server_groups WHERE id = ? FOR UPDATE', [rule.groupId]);
  const where = await groupHosts(q, rule.groupId, serverId);
  if (rule.policy === 'affinity') return [...where.keys()].every((h) => h === host);
  return (where.get(host) ?? 0) < rule.maxPerHost;
}

export class PgClaims extends PgRepository implements ClaimRepo {
  async claimHost(serverId: string, host: string, r: Resources, limits: Resources | null, rule?: GroupRule): Promise<boolean> {
    return this.db.tx(async (q) => {
      if (rule && !(await groupAllows(q, rule, serverId, host))) return false;
      if (!(await claim(q, serverId, host, r, limits))) return false;
      await q.query('UPDATE servers SET host = ?, node = ? WHERE id = ? AND (host IS DISTINCT FROM ? OR node IS DISTINCT FROM ?)', [host, host, serverId, host, host]);
      return true;
    });
  }

  async resizeClaim(serverId: string, r: Resources, limits: Resources | null): Promise<boolean> {
    return this.db.tx(async (q) => {
      await lockServerClaim(q, serverId);
      const a = (await q.query('SELECT * FROM allocations WHERE server_id = ?', [serverId])).rows[0];
      if (!a) return false;
      const delta = { vcpus: r.vcpus - (a.vcpus as number), memoryMb: r.memoryMb - (a.memory_mb as number), diskGb: r.diskGb - (a.disk_gb as number) };
      const grows = delta.vcpus > 0 || delta.memoryMb > 0 || delta.diskGb > 0;
      if (!(await add(q, a.host as string, delta, 0, grows ? limits : null))) return false;
      await q.query('UPDATE allocations SET vcpus = ?, memory_mb = ?, disk_gb = ? WHERE server_id = ?', [r.vcpus, r.memoryMb, r.diskGb, serverId]);
      return true;
    });
  }

  async releaseClaim(serverId: string): Promise<void> {
    await this.db.tx((q) => release(q, serverId));
  }

  /** as sqlite/claims.ts: the source's claim becomes the migration's, the target's is the server's; all or nothing */
  async claimMigration(serverId: string, migrationId: string, target: string, r: Resources, limits: Resources | null, rule?: GroupRule): Promise<boolean> {
    try {
      return await this.db.tx(async (q) => {
        await lockServerClaim(q, serverId);
        const held = (await q.query('SELECT host FROM allocations WHERE server_id = ?', [migrationId])).rows[0];
        const mine = (await q.query('SELECT host FROM allocations WHERE server_id = ?', [serverId])).rows[0];
        if (held && mine?.host === target) return true; // claimed before (a re-driven step)
        if (!held && mine) await q.query('UPDATE allocations SET server_id = ? WHERE server_id = ?', [migrationId, serverId]);
        else if (held && mine) await release(q, serverId); // a claim on another target from an earlier try
        if (rule && !(await groupAllows(q, rule, serverId, target))) throw new Refused();
        if (!(await add(q, target, r, 1, limits))) throw new Refused();
        await q.query('INSERT INTO allocations (server_id, host, vcpus, memory_mb, disk_gb, created_at) VALUES (?, ?, ?, ?, ?, ?)',
          [serverId, target, r.vcpus, r.memoryMb, r.diskGb, now()]);
        return true;
      });
    } catch (err) {
      if (err instanceof Refused) return false; // rolled back: the source's claim is the server's again
      throw err;
    }
  }

  async revertMigrationClaim(serverId: string, migrationId: string): Promise<void> {
    await this.db.tx(async (q) => {
      await lockServerClaim(q, serverId);
      const held = (await q.query('SELECT host FROM allocations WHERE server_id = ?', [migrationId])).rows[0];
      if (!held) return;
      await release(q, serverId);
      await q.query('UPDATE allocations SET server_id = ? WHERE server_id = ?', [serverId, migrationId]);
    });
  }

  async getAllocation(serverId: string): Promise<(Resources & { host: string }) | null> {
    const a = await this.one('SELECT * FROM allocations WHERE server_id = ?', [serverId]);
    return a ? { host: a.host as string, vcpus: a.vcpus as number, memoryMb: a.memory_mb as number, diskGb: a.disk_gb as number } : null;
  }

  async getHostUsage(name: string): Promise<HostUsage> {
    return usage(await this.one('SELECT * FROM host_usage WHERE host = ?', [name]));
  }

  async listHostUsage(): Promise<Map<string, HostUsage>> {
    const out = new Map<string, HostUsage>();
    for (const r of await this.all('SELECT * FROM host_usage')) out.set(r.host as string, usage(r));
    return out;
  }
}
