/** SQLite repository of host aggregates (migration 15). */
import type { AggregateRepo } from '../repos/aggregates.js';
import type { Aggregate } from '../types.js';
import type { Row } from './columns.js';
import { SqliteRepository } from './repository.js';

export const aggregateOf = (r: Row, hosts: string[]): Aggregate => ({
  id: Number(r.id), uuid: r.uuid as string, name: r.name as string, metadata: JSON.parse(r.metadata as string) as Record<string, string>,
  hosts, createdAt: r.created_at as string, updatedAt: (r.updated_at as string | null) ?? null,
});

export class SqliteAggregates extends SqliteRepository implements AggregateRepo {
  async createAggregate(a: { uuid: string; name: string; metadata: Record<string, string>; createdAt: string }): Promise<Aggregate | null> {
    const r = this.db.prepare('INSERT OR IGNORE INTO aggregates (uuid, name, metadata, created_at) VALUES (?, ?, ?, ?)')
      .run(a.uuid, a.name, JSON.stringify(a.metadata), a.createdAt);
    return r.changes === 1 ? this.getAggregate(Number(r.lastInsertRowid)) : null;
  }

  async getAggregate(id: number): Promise<Aggregate | null> {
    const r = this.db.prepare('SELECT * FROM aggregates WHERE id = ?').get(id) as Row | undefined;
    if (!r) return null;
    const hosts = (this.db.prepare('SELECT host FROM aggregate_hosts WHERE aggregate_id = ? ORDER BY seq').all(id) as Row[]).map((h) => h.host as string);
    return aggregateOf(r, hosts);
  }

  async listAggregates(): Promise<Aggregate[]> {
    const hosts = new Map<number, string[]>();
    for (const h of this.db.prepare('SELECT aggregate_id, host FROM aggregate_hosts ORDER BY seq').all() as Row[]) {
      const id = Number(h.aggregate_id);
      hosts.set(id, [...(hosts.get(id) ?? []), h.host as string]);
    }
    return (this.db.prepare('SELECT * FROM aggregates ORDER BY id').all() as Row[]).map((r) => aggregateOf(r, hosts.get(Number(r.id)) ?? []));
  }

  async updateAggregate(id: number, c: { name?: string; metadata?: Record<string, string> }, at: string): Promise<'ok' | 'not_found' | 'name_taken'> {
    return this.db.transaction((): 'ok' | 'not_found' | 'name_taken' => {
      if (!this.db.prepare('SELECT 1 FROM aggregates WHERE id = ?').get(id)) return 'not_found';
      if (c.name !== undefined && this.db.prepare('SELECT 1 FROM aggregates WHERE name = ? AND id != ?').get(c.name, id)) return 'name_taken';
      this.db.prepare('UPDATE aggregates SET name = COALESCE(?, name), metadata = COALESCE(?, metadata), updated_at = ? WHERE id = ?')
        .run(c.name ?? null, c.metadata ? JSON.stringify(c.metadata) : null, at, id);
      return 'ok';
    })();
  }

  async deleteAggregate(id: number): Promise<boolean> {
    return this.db.prepare('DELETE FROM aggregates WHERE id = ? AND NOT EXISTS (SELECT 1 FROM aggregate_hosts WHERE aggregate_id = ?)').run(id, id).changes === 1;
  }

  async addAggregateHost(id: number, host: string, at: string): Promise<boolean> {
    return this.db.transaction(() => {
      const added = this.db.prepare('INSERT OR IGNORE INTO aggregate_hosts (aggregate_id, host, created_at) SELECT id, ?, ? FROM aggregates WHERE id = ?').run(host, at, id).changes === 1;
      if (added) this.db.prepare('UPDATE aggregates SET updated_at = ? WHERE id = ?').run(at, id);
      return added;
    })();
  }

  async removeAggregateHost(id: number, host: string, at: string): Promise<boolean> {
    return this.db.transaction(() => {
      const removed = this.db.prepare('DELETE FROM aggregate_hosts WHERE aggregate_id = ? AND host = ?').run(id, host).changes === 1;
      if (removed) this.db.prepare('UPDATE aggregates SET updated_at = ? WHERE id = ?').run(at, id);
      return removed;
    })();
  }
}
