/**
 * SQLite repository of servers. The list path is hot: its statements come from the statement cache (a listing's
 * SQL depends only on which filters, sort and page size it uses, so few texts recur).
 */
import type { Statement } from '../../sqlite/index.js';
import type { ServerRepo } from '../repos/servers.js';
import { serverStatus } from '../status.js';
import type { NewServer, Server, ServerChanges, ServerExpect, ServerQuery, ServerRevision } from '../types.js';
import { now, type Row } from './columns.js';
import { SqliteRepository, type Connection } from './repository.js';
import { claim, release } from './claims.js';
import { serverClaimOf } from '../resources.js';
import { syncChildren } from './server-children.js';
import { afterMarker, buildWhere, sortSpec } from './server-query.js';
import { ipText, rowReader, rowToServer, setClause, VIEW_COLUMNS } from './server-rows.js';

/**
 * Server writes that other repositories run inside their own transactions (tasks.ts: a task's start and end are
 * one transaction with the server's row), synchronously.
 */
export function insertServer(c: Connection, s: NewServer): void {
  const { db, cached } = c;
  const t = now();
  db.transaction(() => {
    cached(`INSERT INTO servers (id, name, project_id, user_id, image_ref, flavor_id, flavor, old_flavor, vm_state,
        task_state, power_state, status, host, node, availability_zone, key_name, key_data, user_data, access_ipv4, access_ipv6,
        config_drive, disk_config, description, locked, locked_reason, locked_by, reservation_id, launch_index, hostname,
        kernel_id, ramdisk_id, root_device_name, progress, addresses, ips4, ips6, requested_networks, security_groups, bdm,
        fault, created_at, updated_at, launched_at, vcpus, memory_mb, requested_zone)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`).run(
        s.id, s.name, s.projectId, s.userId, s.imageRef, s.flavor.id, JSON.stringify(s.flavor),
        s.oldFlavor ? JSON.stringify(s.oldFlavor) : null, s.vmState, s.taskState, s.powerState, serverStatus(s.vmState, s.taskState),
        s.host, s.node, s.availabilityZone, s.keyName, s.keyData, s.userData, s.accessIPv4, s.accessIPv6, s.configDrive,
        s.diskConfig, s.description, s.locked ? 1 : 0, s.lockedReason, s.lockedBy, s.reservationId, s.launchIndex, s.hostname,
        s.kernelId, s.ramdiskId, s.rootDeviceName, s.progress, JSON.stringify(s.addresses), ipText(s.addresses, 4),
        ipText(s.addresses, 6), s.requestedNetworks === undefined ? null : JSON.stringify(s.requestedNetworks),
        JSON.stringify(s.securityGroups), JSON.stringify(s.blockDeviceMapping), s.fault ? JSON.stringify(s.fault) : null,
        s.createdAt, t, s.launchedAt, s.flavor.vcpus, s.flavor.ram, s.requestedZone ?? null);
      const md = cached('INSERT INTO server_metadata (server_id, key, value) VALUES (?, ?, ?)');
      for (const [k, v] of Object.entries(s.metadata)) md.run(s.id, k, v);
      const tg = cached('INSERT OR IGNORE INTO server_tags (server_id, tag) VALUES (?, ?)');
      for (const tag of s.tags) tg.run(s.id, tag);
    syncChildren(cached, s.id);
    // a server inserted already placed (imports, fixtures) holds its resources like a scheduled one
    if (s.host) claim(c, s.id, s.host, serverClaimOf(s), null);
  })();
}

export function updateServerIf(c: Connection, id: string, e: ServerExpect, changes: ServerChanges): boolean {
  const { db, cached } = c;
  return db.transaction(() => {
    const set = setClause(changes, now());
    const w: string[] = ['id = ?', 'deleted = 0']; const p: unknown[] = [id];
    if (e.taskState !== undefined) {
      const ts = Array.isArray(e.taskState) ? e.taskState : [e.taskState as string | null];
      const nonNull = ts.filter((t): t is string => t !== null);
      const ors: string[] = [];
      if (ts.includes(null)) ors.push('task_state IS NULL');
      if (nonNull.length) { ors.push(`task_state IN (${nonNull.map(() => '?').join(',')})`); p.push(...nonNull); }
      w.push(ors.length ? `(${ors.join(' OR ')})` : '0');
    }
    if (e.taskStateNot?.length) {
      w.push(`(task_state IS NULL OR task_state NOT IN (${e.taskStateNot.map(() => '?').join(',')}))`);
      p.push(...e.taskStateNot);
    }
    if (e.vmState) { w.push(`vm_state IN (${e.vmState.map(() => '?').join(',')})`); p.push(...e.vmState); }
    if (e.locked !== undefined) { w.push('locked = ?'); p.push(e.locked ? 1 : 0); }
    const ok = cached(`UPDATE servers SET ${set.sql} WHERE ${w.join(' AND ')}`).run(...set.params, ...p).changes === 1;
    if (ok && set.touchesState) refreshStatus(c, id);
    return ok;
  })();
}

/** status is derived; recomputed inside the same transaction as the write that changed its inputs */
function refreshStatus(c: Connection, id: string): void {
  const r = c.cached('SELECT vm_state, task_state FROM servers WHERE id = ?').get(id) as Row;
  c.cached('UPDATE servers SET status = ? WHERE id = ?').run(serverStatus(r.vm_state as string, (r.task_state as string | null) ?? null), id);
}

/** marks the server deleted (the row stays, Nova-style) and gives back its claim */
export function markServerDeleted(c: Connection, id: string, at: string): void {
  c.db.transaction(() => {
    release(c, id);
    c.cached(`UPDATE servers SET deleted = 1, deleted_at = COALESCE(deleted_at, ?), terminated_at = ?, updated_at = ?,
      vm_state = 'deleted', task_state = NULL, status = 'DELETED', power_state = 0 WHERE id = ?`).run(at, at, at, id);
  })();
}

export class SqliteServers extends SqliteRepository implements ServerRepo {
  async createServer(s: NewServer): Promise<Server> {
    insertServer(this.conn, s);
    return (await this.getServer(s.id))!;
  }

  async getServer(id: string, o: { includeDeleted?: boolean } = {}): Promise<Server | null> {
    const r = this.cached(`SELECT * FROM servers WHERE id = ?${o.includeDeleted ? '' : ' AND deleted = 0'}`).get(id) as Row | undefined;
    return r ? rowToServer(r) : null;
  }

  async listServers(q: ServerQuery): Promise<Server[]> {
    const { stmt, params } = this.#selectServers(q.viewFieldsOnly ? VIEW_COLUMNS : '*', q);
    const read = rowReader(stmt.columns().map((c) => c.name));
    return (stmt.raw(true).all(...params) as unknown[][]).map((a) => rowToServer(read(a)));
  }

  async listServerRevisions(q: ServerQuery): Promise<ServerRevision[]> {
    const { stmt, params } = this.#selectServers('id, revision', q);
    return (stmt.raw(true).all(...params) as Array<[string, number]>).map(([id, revision]) => ({ id, revision }));
  }

  /** the statement for `columns` of the servers `q` selects, in its order and page */
  #selectServers(columns: string, q: ServerQuery): { stmt: Statement; params: unknown[] } {
    const { where, params } = buildWhere(q);
    const spec = sortSpec(q);
    let w = where; const p = [...params];
    if (q.marker !== undefined) {
      const m = afterMarker(spec, q.marker);
      w = `${w} AND ${m.where}`; p.push(...m.params);
    }
    let sql = `SELECT ${columns} FROM servers WHERE ${w} ORDER BY ${spec.map((s) => `${s.col} ${s.dir}`).join(', ')}`;
    if (q.limit !== undefined) { sql += ' LIMIT ?'; p.push(q.limit); }
    return { stmt: this.cached(sql), params: p };
  }

  async countServers(q: ServerQuery): Promise<number> {
    const { where, params } = buildWhere(q);
    return (this.db.prepare(`SELECT COUNT(*) AS n FROM servers WHERE ${where}`).get(...params) as Row).n as number;
  }

  async updateServer(id: string, changes: ServerChanges): Promise<boolean> {
    return this.db.transaction(() => {
      const set = setClause(changes, now());
      const ok = this.db.prepare(`UPDATE servers SET ${set.sql} WHERE id = ?`).run(...set.params, id).changes === 1;
      if (ok && set.touchesState) refreshStatus(this.conn, id);
      return ok;
    })();
  }

  async updateServerIf(id: string, e: ServerExpect, changes: ServerChanges): Promise<boolean> { return updateServerIf(this.conn, id, e, changes); }

  async markServerDeleted(id: string, at: string): Promise<void> { markServerDeleted(this.conn, id, at); }

  async listReclaimable(before: string): Promise<Server[]> {
    return (this.db.prepare("SELECT * FROM servers WHERE deleted = 0 AND vm_state = 'soft-delete' AND deleted_at < ?").all(before) as Row[]).map(rowToServer);
  }
}
