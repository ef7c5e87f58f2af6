/** PostgreSQL repository of images. */
import type { ImageRepo } from '../repos/images.js';
import type { Image } from '../types.js';
import { assignments, bool, now, type FieldMap } from '../sqlite/columns.js';
import type { Row } from './db.js';
import { PgRepository } from './repository.js';

const IMAGE_FIELDS: FieldMap = {
  name: ['name', (v: string | null) => v], status: ['status', (v: string) => v], visibility: ['visibility', (v: string) => v],
  owner: ['owner', (v: string | null) => v], diskFormat: ['disk_format', (v: string | null) => v],
  containerFormat: ['container_format', (v: string | null) => v], size: ['size', (v: number | null) => v],
  checksum: ['checksum', (v: string | null) => v], osHashAlgo: ['os_hash_algo', (v: string | null) => v],
  osHashValue: ['os_hash_value', (v: string | null) => v], minDisk: ['min_disk', (v: number) => v],
  minRam: ['min_ram', (v: number) => v], protected: ['protected', (v: boolean) => (v ? 1 : 0)],
  properties: ['properties', (v: unknown) => JSON.stringify(v)], tags: ['tags', (v: unknown) => JSON.stringify(v)],
  updatedAt: ['updated_at', (v: string) => v],
};

export class PgImages extends PgRepository implements ImageRepo {
  async createImage(i: Image): Promise<void> {
    await this.run(`INSERT INTO images (id, name, status, visibility, owner, disk_format, container_format, size, checksum,
      os_hash_algo, os_hash_value, min_disk, min_ram, protected, properties, tags, created_at, updated_at)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, [i.id, i.name, i.status, i.visibility, i.owner,
      i.diskFormat, i.containerFormat, i.size, i.checksum, i.osHashAlgo, i.osHashValue, i.minDisk, i.minRam,
      i.protected ? 1 : 0, JSON.stringify(i.properties), JSON.stringify(i.tags), i.createdAt, i.updatedAt]);
  }
  async getImage(id: string): Promise<Image | null> { return image(await this.one("SELECT * FROM images WHERE id = ? AND status != 'deleted'", [id])); }
  async listImages(o: { projectId: string | null; isAdmin: boolean; name?: string; status?: string; visibility?: string; limit?: number; marker?: string }): Promise<Image[]> {
    const w: string[] = ["status != 'deleted'"]; const p: unknown[] = [];
    if (!o.isAdmin) { w.push("(visibility IN ('public', 'community') OR owner = ?)"); p.push(o.projectId); }
    if (o.name !== undefined) { w.push('name = ?'); p.push(o.name); }
    if (o.status !== undefined) { w.push('status = ?'); p.push(o.status); }
    if (o.visibility !== undefined) { w.push('visibility = ?'); p.push(o.visibility); }
    if (o.marker !== undefined) {
      w.push('(created_at < (SELECT created_at FROM images WHERE id = ?) OR (created_at = (SELECT created_at FROM images WHERE id = ?) AND id COLLATE "C" < ?))');
      p.push(o.marker, o.marker, o.marker);
    }
    let sql = `SELECT * FROM images WHERE ${w.join(' AND ')} ORDER BY created_at COLLATE "C" DESC, id COLLATE "C" DESC`;
    if (o.limit !== undefined) { sql += ' LIMIT ?'; p.push(o.limit); }
    return (await this.all(sql, p)).map((r) => image(r)!);
  }
  async updateImage(id: string, c: Partial<Omit<Image, 'id' | 'createdAt'>>): Promise<void> {
    const { sets, params } = assignments(c, IMAGE_FIELDS, 'image');
    if (c.updatedAt === undefined) { sets.push('updated_at = ?'); params.push(now()); }
    await this.run(`UPDATE images SET ${sets.join(', ')} WHERE id = ?`, [...params, id]);
  }
  async deleteImage(id: string): Promise<boolean> { return (await this.run('DELETE FROM images WHERE id = ?', [id])) === 1; }
}

function image(x: Row | undefined): Image | null {
  if (!x) return null;
  return {
    id: x.id as string, name: (x.name as string | null) ?? null, status: x.status as Image['status'], visibility: x.visibility as Image['visibility'],
    owner: (x.owner as string | null) ?? null, diskFormat: (x.disk_format as string | null) ?? null, containerFormat: (x.container_format as string | null) ?? null,
    size: (x.size as number | null) ?? null, checksum: (x.checksum as string | null) ?? null, osHashAlgo: (x.os_hash_algo as string | null) ?? null,
    osHashValue: (x.os_hash_value as string | null) ?? null, minDisk: x.min_disk as number, minRam: x.min_ram as number, protected: bool(x.protected),
    properties: JSON.parse(x.properties as string), tags: JSON.parse(x.tags as string), createdAt: x.created_at as string, updatedAt: x.updated_at as string,
  };
}
