/** SQLite repository of block storage: volumes, snapshots, volume types, attachments (migration 11). */
import type {
  AttachmentChanges, AttachmentStatus, SnapshotChanges, SnapshotStatus, Volume, VolumeAttachment, VolumeChanges,
  VolumeListQuery, VolumeRepo, VolumeSnapshot, VolumeStatus, VolumeType, VolumeUsage,
} from '../repos/volumes.js';
import { assignments, bool, now, type FieldMap, type Row } from './columns.js';
import { SqliteRepository } from './repository.js';

const json = <T>(v: unknown, dflt: T): T => (typeof v === 'string' && v !== '' ? (JSON.parse(v) as T) : dflt);
const str = (v: unknown): string | null => (v as string | null) ?? null;
const placeholders = (n: number) => Array.from({ length: n }, () => '?').join(', ');

/** row mappers and changeable columns, shared with the PostgreSQL store (postgres/volumes.ts) */
export const volume = (r: Row): Volume => ({
  id: r.id as string, projectId: r.project_id as string, userId: r.user_id as string, name: str(r.name),
  description: str(r.description), size: Number(r.size), status: r.status as VolumeStatus,
  volumeTypeId: r.volume_type_id as string, availabilityZone: r.availability_zone as string, bootable: bool(r.bootable),
  sourceVolid: str(r.source_volid), snapshotId: str(r.snapshot_id), imageId: str(r.image_id), backend: r.backend as string,
  location: str(r.location), format: r.format as string, metadata: json(r.metadata, {}),
  createdAt: r.created_at as string, updatedAt: r.updated_at as string,
});

export const snapshot = (r: Row): VolumeSnapshot => ({
  id: r.id as string, projectId: r.project_id as string, userId: r.user_id as string, volumeId: r.volume_id as string,
  name: str(r.name), description: str(r.description), size: Number(r.size), status: r.status as SnapshotStatus,
  location: str(r.location), metadata: json(r.metadata, {}), createdAt: r.created_at as string, updatedAt: r.updated_at as string,
});

export const volumeType = (r: Row): VolumeType => ({
  id: r.id as string, name: r.name as string, description: str(r.description), isPublic: bool(r.is_public),
  extraSpecs: json(r.extra_specs, {}), createdAt: r.created_at as string,
});

export const attachment = (r: Row): VolumeAttachment => ({
  id: r.id as string, volumeId: r.volume_id as string, serverId: r.server_id as string, projectId: r.project_id as string,
  status: r.status as AttachmentStatus, device: str(r.device), hostName: str(r.host_name), tag: str(r.tag),
  deleteOnTermination: bool(r.delete_on_termination), attachMode: r.attach_mode as 'rw' | 'ro',
  createdAt: r.created_at as string, attachedAt: str(r.attached_at),
});

export const VOLUME_FIELDS: FieldMap = {
  name: ['name', (v: string | null) => v], description: ['description', (v: string | null) => v],
  size: ['size', (v: number) => v], status: ['status', (v: string) => v], bootable: ['bootable', (v: boolean) => (v ? 1 : 0)],
  location: ['location', (v: string | null) => v], metadata: ['metadata', (v: object) => JSON.stringify(v)],
  format: ['format', (v: string) => v],
};
export const SNAPSHOT_FIELDS: FieldMap = {
  name: ['name', (v: string | null) => v], description: ['description', (v: string | null) => v],
  status: ['status', (v: string) => v], location: ['location', (v: string | null) => v],
  metadata: ['metadata', (v: object) => JSON.stringify(v)],
};
export const TYPE_FIELDS: FieldMap = {
  name: ['name', (v: string) => v], description: ['description', (v: string | null) => v],
  isPublic: ['is_public', (v: boolean) => (v ? 1 : 0)], extraSpecs: ['extra_specs', (v: object) => JSON.stringify(v)],
};
export const ATTACHMENT_FIELDS: FieldMap = {
  status: ['status', (v: string) => v], device: ['device', (v: string | null) => v], hostName: ['host_name', (v: string | null) => v],
  attachedAt: ['attached_at', (v: string | null) => v], deleteOnTermination: ['delete_on_termination', (v: boolean) => (v ? 1 : 0)],
};

export class SqliteVolumes extends SqliteRepository implements VolumeRepo {
  async createVolume(v: Volume): Promise<void> {
    this.cached(`INSERT INTO volumes (id, project_id, user_id, name, description, size, status, volume_type_id, availability_zone,
      bootable, source_volid, snapshot_id, image_id, backend, location, format, metadata, created_at, updated_at)
      VALUES (${placeholders(19)})`).run(v.id, v.projectId, v.userId, v.name, v.description, v.size, v.status, v.volumeTypeId,
      v.availabilityZone, v.bootable ? 1 : 0, v.sourceVolid, v.snapshotId, v.imageId, v.backend, v.location, v.format,
      JSON.stringify(v.metadata), v.createdAt, v.updatedAt);
  }

  async getVolume(id: string): Promise<Volume | null> {
    const r = this.cached('SELECT * FROM volumes WHERE id = ?').get(id) as Row | undefined;
    return r ? volume(r) : null;
  }

  async listVolumes(q: VolumeListQuery): Promise<Volume[]> {
    const where: string[] = []; const params: unknown[] = [];
    if (q.projectId !== null) { where.push('project_id = ?'); params.push(q.projectId); }
    if (q.name !== undefined) { where.push('name = ?'); params.push(q.name); }
    if (q.status !== undefined) { where.push('status = ?'); params.push(q.status); }
    const sql = `SELECT * FROM volumes${where.length ? ` WHERE ${where.join(' AND ')}` : ''} ORDER BY created_at, id`;
    return (this.db.prepare(sql).all(...params) as Row[]).map(volume);
  }

  async updateVolume(id: string, changes: VolumeChanges, expect?: readonly VolumeStatus[]): Promise<Volume | null> {
    return this.db.transaction(() => this.#updateVolume(id, changes, expect))();
  }

  #updateVolume(id: string, changes: VolumeChanges, expect?: readonly VolumeStatus[]): Volume | null {
    const { sets, params } = assignments(changes, VOLUME_FIELDS, 'volume');
    sets.push('updated_at = ?'); params.push(now());
    let sql = `UPDATE volumes SET ${sets.join(', ')} WHERE id = ?`; params.push(id);
    if (expect) { sql += ` AND status IN (${placeholders(expect.length)})`; params.push(...expect); }
    if (this.db.prepare(sql).run(...params).changes !== 1) return null;
    return volume(this.cached('SELECT * FROM volumes WHERE id = ?').get(id) as Row);
  }

  async deleteVolume(id: string): Promise<boolean> {
    return this.db.transaction(() => {
      this.db.prepare('DELETE FROM volume_attachments WHERE volume_id = ?').run(id);
      return this.db.prepare('DELETE FROM volumes WHERE id = ?').run(id).changes === 1;
    })();
  }

  async volumeUsage(projectId: string): Promise<VolumeUsage> {
    const v = this.cached('SELECT COUNT(*) AS n, COALESCE(SUM(size), 0) AS gb FROM volumes WHERE project_id = ?').get(projectId) as Row;
    const s = this.cached('SELECT COUNT(*) AS n, COALESCE(SUM(size), 0) AS gb FROM volume_snapshots WHERE project_id = ?').get(projectId) as Row;
    return { volumes: v.n as number, gigabytes: (v.gb as number) + (s.gb as number), snapshots: s.n as number };
  }

  async createSnapshot(s: VolumeSnapshot): Promise<void> {
    this.cached(`INSERT INTO volume_snapshots (id, project_id, user_id, volume_id, name, description, size, status, location,
      metadata, created_at, updated_at) VALUES (${placeholders(12)})`).run(s.id, s.projectId, s.userId, s.volumeId, s.name,
      s.description, s.size, s.status, s.location, JSON.stringify(s.metadata), s.createdAt, s.updatedAt);
  }

  async getSnapshot(id: string): Promise<VolumeSnapshot | null> {
    const r = this.cached('SELECT * FROM volume_snapshots WHERE id = ?').get(id) as Row | undefined;
    return r ? snapshot(r) : null;
  }

  async listSnapshots(projectId: string | null, volumeId?: string): Promise<VolumeSnapshot[]> {
    const where: string[] = []; const params: unknown[] = [];
    if (projectId !== null) { where.push('project_id = ?'); params.push(projectId); }
    if (volumeId !== undefined) { where.push('volume_id = ?'); params.push(volumeId); }
    const sql = `SELECT * FROM volume_snapshots${where.length ? ` WHERE ${where.join(' AND ')}` : ''} ORDER BY created_at, id`;
    return (this.db.prepare(sql).all(...params) as Row[]).map(snapshot);
  }

  async updateSnapshot(id: string, changes: SnapshotChanges, expect?: readonly SnapshotStatus[]): Promise<VolumeSnapshot | null> {
    const { sets, params } = assignments(changes, SNAPSHOT_FIELDS, 'snapshot');
    sets.push('updated_at = ?'); params.push(now());
    let sql = `UPDATE volume_snapshots SET ${sets.join(', ')} WHERE id = ?`; params.push(id);
    if (expect) { sql += ` AND status IN (${placeholders(expect.length)})`; params.push(...expect); }
    if (this.db.prepare(sql).run(...params).changes !== 1) return null;
    return this.getSnapshot(id);
  }

  async deleteSnapshot(id: string): Promise<boolean> {
    return this.db.prepare('DELETE FROM volume_snapshots WHERE id = ?').run(id).changes === 1;
  }

  async createVolumeType(t: VolumeType): Promise<void> {
    this.db.prepare('INSERT INTO volume_types (id, name, description, is_public, extra_specs, created_at) VALUES (?, ?, ?, ?, ?, ?)')
      .run(t.id, t.name, t.description, t.isPublic ? 1 : 0, JSON.stringify(t.extraSpecs), t.createdAt);
  }

  async getVolumeType(idOrName: string): Promise<VolumeType | null> {
    const r = this.cached('SELECT * FROM volume_types WHERE id = ? OR name = ? ORDER BY id = ? DESC LIMIT 1').get(idOrName, idOrName, idOrName) as Row | undefined;
    return r ? volumeType(r) : null;
  }

  async listVolumeTypes(): Promise<VolumeType[]> {
    return (this.db.prepare('SELECT * FROM volume_types ORDER BY created_at, name').all() as Row[]).map(volumeType);
  }

  async updateVolumeType(id: string, changes: Partial<Pick<VolumeType, 'name' | 'description' | 'isPublic' | 'extraSpecs'>>): Promise<VolumeType | null> {
    const { sets, params } = assignments(changes, TYPE_FIELDS, 'volume type');
    if (sets.length && this.db.prepare(`UPDATE volume_types SET ${sets.join(', ')} WHERE id = ?`).run(...params, id).changes !== 1) return null;
    const r = this.db.prepare('SELECT * FROM volume_types WHERE id = ?').get(id) as Row | undefined;
    return r ? volumeType(r) : null;
  }

  async deleteVolumeType(id: string): Promise<boolean> {
    return this.db.prepare('DELETE FROM volume_types WHERE id = ?').run(id).changes === 1;
  }

  async countVolumesOfType(typeId: string): Promise<number> {
    return (this.db.prepare('SELECT COUNT(*) AS n FROM volumes WHERE volume_type_id = ?').get(typeId) as Row).n as number;
  }

  async reserveVolume(a: VolumeAttachment, from: readonly VolumeStatus[]): Promise<boolean> {
    return this.db.transaction(() => {
      if (!this.#updateVolume(a.volumeId, { status: 'reserved' }, from)) return false;
      this.cached(`INSERT INTO volume_attachments (id, volume_id, server_id, project_id, status, device, host_name, tag,
        delete_on_termination, attach_mode, created_at, attached_at) VALUES (${placeholders(12)})`).run(a.id, a.volumeId,
        a.serverId, a.projectId, a.status, a.device, a.hostName, a.tag, a.deleteOnTermination ? 1 : 0, a.attachMode, a.createdAt, a.attachedAt);
      return true;
    })();
  }

  async getAttachment(id: string): Promise<VolumeAttachment | null> {
    const r = this.cached('SELECT * FROM volume_attachments WHERE id = ?').get(id) as Row | undefined;
    return r ? attachment(r) : null;
  }

  async listAttachments(q: { volumeId?: string; serverId?: string; projectId?: string | null }): Promise<VolumeAttachment[]> {
    const where: string[] = []; const params: unknown[] = [];
    if (q.volumeId !== undefined) { where.push('volume_id = ?'); params.push(q.volumeId); }
    if (q.serverId !== undefined) { where.push('server_id = ?'); params.push(q.serverId); }
    if (q.projectId) { where.push('project_id = ?'); params.push(q.projectId); }
    const sql = `SELECT * FROM volume_attachments${where.length ? ` WHERE ${where.join(' AND ')}` : ''} ORDER BY created_at, id`;
    return (this.db.prepare(sql).all(...params) as Row[]).map(attachment);
  }

  async updateAttachment(id: string, changes: AttachmentChanges, expect: readonly AttachmentStatus[], volumeStatus?: VolumeStatus): Promise<VolumeAttachment | null> {
    return this.db.transaction(() => {
      const { sets, params } = assignments(changes, ATTACHMENT_FIELDS, 'attachment');
      if (!sets.length) { sets.push('status = status'); }
      const r = this.db.prepare(`UPDATE volume_attachments SET ${sets.join(', ')} WHERE id = ? AND status IN (${placeholders(expect.length)})`)
        .run(...params, id, ...expect);
      if (r.changes !== 1) return null;
      const a = attachment(this.cached('SELECT * FROM volume_attachments WHERE id = ?').get(id) as Row);
      if (volumeStatus) this.#updateVolume(a.volumeId, { status: volumeStatus });
      return a;
    })();
  }

  async removeAttachment(id: string): Promise<boolean> {
    return this.db.transaction(() => {
      const r = this.cached('SELECT volume_id FROM volume_attachments WHERE id = ?').get(id) as Row | undefined;
      if (!r) return false;
      this.cached('DELETE FROM volume_attachments WHERE id = ?').run(id);
      const left = (this.cached('SELECT COUNT(*) AS n FROM volume_attachments WHERE volume_id = ?').get(r.volume_id) as Row).n as number;
      this.#updateVolume(r.volume_id as string, { status: left ? 'in-use' : 'available' }, ['reserved', 'attaching', 'in-use', 'detaching', 'error']);
      return true;
    })();
  }
}
