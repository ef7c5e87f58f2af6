/**
 * Claims as rows (migration 7): one allocation per server and one usage row per host, changed together in one
 * transaction. A claim is a conditional UPDATE of the host's usage row that succeeds only while the host still
 * has room, so any number of racing creates (in one controller or several on one database) never over-commit a
 * host, and its cost does not depend on how many servers the host has.
 */
import type { HostUsage, Resources } from '../types.js';
import type { Db } from './open.js';

type Row = Record<string, unknown>;
const usage = (r: Row | undefined): HostUsage => (r
  ? { instances: r.instances as number, vcpus: r.vcpus as number, memoryMb: r.memory_mb as number, diskGb: r.disk_gb as number }
  : { instances: 0, vcpus: 0, memoryMb: 0, diskGb: 0 });

export class SqliteClaims {
  constructor(private readonly db: Db) {}

  /**
   * Takes `r` on `host` for the server if the host's usage stays within `limits` (null: no check, an admin's
   * forced placement already checked). Idempotent: the same server's claim on the same host is kept.
   */
  claim(serverId: string, host: string, r: Resources, limits: Resources | null): boolean {
    return this.db.transaction(() => {
      const held = this.db.prepare('SELECT host FROM allocations WHERE server_id = ?').get(serverId) as Row | undefined;
      if (held?.host === host) return true;
      if (held) this.release(serverId);
      if (!this.add(host, r, 1, limits)) return false;
      this.db.prepare('INSERT INTO allocations (server_id, host, vcpus, memory_mb, disk_gb, created_at) VALUES (?, ?, ?, ?, ?, ?)')
        .run(serverId, host, r.vcpus, r.memoryMb, r.diskGb, new Date().toISOString());
      return true;
    }).immediate();
  }

  /** Changes the server's claim to `r` on its host (resize); growth must fit `limits`. False: no room (or no claim). */
  resize(serverId: string, r: Resources, limits: Resources | null): boolean {
    return this.db.transaction(() => {
      const a = this.db.prepare('SELECT * FROM allocations WHERE server_id = ?').get(serverId) as Row | undefined;
      if (!a) return false;
      const delta = { vcpus: r.vcpus - (a.vcpus as number), memoryMb: r.memoryMb - (a.memory_mb as number), diskGb: r.diskGb - (a.disk_gb as number) };
      const grows = delta.vcpus > 0 || delta.memoryMb > 0 || delta.diskGb > 0;
      if (!this.add(a.host as string, delta, 0, grows ? limits : null)) return false;
      this.db.prepare('UPDATE allocations SET vcpus = ?, memory_mb = ?, disk_gb = ? WHERE server_id = ?').run(r.vcpus, r.memoryMb, r.diskGb, serverId);
      return true;
    }).immediate();
  }

  /** Gives the server's claim back; a no-op without one. */
  release(serverId: string): void {
    this.db.transaction(() => {
      const a = this.db.prepare('DELETE FROM allocations WHERE server_id = ? RETURNING *').get(serverId) as Row | undefined;
      if (a) this.add(a.host as string, { vcpus: -(a.vcpus as number), memoryMb: -(a.memory_mb as number), diskGb: -(a.disk_gb as number) }, -1, null);
    })();
  }

  allocation(serverId: string): (Resources & { host: string }) | null {
    const a = this.db.prepare('SELECT * FROM allocations WHERE server_id = ?').get(serverId) as Row | undefined;
    return a ? { host: a.host as string, vcpus: a.vcpus as number, memoryMb: a.memory_mb as number, diskGb: a.disk_gb as number } : null;
  }

  usage(host: string): HostUsage {
    return usage(this.db.prepare('SELECT * FROM host_usage WHERE host = ?').get(host) as Row | undefined);
  }

  listUsage(): Map<string, HostUsage> {
    const out = new Map<string, HostUsage>();
    for (const r of this.db.prepare('SELECT * FROM host_usage').all() as Row[]) out.set(r.host as string, usage(r));
    return out;
  }

  /** one conditional UPDATE: the usage changes only if the result stays within `limits` */
  private add(host: string, d: Resources, instances: number, limits: Resources | null): boolean {
    this.db.prepare('INSERT OR IGNORE INTO host_usage (host) VALUES (?)').run(host);
    const cond = limits ? ' AND vcpus + ? <= ? AND memory_mb + ? <= ? AND disk_gb + ? <= ?' : '';
    const params = limits ? [d.vcpus, limits.vcpus, d.memoryMb, limits.memoryMb, d.diskGb, limits.diskGb] : [];
    return this.db.prepare(`UPDATE host_usage SET instances = MAX(0, instances + ?), vcpus = MAX(0, vcpus + ?),
      memory_mb = MAX(0, memory_mb + ?), disk_gb = MAX(0, disk_gb + ?) WHERE host = ?${cond}`)
      .run(instances, d.vcpus, d.memoryMb, d.diskGb, host, ...params).changes === 1;
  }
}
