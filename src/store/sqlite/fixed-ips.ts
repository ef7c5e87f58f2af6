/** SQLite repository of fixed IPs. */
import type { FixedIpRepo } from '../repos/fixed-ips.js';
import type { FixedIp } from '../types.js';
import { now, type Row } from './columns.js';
import { SqliteRepository } from './repository.js';

export class SqliteFixedIps extends SqliteRepository implements FixedIpRepo {
  async allocateFixedIp(networkId: string, serverId: string, mac: string, candidates: Iterable<string>): Promise<string | null> {
    return this.db.transaction(() => {
      const held = this.db.prepare('SELECT address FROM fixed_ips WHERE network_id = ? AND server_id = ? AND mac = ?').get(networkId, serverId, mac) as Row | undefined;
      if (held) return held.address as string;
      const used = new Set((this.db.prepare('SELECT address FROM fixed_ips WHERE network_id = ?').all(networkId) as Row[]).map((r) => r.address as string));
      for (const a of candidates) {
        if (used.has(a)) continue;
        this.db.prepare('INSERT INTO fixed_ips (network_id, address, server_id, mac, created_at) VALUES (?, ?, ?, ?, ?)').run(networkId, a, serverId, mac, now());
        return a;
      }
      return null;
    }).immediate();
  }
  async listFixedIps(serverId: string): Promise<FixedIp[]> {
    return (this.db.prepare('SELECT * FROM fixed_ips WHERE server_id = ? ORDER BY created_at, address').all(serverId) as Row[]).map((r) => (
      { networkId: r.network_id as string, address: r.address as string, serverId: r.server_id as string, mac: r.mac as string }));
  }
  async releaseFixedIps(serverId: string): Promise<number> {
    return this.db.prepare('DELETE FROM fixed_ips WHERE server_id = ?').run(serverId).changes;
  }
}
