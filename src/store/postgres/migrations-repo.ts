/** PostgreSQL repository of migration records (migration 9): the SQLite repository's statements, on the pool. */
import { MigrationMarkerNotFound, type MigrationRepo } from '../repos/migrations.js';
import type { Migration, MigrationChanges, MigrationQuery, NewMigration } from '../types.js';
import { now } from '../sqlite/columns.js';
import { migrationOf, migrationUpdate, migrationWhere } from '../sqlite/migrations-repo.js';
import { PgRepository } from './repository.js';

export class PgMigrations extends PgRepository implements MigrationRepo {
  async createMigration(m: NewMigration): Promise<Migration> {
    const t = now();
    await this.run(`INSERT INTO migrations (uuid, server_id, source_compute, source_node, dest_compute, dest_node, dest_host,
      old_flavor_id, new_flavor_id, status, migration_type, project_id, user_id, created_at, updated_at)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (uuid) DO NOTHING`,
    [m.uuid, m.serverId, m.sourceCompute, m.sourceNode, m.destCompute, m.destNode, m.destHost, m.oldFlavorId,
      m.newFlavorId, m.status, m.migrationType, m.projectId, m.userId, t, t]);
    return (await this.getMigration(m.uuid))!;
  }

  async getMigration(uuid: string): Promise<Migration | null> {
    const r = await this.one('SELECT * FROM migrations WHERE uuid = ?', [uuid]);
    return r ? migrationOf(r) : null;
  }

  async getServerMigration(serverId: string, id: number): Promise<Migration | null> {
    const r = await this.one('SELECT * FROM migrations WHERE id = ? AND server_id = ?', [id, serverId]);
    return r ? migrationOf(r) : null;
  }

  async updateMigration(uuid: string, changes: MigrationChanges, fromStatuses?: readonly string[]): Promise<boolean> {
    const u = migrationUpdate(uuid, changes, fromStatuses);
    return u !== null && (await this.run(u.sql, u.params)) === 1;
  }


  async listMigrations(q: MigrationQuery): Promise<Migration[]> {
    let marker: { createdAt: string; id: number } | undefined;
    if (q.marker !== undefined) {
      const m = await this.one('SELECT created_at, id FROM migrations WHERE uuid = ?', [q.marker]);
      if (!m) throw new MigrationMarkerNotFound(q.marker);
      marker = { createdAt: m.created_at as string, id: Number(m.id) };
    }
    const w = migrationWhere(q, marker);
    if (!w) return [];
    return (await this.all(w.sql, w.params)).map(migrationOf);
  }
}
