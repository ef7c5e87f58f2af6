/**
 * SQLite repository of migration records (migration 9). Plain SQL (no SQLite-only functions), so the PostgreSQL
 * store can share the statements.
 */
import { MigrationMarkerNotFound, type MigrationRepo } from '../repos/migrations.js';
import type { Migration, MigrationChanges, MigrationQuery, MigrationType, NewMigration } from '../types.js';
import { assignments, now, type FieldMap, type Row } from './columns.js';
import { SqliteRepository } from './repository.js';

const num = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v));
const str = (v: unknown): string | null => (v === null || v === undefined ? null : String(v));

export const migrationOf = (r: Row): Migration => ({
  id: Number(r.id), uuid: r.uuid as string, serverId: r.server_id as string,
  sourceCompute: str(r.source_compute), sourceNode: str(r.source_node), destCompute: str(r.dest_compute),
  destNode: str(r.dest_node), destHost: str(r.dest_host), oldFlavorId: str(r.old_flavor_id), newFlavorId: str(r.new_flavor_id),
  status: r.status as string, migrationType: r.migration_type as MigrationType, projectId: r.project_id as string,
  userId: r.user_id as string, createdAt: r.created_at as string, updatedAt: r.updated_at as string,
  memoryTotal: num(r.memory_total), memoryProcessed: num(r.memory_processed), memoryRemaining: num(r.memory_remaining),
  diskTotal: num(r.disk_total), diskProcessed: num(r.disk_processed), diskRemaining: num(r.disk_remaining),
});

const same = (v: unknown) => v;
export const MIGRATION_FIELDS: FieldMap = {
  sourceCompute: ['source_compute', same], sourceNode: ['source_node', same], destCompute: ['dest_compute', same],
  destNode: ['dest_node', same], destHost: ['dest_host', same], status: ['status', same],
  memoryTotal: ['memory_total', same], memoryProcessed: ['memory_processed', same], memoryRemaining: ['memory_remaining', same],
  diskTotal: ['disk_total', same], diskProcessed: ['disk_processed', same], diskRemaining: ['disk_remaining', same],
};

/** the UPDATE of updateMigration (both stores): only from `fromStatuses` when given; null when nothing can match */
export function migrationUpdate(uuid: string, changes: MigrationChanges, fromStatuses?: readonly string[]): { sql: string; params: unknown[] } | null {
  const { sets, params } = assignments(changes, MIGRATION_FIELDS, 'migration');
  sets.push('updated_at = ?'); params.push(now());
  let sql = `UPDATE migrations SET ${sets.join(', ')} WHERE uuid = ?`;
  params.push(uuid);
  if (fromStatuses) {
    if (fromStatuses.length === 0) return null;
    sql += ` AND status IN (${fromStatuses.map(() => '?').join(', ')})`;
    params.push(...fromStatuses);
  }
  return { sql, params };
}

/** the SELECT of listMigrations (both stores): newest first, after the marker's row; null when nothing can match */
export function migrationWhere(q: MigrationQuery, marker?: { createdAt: string; id: number }): { sql: string; params: unknown[] } | null {
  const where: string[] = [];
  const params: unknown[] = [];
  const eq = (col: string, v: unknown) => { if (v !== undefined) { where.push(`${col} = ?`); params.push(v); } };
  eq('server_id', q.serverId);
  eq('source_compute', q.sourceCompute);
  eq('migration_type', q.migrationType);
  eq('user_id', q.userId);
  eq('project_id', q.projectId);
  if (q.host !== undefined) { where.push('(source_compute = ? OR dest_compute = ?)'); params.push(q.host, q.host); }
  if (q.statuses) {
    if (q.statuses.length === 0) return null;
    where.push(`status IN (${q.statuses.map(() => '?').join(', ')})`); params.push(...q.statuses);
  }
  if (q.changesSince !== undefined) { where.push('updated_at >= ?'); params.push(q.changesSince); }
  if (q.changesBefore !== undefined) { where.push('updated_at <= ?'); params.push(q.changesBefore); }
  if (q.updatedBefore !== undefined) { where.push('updated_at < ?'); params.push(q.updatedBefore); }
  if (marker) {
    // newest first: the page continues with the rows ordered after the marker
    where.push('(created_at < ? OR (created_at = ? AND id < ?))'); params.push(marker.createdAt, marker.createdAt, marker.id);
  }
  let sql = `SELECT * FROM migrations${where.length ? ` WHERE ${where.join(' AND ')}` : ''} ORDER BY created_at DESC, id DESC`;
  if (q.limit !== undefined) { sql += ' LIMIT ?'; params.push(q.limit); }
  return { sql, params };
}

export class SqliteMigrations extends SqliteRepository implements MigrationRepo {
  async createMigration(m: NewMigration): Promise<Migration> {
    const t = now();
    this.cached(`INSERT INTO migrations (uuid, server_id, source_compute, source_node, dest_compute, dest_node, dest_host,
      old_flavor_id, new_flavor_id, status, migration_type, project_id, user_id, created_at, updated_at)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (uuid) DO NOTHING`)
      .run(m.uuid, m.serverId, m.sourceCompute, m.sourceNode, m.destCompute, m.destNode, m.destHost, m.oldFlavorId,
        m.newFlavorId, m.status, m.migrationType, m.projectId, m.userId, t, t);
    return (await this.getMigration(m.uuid))!;
  }

  async getMigration(uuid: string): Promise<Migration | null> {
    const r = this.cached('SELECT * FROM migrations WHERE uuid = ?').get(uuid) as Row | undefined;
    return r ? migrationOf(r) : null;
  }

  async getServerMigration(serverId: string, id: number): Promise<Migration | null> {
    const r = this.cached('SELECT * FROM migrations WHERE id = ? AND server_id = ?').get(id, serverId) as Row | undefined;
    return r ? migrationOf(r) : null;
  }

  async updateMigration(uuid: string, changes: MigrationChanges, fromStatuses?: readonly string[]): Promise<boolean> {
    const u = migrationUpdate(uuid, changes, fromStatuses);
    return u !== null && this.db.prepare(u.sql).run(...u.params).changes === 1;
  }

  async listMigrations(q: MigrationQuery): Promise<Migration[]> {
    let marker: { createdAt: string; id: number } | undefined;
    if (q.marker !== undefined) {
      const m = this.cached('SELECT created_at, id FROM migrations WHERE uuid = ?').get(q.marker) as Row | undefined;
      if (!m) throw new MigrationMarkerNotFound(q.marker);
      marker = { createdAt: m.created_at as string, id: Number(m.id) };
    }
    const w = migrationWhere(q, marker);
    return w ? (this.db.prepare(w.sql).all(...w.params) as Row[]).map(migrationOf) : [];
  }
}
