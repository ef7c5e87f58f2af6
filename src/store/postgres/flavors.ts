/** PostgreSQL repository of flavors and their extra specs. */
import type { FlavorRepo } from '../repos/flavors.js';
import type { Flavor } from '../types.js';
import { bool } from '../sqlite/columns.js';
import { FLAVOR_SORT_COLUMNS } from '../sqlite/flavors.js';
import type { Queryable, Row } from './db.js';
import { PgRepository } from './repository.js';

/** SQLite's CAST(id AS INTEGER): the leading integer of the text, 0 without one (PostgreSQL's cast would throw) */
const ID_NUMBER = `COALESCE(substring(id from '^\\s*([-+]?[0-9]+)')::numeric, 0)`;

async function putSpecs(q: Queryable, id: string, specs: Record<string, string>): Promise<void> {
  for (const [k, v] of Object.entries(specs)) {
    await q.query('INSERT INTO flavor_extra_specs (flavor_id, key, value) VALUES (?, ?, ?) ON CONFLICT (flavor_id, key) DO UPDATE SET value = excluded.value', [id, k, v]);
  }
}

export class PgFlavors extends PgRepository implements FlavorRepo {
  async createFlavor(f: Flavor): Promise<void> {
    await this.db.tx(async (q) => {
      await q.query(`INSERT INTO flavors (id, name, vcpus, ram, disk, ephemeral, swap, rxtx_factor, is_public, description, disabled, created_at)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, [f.id, f.name, f.vcpus, f.ram, f.disk, f.ephemeral, f.swap, f.rxtxFactor,
        f.isPublic ? 1 : 0, f.description, f.disabled ? 1 : 0, f.createdAt]);
      await putSpecs(q, f.id, f.extraSpecs);
    });
  }
  /** the extra specs of every flavor in `rows`, in one query */
  async #withSpecs(rows: Row[]): Promise<Flavor[]> {
    const specs = new Map<string, Record<string, string>>(rows.map((r) => [r.id as string, {}]));
    if (rows.length) {
      for (const s of await this.all('SELECT flavor_id, key, value FROM flavor_extra_specs WHERE flavor_id = ANY(?) ORDER BY key COLLATE "C"', [[...specs.keys()]])) {
        specs.get(s.flavor_id as string)![s.key as string] = s.value as string;
      }
    }
    return rows.map((x) => ({
      id: x.id as string, name: x.name as string, vcpus: x.vcpus as number, ram: x.ram as number, disk: x.disk as number,
      ephemeral: x.ephemeral as number, swap: x.swap as number, rxtxFactor: x.rxtx_factor as number, isPublic: bool(x.is_public),
      description: (x.description as string | null) ?? null, disabled: bool(x.disabled), extraSpecs: specs.get(x.id as string)!,
      createdAt: x.created_at as string,
    }));
  }
  async getFlavor(id: string): Promise<Flavor | null> { return (await this.#withSpecs(await this.all('SELECT * FROM flavors WHERE id = ?', [id])))[0] ?? null; }
  async getFlavorByName(name: string): Promise<Flavor | null> { return (await this.#withSpecs(await this.all('SELECT * FROM flavors WHERE name = ?', [name])))[0] ?? null; }
  async listFlavors(o: { includePrivate: boolean; minRam?: number; minDisk?: number; sortKey?: string; sortDir?: 'asc' | 'desc'; limit?: number; marker?: string }): Promise<Flavor[]> {
    const w: string[] = ['disabled = 0']; const p: unknown[] = [];
    if (!o.includePrivate) w.push('is_public = 1');
    if (o.minRam !== undefined) { w.push('ram >= ?'); p.push(o.minRam); }
    if (o.minDisk !== undefined) { w.push('disk >= ?'); p.push(o.minDisk); }
    const col = FLAVOR_SORT_COLUMNS.get(o.sortKey ?? 'flavorid') ?? 'id';
    const dir = o.sortDir === 'desc' ? 'DESC' : 'ASC';
    const order = col === 'id' ? `${ID_NUMBER} ${dir}, id COLLATE "C" ${dir}` : `${col} ${dir}, id COLLATE "C" ${dir}`;
    let rows = await this.all(`SELECT * FROM flavors WHERE ${w.join(' AND ')} ORDER BY ${order}`, p);
    if (o.marker !== undefined) {
      const i = rows.findIndex((r) => r.id === o.marker);
      rows = i >= 0 ? rows.slice(i + 1) : rows;
    }
    if (o.limit !== undefined) rows = rows.slice(0, o.limit);
    return this.#withSpecs(rows);
  }
  async deleteFlavor(id: string): Promise<boolean> { return (await this.run('DELETE FROM flavors WHERE id = ?', [id])) === 1; }
  async setFlavorExtraSpecs(id: string, specs: Record<string, string>): Promise<void> { await this.db.tx((q) => putSpecs(q, id, specs)); }
  async deleteFlavorExtraSpec(id: string, key: string): Promise<boolean> {
    return (await this.run('DELETE FROM flavor_extra_specs WHERE flavor_id = ? AND key = ?', [id, key])) === 1;
  }
  async updateFlavorDescription(id: string, description: string | null): Promise<void> {
    await this.run('UPDATE flavors SET description = ? WHERE id = ?', [description, id]);
  }
}
