/** PostgreSQL repository of host aggregates (migration 15). */
import type { AggregateRepo } from '../repos/aggregates.js';
import type { Aggregate } from '../types.js';
import { aggregateOf } from '../sqlite/aggregates.js';
import { PgRepository } from './repository.js';

const UNIQUE_VIOLATION = '23505';

export class PgAggregates extends PgRepository implements AggregateRepo {
  async createAggregate(a: { uuid: string; name: string; metadata: Record<string, string>; createdAt: string }): Promise<Aggregate | null> {
    const r = await this.one('INSERT INTO aggregates (uuid, name, metadata, created_at) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING RETURNING id',
      [a.uuid, a.name, JSON.stringify(a.metadata), a.createdAt]);
    return r ? this.getAggregate(Number(r.id)) : null;
  }

  async getAggregate(id: number): Promise<Aggregate | null> {
    const r = await this.one('SELECT * FROM aggregates WHERE id = ?', [id]);
    if (!r) return null;
    const hosts = (await this.all('SELECT host FROM aggregate_hosts WHERE aggregate_id = ? ORDER BY seq', [id])).map((h) => h.host as string);
    return aggregateOf(r, hosts);
  }

  async listAggregates(): Promise<Aggregate[]> {
    const hosts = new Map<number, string[]>();
    for (const h of await this.all('SELECT aggregate_id, host FROM aggregate_hosts ORDER BY seq')) {
      const id = Number(h.aggregate_id);
      hosts.set(id, [...(hosts.get(id) ?? []), h.host as string]);
    }
    return (await this.all('SELECT * FROM aggregates ORDER BY id')).map((r) => aggregateOf(r, hosts.get(Number(r.id)) ?? []));
  }

  async updateAggregate(id: number, c: { name?: string; metadata?: Record<string, string> }, at: string): Promise<'ok' | 'not_found' | 'name_taken'> {
    try {
      const n = await this.run('UPDATE aggregates SET name = COALESCE(?, name), metadata = COALESCE(?, metadata), updated_at = ? WHERE id = ?',
        [c.name ?? null, c.metadata ? JSON.stringify(c.metadata) : null, at, id]);
      return n === 1 ? 'ok' : 'not_found';
    } catch (e) {
      if ((e as { code?: string }).code === UNIQUE_VIOLATION) return 'name_taken';
      throw e;
    }
  }

  async deleteAggregate(id: number): Promise<boolean> {
    return (await this.run('DELETE FROM aggregates WHERE id = ? AND NOT EXISTS (SELECT 1 FROM aggregate_hosts WHERE aggregate_id = ?)', [id, id])) === 1;
  }

  async addAggregateHost(id: number, host: string, at: string): Promise<boolean> {
    return this.db.tx(async (q) => {
      const added = (await q.query('INSERT INTO aggregate_hosts (aggregate_id, host, created_at) SELECT id, ?, ? FROM aggregates WHERE id = ? ON CONFLICT DO NOTHING', [host, at, id])).rowCount === 1;
      if (added) await q.query('UPDATE aggregates SET updated_at = ? WHERE id = ?', [at, id]);
      return added;
    });
  }

  async removeAggregateHost(id: number, host: string, at: string): Promise<boolean> {
    return this.db.tx(async (q) => {
      const removed = (await q.query('DELETE FROM aggregate_hosts WHERE aggregate_id = ? AND host = ?', [id, host])).rowCount === 1;
      if (removed) await q.query('UPDATE aggregates SET updated_at = ? WHERE id = ?', [at, id]);
      return removed;
    });
  }
}
