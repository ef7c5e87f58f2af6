/** PostgreSQL repository of fixed IPs. */
import type { FixedIpRepo } from '../repos/fixed-ips.js';
import type { FixedIp } from '../types.js';
import { now } from '../sqlite/columns.js';
import { PgRepository } from './repository.js';

export class PgFixedIps extends PgRepository implements FixedIpRepo {
  async allocateFixedIp(networkId: string, serverId: string, mac: string, candidates: Iterable<string>): Promise<string | null> {
    return this.db.tx(async (q) => {
      // allocations on one network take turns (SQLite: the write lock), so that a server's retry never gets a second address
      await q.query('SELECT pg_advisory_xact_lock(hashtextextended(?, 0))', [`fixed_ips/${networkId}`]);
      const held = (await q.query('SELECT address FROM fixed_ips WHERE network_id = ? AND server_id = ? AND mac = ?', [networkId, serverId, mac])).rows[0];
      if (held) return held.address as string;
      const used = new Set((await q.query('SELECT address FROM fixed_ips WHERE network_id = ?', [networkId])).rows.map((r) => r.address as string));
      for (const a of candidates) {
        if (used.has(a)) continue;
        await q.query('INSERT INTO fixed_ips (network_id, address, server_id, mac, created_at) VALUES (?, ?, ?, ?, ?)', [networkId, a, serverId, mac, now()]);
        return a;
      }
      return null;
    });
  }
  async listFixedIps(serverId: string): Promise<FixedIp[]> {
    return (await this.all('SELECT * FROM fixed_ips WHERE server_id = ? ORDER BY created_at COLLATE "C", address COLLATE "C"', [serverId])).map((r) => (
      { networkId: r.network_id as string, address: r.address as string, serverId: r.server_id as string, mac: r.mac as string }));
  }
  async releaseFixedIps(serverId: string): Promise<number> {
    return this.run('DELETE FROM fixed_ips WHERE server_id = ?', [serverId]);
  }
}
