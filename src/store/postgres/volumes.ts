/** PostgreSQL repository of block storage: volumes, snapshots, volume types, attachments (migration 11). */
import type {
  AttachmentChanges, AttachmentStatus, SnapshotChanges, SnapshotStatus, Volume, VolumeAttachment, VolumeChanges,
  VolumeListQuery, VolumeRepo, VolumeSnapshot, VolumeStatus, VolumeType, VolumeUsage,
} from '../repos/volumes.js';
import { assignments, now } from '../sqlite/columns.js';
import type { Queryable } from './db.js';
import { PgRepository } from './repository.js';
import { ATTACHMENT_FIELDS, SNAPSHOT_FIELDS, TYPE_FIELDS, VOLUME_FIELDS, attachment, snapshot, volume, volumeType } from '../sqlite/volumes.js';

const marks = (n: number) => Array.from({ length: n }, () => '?').join(', ');
const ORDER = 'ORDER BY created_at COLLATE "C", id COLLATE "C"';

/** the volume CAS, on the caller's transaction (or the pool) */
async function updateVolumeOn(q: Queryable, id: string, changes: VolumeChanges, expect?: readonly VolumeStatus[]): Promise<Volume | null> {
  const { sets, params } = assignments(changes, VOLUME_FIELDS, 'volume');
  sets.push('updated_at = ?'); params.push(now());
  let sql = `UPDATE volumes SET ${sets.join(', ')} WHERE id = ?`; params.push(id);
  if (expect) { sql += ` AND status IN (${marks(expect.length)})`; params.push(...expect); }
  const r = await q.query(`${sql} RETURNING *`, params);
  return r.rowCount === 1 ? volume(r.rows[0]!) : null;
}

function where(conds: Array<[string, unknown]>): { sql: string; params: unknown[] } {
  return { sql: conds.length ? ` WHERE ${conds.map(([c]) => `${c} = ?`).join(' AND ')}` : '', params: conds.map(([, v]) => v) };
}

export class PgVolumes extends PgRepository implements VolumeRepo {
  async createVolume(v: Volume): Promise<void> {
    await this.run(`INSERT INTO volumes (id, project_id, user_id, name, description, size, status, volume_type_id, availability_zone,
      bootable, source_volid, snapshot_id, image_id, backend, location, format, metadata, created_at, updated_at) VALUES (${marks(19)})`,
    [v.id, v.projectId, v.userId, v.name, v.description, v.size, v.status, v.volumeTypeId, v.availabilityZone, v.bootable ? 1 : 0,
      v.sourceVolid, v.snapshotId, v.imageId, v.backend, v.location, v.format, JSON.stringify(v.metadata), v.createdAt, v.updatedAt]);
  }

  async getVolume(id: string): Promise<Volume | null> {
    const r = await this.one('SELECT * FROM volumes WHERE id = ?', [id]);
    return r ? volume(r) : null;
  }

  async listVolumes(q: VolumeListQuery): Promise<Volume[]> {
    const conds: Array<[string, unknown]> = [];
    if (q.projectId !== null) conds.push(['project_id', q.projectId]);
    if (q.name !== undefined) conds.push(['name', q.name]);
    if (q.status !== undefined) conds.push(['status', q.status]);
    const w = where(conds);
    return (await this.all(`SELECT * FROM volumes${w.sql} ${ORDER}`, w.params)).map(volume);
  }

  async updateVolume(id: string, changes: VolumeChanges, expect?: readonly VolumeStatus[]): Promise<Volume | null> {
    return updateVolumeOn(this.q, id, changes, expect);
  }

  async deleteVolume(id: string): Promise<boolean> {
    return this.db.tx(async (q) => {
      await q.query('DELETE FROM volume_attachments WHERE volume_id = ?', [id]);
      return (await q.query('DELETE FROM volumes WHERE id = ?', [id])).rowCount === 1;
    });
  }

  async volumeUsage(projectId: string): Promise<VolumeUsage> {
    const v = (await this.one('SELECT COUNT(*) AS n, COALESCE(SUM(size), 0) AS gb FROM volumes WHERE project_id = ?', [projectId]))!;
    const s = (await this.one('SELECT COUNT(*) AS n, COALESCE(SUM(size), 0) AS gb FROM volume_snapshots WHERE project_id = ?', [projectId]))!;
    return { volumes: Number(v.n), gigabytes: Number(v.gb) + Number(s.gb), snapshots: Number(s.n) };
  }

  async createSnapshot(s: VolumeSnapshot): Promise<void> {
    await this.run(`INSERT INTO volume_snapshots (id, project_id, user_id, volume_id, name, description, size, status, location,
      metadata, created_at, updated_at) VALUES (${marks(12)})`, [s.id, s.projectId, s.userId, s.volumeId, s.name, s.description,
      s.size, s.status, s.location, JSON.stringify(s.metadata), s.createdAt, s.updatedAt]);
  }

  async getSnapshot(id: string): Promise<VolumeSnapshot | null> {
    const r = await this.one('SELECT * FROM volume_snapshots WHERE id = ?', [id]);
    return r ? snapshot(r) : null;
  }

  async listSnapshots(projectId: string | null, volumeId?: string): Promise<VolumeSnapshot[]> {
    const conds: Array<[string, unknown]> = [];
    if (projectId !== null) conds.push(['project_id', projectId]);
    if (volumeId !== undefined) conds.push(['volume_id', volumeId]);
    const w = where(conds);
    return (await this.all(`SELECT * FROM volume_snapshots${w.sql} ${ORDER}`, w.params)).map(snapshot);
  }

  async updateSnapshot(id: string, changes: SnapshotChanges, expect?: readonly SnapshotStatus[]): Promise<VolumeSnapshot | null> {
    const { sets, params } = assignments(changes, SNAPSHOT_FIELDS, 'snapshot');
    sets.push('updated_at = ?'); params.push(now());
    let sql = `UPDATE volume_snapshots SET ${sets.join(', ')} WHERE id = ?`; params.push(id);
    if (expect) { sql += ` AND status IN (${marks(expect.length)})`; params.push(...expect); }
    const r = await this.q.query(`${sql} RETURNING *`, params);
    return r.rowCount === 1 ? snapshot(r.rows[0]!) : null;
  }

  async deleteSnapshot(id: string): Promise<boolean> {
    return (await this.run('DELETE FROM volume_snapshots WHERE id = ?', [id])) === 1;
  }

  async createVolumeType(t: VolumeType): Promise<void> {
    await this.run('INSERT INTO volume_types (id, name, description, is_public, extra_specs, created_at) VALUES (?, ?, ?, ?, ?, ?)',
      [t.id, t.name, t.description, t.isPublic ? 1 : 0, JSON.stringify(t.extraSpecs), t.createdAt]);
  }

  async getVolumeType(idOrName: string): Promise<VolumeType | null> {
    const r = await this.one('SELECT * FROM volume_types WHERE id = ? OR name = ? ORDER BY (id = ?) DESC LIMIT 1', [idOrName, idOrName, idOrName]);
    return r ? volumeType(r) : null;
  }

  async listVolumeTypes(): Promise<VolumeType[]> {
    return (await this.all('SELECT * FROM volume_types ORDER BY created_at COLLATE "C", name COLLATE "C"')).map(volumeType);
  }

  async updateVolumeType(id: string, changes: Partial<Pick<VolumeType, 'name' | 'description' | 'isPublic' | 'extraSpecs'>>): Promise<VolumeType | null> {
    const { sets, params } = assignments(changes, TYPE_FIELDS, 'volume type');
    if (sets.length && (await this.run(`UPDATE volume_types SET ${sets.join(', ')} WHERE id = ?`, [...params, id])) !== 1) return null;
    const r = await this.one('SELECT * FROM volume_types WHERE id = ?', [id]);
    return r ? volumeType(r) : null;
  }

  async deleteVolumeType(id: string): Promise<boolean> {
    return (await this.run('DELETE FROM volume_types WHERE id = ?', [id])) === 1;
  }

  async countVolumesOfType(typeId: string): Promise<number> {
    return Number((await this.one('SELECT COUNT(*) AS n FROM volumes WHERE volume_type_id = ?', [typeId]))!.n);
  }

  async reserveVolume(a: VolumeAttachment, from: readonly VolumeStatus[]): Promise<boolean> {
    return this.db.tx(async (q) => {
      if (!(await updateVolumeOn(q, a.volumeId, { status: 'reserved' }, from))) return false;
      await q.query(`INSERT INTO volume_attachments (id, volume_id, server_id, project_id, status, device, host_name, tag,
        delete_on_termination, attach_mode, created_at, attached_at) VALUES (${marks(12)})`, [a.id, a.volumeId, a.serverId,
        a.projectId, a.status, a.device, a.hostName, a.tag, a.deleteOnTermination ? 1 : 0, a.attachMode, a.createdAt, a.attachedAt]);
      return true;
    });
  }

  async getAttachment(id: string): Promise<VolumeAttachment | null> {
    const r = await this.one('SELECT * FROM volume_attachments WHERE id = ?', [id]);
    return r ? attachment(r) : null;
  }

  async listAttachments(q: { volumeId?: string; serverId?: string; projectId?: string | null }): Promise<VolumeAttachment[]> {
    const conds: Array<[string, unknown]> = [];
    if (q.volumeId !== undefined) conds.push(['volume_id', q.volumeId]);
    if (q.serverId !== undefined) conds.push(['server_id', q.serverId]);
    if (q.projectId) conds.push(['project_id', q.projectId]);
    const w = where(conds);
    return (await this.all(`SELECT * FROM volume_attachments${w.sql} ${ORDER}`, w.params)).map(attachment);
  }

  async updateAttachment(id: string, changes: AttachmentChanges, expect: readonly AttachmentStatus[], volumeStatus?: VolumeStatus): Promise<VolumeAttachment | null> {
    return this.db.tx(async (q) => {
      const { sets, params } = assignments(changes, ATTACHMENT_FIELDS, 'attachment');
      if (!sets.length) sets.push('status = status');
      const r = await q.query(`UPDATE volume_attachments SET ${sets.join(', ')} WHERE id = ? AND status IN (${marks(expect.length)}) RETURNING *`,
        [...params, id, ...expect]);
      if (r.rowCount !== 1) return null;
      const a = attachment(r.rows[0]!);
      if (volumeStatus) await updateVolumeOn(q, a.volumeId, { status: volumeStatus });
      return a;
    });
  }

  async removeAttachment(id: string): Promise<boolean> {
    return this.db.tx(async (q) => {
      const r = (await q.query('DELETE FROM volume_attachments WHERE id = ? RETURNING volume_id', [id])).rows[0];
      if (!r) return false;
      const left = Number((await q.query('SELECT COUNT(*) AS n FROM volume_attachments WHERE volume_id = ?', [r.volume_id])).rows[0]!.n);
      await updateVolumeOn(q, r.volume_id as string, { status: left ? 'in-use' : 'available' }, ['reserved', 'attaching', 'in-use', 'detaching', 'error']);
      return true;
    });
  }
}
