/** SQLite repository of flavors and their extra specs. */
import type { FlavorRepo } from '../repos/flavors.js';
import type { Flavor } from '../types.js';
import { bool, type Row } from './columns.js';
import { SqliteRepository } from './repository.js';

/** Nova's flavor sort keys (and the store's own ram/disk) -> column; a Map, so that no prototype name is a key */
export const FLAVOR_SORT_COLUMNS: ReadonlyMap<string, string> = new Map([
  ['flavorid', 'id'], ['id', 'id'], ['name', 'name'], ['memory_mb', 'ram'], ['ram', 'ram'], ['vcpus', 'vcpus'], ['root_gb', 'disk'],
  ['disk', 'disk'], ['ephemeral_gb', 'ephemeral'], ['swap', 'swap'], ['rxtx_factor', 'rxtx_factor'], ['is_public', 'is_public'],
  ['description', 'description'], ['disabled', 'disabled'], ['created_at', 'created_at'], ['updated_at', 'created_at'],
]);

export class SqliteFlavors extends SqliteRepository implements FlavorRepo {
  async createFlavor(f: Flavor): Promise<void> {
    this.db.transaction(() => {
      this.db.prepare(`INSERT INTO flavors (id, name, vcpus, ram, disk, ephemeral, swap, rxtx_factor, is_public, description, disabled, created_at)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`).run(f.id, f.name, f.vcpus, f.ram, f.disk, f.ephemeral, f.swap, f.rxtxFactor,
        f.isPublic ? 1 : 0, f.description, f.disabled ? 1 : 0, f.createdAt);
      this.#putSpecs(f.id, f.extraSpecs);
    })();
  }
  #putSpecs(id: string, specs: Record<string, string>): void {
    const st = this.db.prepare('INSERT OR REPLACE INTO flavor_extra_specs (flavor_id, key, value) VALUES (?, ?, ?)');
    for (const [k, v] of Object.entries(specs)) st.run(id, k, v);
  }
  #specs(id: string): Record<string, string> {
    const out: Record<string, string> = {};
    for (const r of this.db.prepare('SELECT key, value FROM flavor_extra_specs WHERE flavor_id = ? ORDER BY key').all(id) as Row[]) out[r.key as string] = r.value as string;
    return out;
  }
  #flavor(r: unknown): Flavor | null {
    if (!r) return null;
    const x = r as Row;
    return {
      id: x.id as string, name: x.name as string, vcpus: x.vcpus as number, ram: x.ram as number, disk: x.disk as number,
      ephemeral: x.ephemeral as number, swap: x.swap as number, rxtxFactor: x.rxtx_factor as number, isPublic: bool(x.is_public),
      description: (x.description as string | null) ?? null, disabled: bool(x.disabled), extraSpecs: this.#specs(x.id as string),
      createdAt: x.created_at as string,
    };
  }
  async getFlavor(id: string): Promise<Flavor | null> { return this.#flavor(this.db.prepare('SELECT * FROM flavors WHERE id = ?').get(id)); }
  async getFlavorByName(name: string): Promise<Flavor | null> { return this.#flavor(this.db.prepare('SELECT * FROM flavors WHERE name = ?').get(name)); }
  async listFlavors(o: { includePrivate: boolean; minRam?: number; minDisk?: number; sortKey?: string; sortDir?: 'asc' | 'desc'; limit?: number; marker?: string }): Promise<Flavor[]> {
    const w: string[] = ['disabled = 0']; const p: unknown[] = [];
    if (!o.includePrivate) w.push('is_public = 1');
    if (o.minRam !== undefined) { w.push('ram >= ?'); p.push(o.minRam); }
    if (o.minDisk !== undefined) { w.push('disk >= ?'); p.push(o.minDisk); }
    const col = FLAVOR_SORT_COLUMNS.get(o.sortKey ?? 'flavorid') ?? 'id';
    const dir = o.sortDir === 'desc' ? 'DESC' : 'ASC';
    // Nova sorts flavor ids as strings; numeric-looking ids are compared numerically first so that 2 < 10
    const order = col === 'id' ? `CAST(id AS INTEGER) ${dir}, id ${dir}` : `${col} ${dir}, id ${dir}`;
    let rows = this.db.prepare(`SELECT * FROM flavors WHERE ${w.join(' AND ')} ORDER BY ${order}`).all(...p) as Row[];
    if (o.marker !== undefined) {
      const i = rows.findIndex((r) => r.id === o.marker);
      rows = i >= 0 ? rows.slice(i + 1) : rows;
    }
    if (o.limit !== undefined) rows = rows.slice(0, o.limit);
    return rows.map((r) => this.#flavor(r)!);
  }
  async deleteFlavor(id: string): Promise<boolean> { return this.db.prepare('DELETE FROM flavors WHERE id = ?').run(id).changes === 1; }
  async setFlavorExtraSpecs(id: string, specs: Record<string, string>): Promise<void> { this.db.transaction(() => this.#putSpecs(id, specs))(); }
  async deleteFlavorExtraSpec(id: string, key: string): Promise<boolean> {
    return this.db.prepare('DELETE FROM flavor_extra_specs WHERE flavor_id = ? AND key = ?').run(id, key).changes === 1;
  }
  async updateFlavorDescription(id: string, description: string | null): Promise<void> {
    this.db.prepare('UPDATE flavors SET description = ? WHERE id = ?').run(description, id);
  }
}
