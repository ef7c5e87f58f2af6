/**
 * PostgreSQL repository of servers. The SQL of filters, sorting and keyset pages is the SQLite store's
 * (sqlite/server-query.ts, sqlite/server-rows.ts: plain SQL both databases run); the name and IP regex filters are
 * not SQL here: PostgreSQL's `~` is a different dialect (`\b` is a backspace there) run by a backtracking engine,
 * so the same RE2 matcher as SQLite's REGEXP (search-pattern.ts, linear time) runs over the candidate rows' names
 * and addresses, and only the matching page is read in full.
 */
import type { ServerRepo } from '../repos/servers.js';
import { serverStatus } from '../status.js';
import type { NewServer, Server, ServerChanges, ServerExpect, ServerQuery, ServerRevision } from '../types.js';
import { compileSearchPattern, type SearchPattern } from '../search-pattern.js';
import { serverClaimOf } from '../resources.js';
import { now } from '../sqlite/columns.js';
import { afterMarker, buildWhere, sortSpec } from '../sqlite/server-query.js';
import { ipText, rowToServer, setClause, VIEW_COLUMNS } from '../sqlite/server-rows.js';
import type { Queryable, Row } from './db.js';
import { claim, release } from './claims.js';
import { PgRepository } from './repository.js';

/** text in byte order (PostgreSQL's COLLATE "C", SQLite's BINARY): how the row's metadata keys and tags are kept */
const byBytes = (a: string, b: string): number => Buffer.compare(Buffer.from(a), Buffer.from(b));

/**
 * Inserts the server with its metadata, tags and (when placed) claim; inside the caller's transaction. The row's
 * metadata/tags JSON is written with the row (what syncChildren would compute), the child rows in one statement
 * each: a create is a few round trips, not one per key. Returns the row as stored.
 */
export async function insertServer(q: Queryable, s: NewServer): Promise<Row> {
  const keys = Object.keys(s.metadata).sort(byBytes);
  const tags = [...new Set(s.tags)].sort(byBytes);
  const metadata = JSON.stringify(Object.fromEntries(keys.map((k) => [k, s.metadata[k]!])));
  const row = (await q.query(`INSERT INTO servers (id, name, project_id, user_id, image_ref, flavor_id, flavor, old_flavor, vm_state,
      task_state, power_state, status, host, node, availability_zone, key_name, key_data, user_data, access_ipv4, access_ipv6,
      config_drive, disk_config, description, locked, locked_reason, locked_by, reservation_id, launch_index, hostname,
      kernel_id, ramdisk_id, root_device_name, progress, addresses, ips4, ips6, requested_networks, security_groups, bdm,
      fault, created_at, updated_at, launched_at, vcpus, memory_mb, metadata, tags, requested_zone)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
      RETURNING *`, [
    s.id, s.name, s.projectId, s.userId, s.imageRef, s.flavor.id, JSON.stringify(s.flavor),
    s.oldFlavor ? JSON.stringify(s.oldFlavor) : null, s.vmState, s.taskState, s.powerState, serverStatus(s.vmState, s.taskState),
    s.host, s.node, s.availabilityZone, s.keyName, s.keyData, s.userData, s.accessIPv4, s.accessIPv6, s.configDrive,
    s.diskConfig, s.description, s.locked ? 1 : 0, s.lockedReason, s.lockedBy, s.reservationId, s.launchIndex, s.hostname,
    s.kernelId, s.ramdiskId, s.rootDeviceName, s.progress, JSON.stringify(s.addresses), ipText(s.addresses, 4),
    ipText(s.addresses, 6), s.requestedNetworks === undefined ? null : JSON.stringify(s.requestedNetworks),
    JSON.stringify(s.securityGroups), JSON.stringify(s.blockDeviceMapping), s.fault ? JSON.stringify(s.fault) : null,
    s.createdAt, now(), s.launchedAt, s.flavor.vcpus, s.flavor.ram, metadata, JSON.stringify(tags), s.requestedZone ?? null])).rows[0]!;
  if (keys.length) {
    await q.query('INSERT INTO server_metadata (server_id, key, value) SELECT ?, k, v FROM unnest(?::text[], ?::text[]) AS u(k, v)',
      [s.id, keys, keys.map((k) => s.metadata[k]!)]);
  }
  if (tags.length) await q.query('INSERT INTO server_tags (server_id, tag) SELECT ?, t FROM unnest(?::text[]) AS u(t)', [s.id, tags]);
  // a server inserted already placed (imports, fixtures) holds its resources like a scheduled one
  if (s.host) await claim(q, s.id, s.host, serverClaimOf(s), null);
  return row;
}

/** the compare-and-swap of ServerRepo.updateServerIf: one conditional UPDATE; inside the caller's transaction */
export async function updateServerIf(q: Queryable, id: string, e: ServerExpect, changes: ServerChanges): Promise<boolean> {
  const set = setClause(changes, now());
  const w: string[] = ['id = ?', 'deleted = 0']; const p: unknown[] = [id];
  if (e.taskState !== undefined) {
    const ts = Array.isArray(e.taskState) ? e.taskState : [e.taskState as string | null];
    const nonNull = ts.filter((t): t is string => t !== null);
    const ors: string[] = [];
    if (ts.includes(null)) ors.push('task_state IS NULL');
    if (nonNull.length) { ors.push(`task_state IN (${nonNull.map(() => '?').join(',')})`); p.push(...nonNull); }
    w.push(ors.length ? `(${ors.join(' OR ')})` : 'FALSE');
  }
  if (e.taskStateNot?.length) {
    w.push(`(task_state IS NULL OR task_state NOT IN (${e.taskStateNot.map(() => '?').join(',')}))`);
    p.push(...e.taskStateNot);
  }
  if (e.vmState) { w.push(`vm_state IN (${e.vmState.map(() => '?').join(',')})`); p.push(...e.vmState); }
  if (e.locked !== undefined) { w.push('locked = ?'); p.push(e.locked ? 1 : 0); }
  const ok = (await q.query(`UPDATE servers SET ${set.sql} WHERE ${w.join(' AND ')}`, [...set.params, ...p])).rowCount === 1;
  if (ok && set.touchesState) await refreshStatus(q, id);
  return ok;
}

/** status is derived; recomputed inside the same transaction as the write that changed its inputs */
async function refreshStatus(q: Queryable, id: string): Promise<void> {
  const r = (await q.query('SELECT vm_state, task_state FROM servers WHERE id = ?', [id])).rows[0]!;
  await q.query('UPDATE servers SET status = ? WHERE id = ?', [serverStatus(r.vm_state as string, (r.task_state as string | null) ?? null), id]);
}

/** marks the server deleted (the row stays, Nova-style) and gives back its claim; inside the caller's transaction */
export async function markServerDeleted(q: Queryable, id: string, at: string): Promise<void> {
  await release(q, id);
  await q.query(`UPDATE servers SET deleted = 1, deleted_at = COALESCE(deleted_at, ?), terminated_at = ?, updated_at = ?,
    vm_state = 'deleted', task_state = NULL, status = 'DELETED', power_state = 0 WHERE id = ?`, [at, at, at, id]);
}

/** the regex filters of a query, as [column, pattern] */
const REGEX_FILTERS = [['name', 'nameRegex'], ['ips4', 'ipRegex'], ['ips6', 'ip6Regex']] as const;

const patterns = new Map<string, SearchPattern | null>();
function pattern(p: string): SearchPattern | null {
  let re = patterns.get(p);
  if (re === undefined) {
    re = compileSearchPattern(p);
    if (patterns.size > 1000) patterns.clear();
    patterns.set(p, re);
  }
  return re;
}

export class PgServers extends PgRepository implements ServerRepo {
  async createServer(s: NewServer): Promise<Server> {
    return rowToServer(await this.db.tx((q) => insertServer(q, s)));
  }

  async getServer(id: string, o: { includeDeleted?: boolean } = {}): Promise<Server | null> {
    const r = await this.one(`SELECT * FROM servers WHERE id = ?${o.includeDeleted ? '' : ' AND deleted = 0'}`, [id]);
    return r ? rowToServer(r) : null;
  }

  async listServers(q: ServerQuery): Promise<Server[]> {
    return (await this.#select(q.viewFieldsOnly ? VIEW_COLUMNS : '*', q, true)).map(rowToServer);
  }

  async listServerRevisions(q: ServerQuery): Promise<ServerRevision[]> {
    return (await this.#select('id, revision', q, true)).map((r) => ({ id: r.id as string, revision: r.revision as number }));
  }

  async countServers(q: ServerQuery): Promise<number> {
    const { where, params, regexes } = this.#where(q);
    if (!regexes.length) return (await this.one(`SELECT COUNT(*) AS n FROM servers WHERE ${where}`, params))!.n as number;
    return (await this.#matching(regexes, where, params, '')).length;
  }

  /** the SQL part of `q`'s filters, and its regex filters */
  #where(q: ServerQuery): { where: string; params: unknown[]; regexes: Array<[string, string]> } {
    const { nameRegex, ipRegex, ip6Regex, ids, ...rest } = q;
    void nameRegex; void ipRegex; void ip6Regex;
    const built = buildWhere(rest);
    let where = built.where; const params = [...built.params];
    if (ids !== undefined) { where += ' AND id = ANY(?)'; params.push(ids); }
    const regexes = REGEX_FILTERS.filter(([, k]) => q[k] !== undefined).map(([col, k]): [string, string] => [col, q[k]!]);
    return { where, params, regexes };
  }

  /** ids of the rows the SQL selects, in `order`, whose columns match every regex (an invalid pattern matches nothing) */
  async #matching(regexes: Array<[string, string]>, where: string, params: unknown[], order: string): Promise<string[]> {
    const res = regexes.map(([col, p]) => [col, pattern(p)] as const);
    if (res.some(([, re]) => re === null)) return [];
    const cols = [...new Set(['id', ...regexes.map(([col]) => col)])].join(', ');
    const rows = await this.all(`SELECT ${cols} FROM servers WHERE ${where}${order}`, params);
    return rows.filter((r) => res.every(([col, re]) => typeof r[col] === 'string' && re!.test(r[col] as string))).map((r) => r.id as string);
  }

  /** `columns` of the servers `q` selects, in its order and page */
  async #select(columns: string, q: ServerQuery, page: boolean): Promise<Row[]> {
    const { where, params, regexes } = this.#where(q);
    const spec = sortSpec(q);
    let w = where; const p = [...params];
    if (page && q.marker !== undefined) {
      const m = afterMarker(spec, q.marker);
      w = `${w} AND ${m.where}`; p.push(...m.params);
    }
    const order = ` ORDER BY ${spec.map((s) => `${s.col} ${s.dir}`).join(', ')}`;
    if (!regexes.length) {
      let sql = `SELECT ${columns} FROM servers WHERE ${w}${order}`;
      if (page && q.limit !== undefined) { sql += ' LIMIT ?'; p.push(q.limit); }
      return this.all(sql, p);
    }
    let ids = await this.#matching(regexes, w, p, order);
    if (page && q.limit !== undefined) ids = ids.slice(0, q.limit);
    if (!ids.length) return [];
    const rank = new Map(ids.map((id, i) => [id, i]));
    const rows = await this.all(`SELECT ${columns} FROM servers WHERE id = ANY(?)`, [ids]);
    return rows.sort((a, b) => rank.get(a.id as string)! - rank.get(b.id as string)!);
  }

  async updateServer(id: string, changes: ServerChanges): Promise<boolean> {
    return this.db.tx(async (q) => {
      const set = setClause(changes, now());
      const ok = (await q.query(`UPDATE servers SET ${set.sql} WHERE id = ?`, [...set.params, id])).rowCount === 1;
      if (ok && set.touchesState) await refreshStatus(q, id);
      return ok;
    });
  }

  async updateServerIf(id: string, e: ServerExpect, changes: ServerChanges): Promise<boolean> {
    return this.db.tx((q) => updateServerIf(q, id, e, changes));
  }

  async markServerDeleted(id: string, at: string): Promise<void> { await this.db.tx((q) => markServerDeleted(q, id, at)); }

  async listReclaimable(before: string): Promise<Server[]> {
    return (await this.all("SELECT * FROM servers WHERE deleted = 0 AND vm_state = 'soft-delete' AND deleted_at < ?", [before])).map(rowToServer);
  }
}
