/**
 * The SQLite implementation of Store (better-sqlite3). Calls are synchronous underneath and wrapped in async
 * methods; multi-statement writes run in a transaction, so each method is atomic.
 */
import type { Store } from '../store.js';
import type {
  Domain, FixedIp, Flavor, Host, HostUsage, Image, InstanceAction, InstanceActionEvent, Keypair, NewServer, Project, QuotaLimits, QuotaUsage,
  Role, Server, ServerChanges, ServerExpect, ServerQuery, ServerRevision, User, BeginTask, FinishTask, TaskRow, Resources,
} from '../types.js';
import { serverStatus } from '../status.js';
import { claimOf } from '../resources.js';
import type Database from 'better-sqlite3';
import { openDatabase, type Db } from './open.js';
import { METADATA_JSON, TAGS_JSON } from './migrations.js';
import { rowReader, rowToServer, setClause, ipText, VIEW_COLUMNS, type Row } from './server-rows.js';
import { afterMarker, buildWhere, sortSpec } from './server-query.js';
import { SqliteClaims } from './claims.js';
import { SqliteTasks } from './tasks.js';

const b = (v: unknown) => v === 1;
const now = () => new Date().toISOString();


export class SqliteStore implements Store {
  readonly db: Db;
  private readonly claims: SqliteClaims;
  private readonly tasks: SqliteTasks;

  constructor(path: string) {
    this.db = openDatabase(path);
    this.claims = new SqliteClaims(this.db);
    this.tasks = new SqliteTasks(this.db, {
      insert: (s) => this.insertServer(s),
      updateIf: (id, e, c) => this.updateIfSync(id, e, c),
      markDeleted: (id, at) => this.markDeletedSync(id, at),
      releaseFixedIps: (id) => { this.db.prepare('DELETE FROM fixed_ips WHERE server_id = ?').run(id); },
    }, this.claims);
  }

  async close(): Promise<void> { this.db.close(); }

  // ---- settings
  async getSetting(key: string): Promise<string | null> {
    const r = this.db.prepare('SELECT value FROM settings WHERE key = ?').get(key) as Row | undefined;
    return r ? (r.value as string) : null;
  }
  async setSettingIfAbsent(key: string, value: string): Promise<string> {
    this.db.prepare('INSERT OR IGNORE INTO settings (key, value) VALUES (?, ?)').run(key, value);
    return (await this.getSetting(key))!;
  }

  // ---- identity
  async createDomain(d: Domain): Promise<void> {
    this.db.prepare('INSERT INTO domains (id, name, enabled) VALUES (?, ?, ?)').run(d.id, d.name, d.enabled ? 1 : 0);
  }
  async getDomain(id: string): Promise<Domain | null> { return domain(this.db.prepare('SELECT * FROM domains WHERE id = ?').get(id)); }
  async getDomainByName(name: string): Promise<Domain | null> { return domain(this.db.prepare('SELECT * FROM domains WHERE name = ?').get(name)); }
  async createProject(p: Project): Promise<void> {
    this.db.prepare('INSERT INTO projects (id, name, domain_id, enabled, description) VALUES (?, ?, ?, ?, ?)')
      .run(p.id, p.name, p.domainId, p.enabled ? 1 : 0, p.description);
  }
  async getProject(id: string): Promise<Project | null> { return project(this.db.prepare('SELECT * FROM projects WHERE id = ?').get(id)); }
  async getProjectByName(domainId: string, name: string): Promise<Project | null> {
    return project(this.db.prepare('SELECT * FROM projects WHERE domain_id = ? AND name = ?').get(domainId, name));
  }
  async listProjects(): Promise<Project[]> { return (this.db.prepare('SELECT * FROM projects ORDER BY name').all()).map((r) => project(r)!); }
  async createUser(u: User): Promise<void> {
    this.db.prepare(`INSERT INTO users (id, name, domain_id, password_hash, enabled, default_project_id, tokens_valid_after)
      VALUES (?, ?, ?, ?, ?, ?, ?)`).run(u.id, u.name, u.domainId, u.passwordHash, u.enabled ? 1 : 0, u.defaultProjectId, u.tokensValidAfter);
  }
  async getUser(id: string): Promise<User | null> { return user(this.db.prepare('SELECT * FROM users WHERE id = ?').get(id)); }
  async getUserByName(domainId: string, name: string): Promise<User | null> {
    return user(this.db.prepare('SELECT * FROM users WHERE domain_id = ? AND name = ?').get(domainId, name));
  }
  async updateUser(id: string, c: Partial<Omit<User, 'id'>>): Promise<void> {
    const map: Record<string, [string, (v: never) => unknown]> = {
      name: ['name', (v: string) => v], domainId: ['domain_id', (v: string) => v],
      passwordHash: ['password_hash', (v: string) => v], enabled: ['enabled', (v: boolean) => (v ? 1 : 0)],
      defaultProjectId: ['default_project_id', (v: string | null) => v],
      tokensValidAfter: ['tokens_valid_after', (v: string) => v],
    };
    const sets: string[] = []; const params: unknown[] = [];
    for (const [k, v] of Object.entries(c)) {
      if (v === undefined) continue;
      const m = map[k]; if (!m) throw new Error(`unknown user field ${k}`);
      sets.push(`${m[0]} = ?`); params.push(m[1](v as never));
    }
    if (sets.length) this.db.prepare(`UPDATE users SET ${sets.join(', ')} WHERE id = ?`).run(...params, id);
  }
  async listUsers(): Promise<User[]> { return this.db.prepare('SELECT * FROM users ORDER BY name').all().map((r) => user(r)!); }
  async createRole(r: Role): Promise<void> { this.db.prepare('INSERT INTO roles (id, name) VALUES (?, ?)').run(r.id, r.name); }
  async getRoleByName(name: string): Promise<Role | null> {
    const r = this.db.prepare('SELECT * FROM roles WHERE name = ?').get(name) as Role | undefined;
    return r ?? null;
  }
  async listRoles(): Promise<Role[]> { return this.db.prepare('SELECT id, name FROM roles ORDER BY name').all() as Role[]; }
  async assignRole(userId: string, projectId: string, roleId: string): Promise<void> {
    this.db.prepare('INSERT OR IGNORE INTO role_assignments (user_id, project_id, role_id) VALUES (?, ?, ?)').run(userId, projectId, roleId);
  }
  async unassignRole(userId: string, projectId: string, roleId: string): Promise<void> {
    this.db.prepare('DELETE FROM role_assignments WHERE user_id = ? AND project_id = ? AND role_id = ?').run(userId, projectId, roleId);
  }
  async listUserProjectRoles(userId: string, projectId: string): Promise<Role[]> {
    return this.db.prepare(`SELECT r.id, r.name FROM role_assignments a JOIN roles r ON r.id = a.role_id
      WHERE a.user_id = ? AND a.project_id = ? ORDER BY r.name`).all(userId, projectId) as Role[];
  }
  async revokeToken(tokenId: string, expiresAt: string): Promise<void> {
    this.db.prepare('INSERT OR IGNORE INTO revoked_tokens (token_id, expires_at) VALUES (?, ?)').run(tokenId, expiresAt);
  }
  async isTokenRevoked(tokenId: string): Promise<boolean> {
    return this.db.prepare('SELECT 1 FROM revoked_tokens WHERE token_id = ?').get(tokenId) !== undefined;
  }
  async purgeExpiredRevocations(at: string): Promise<number> {
    return this.db.prepare('DELETE FROM revoked_tokens WHERE expires_at < ?').run(at).changes;
  }

  // ---- flavors
  async createFlavor(f: Flavor): Promise<void> {
    this.db.transaction(() => {
      this.db.prepare(`INSERT INTO flavors (id, name, vcpus, ram, disk, ephemeral, swap, rxtx_factor, is_public, description, disabled, created_at)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`).run(f.id, f.name, f.vcpus, f.ram, f.disk, f.ephemeral, f.swap, f.rxtxFactor,
        f.isPublic ? 1 : 0, f.description, f.disabled ? 1 : 0, f.createdAt);
      this.putSpecs(f.id, f.extraSpecs);
    })();
  }
  private putSpecs(id: string, specs: Record<string, string>): void {
    const st = this.db.prepare('INSERT OR REPLACE INTO flavor_extra_specs (flavor_id, key, value) VALUES (?, ?, ?)');
    for (const [k, v] of Object.entries(specs)) st.run(id, k, v);
  }
  private specs(id: string): Record<string, string> {
    const out: Record<string, string> = {};
    for (const r of this.db.prepare('SELECT key, value FROM flavor_extra_specs WHERE flavor_id = ? ORDER BY key').all(id) as Row[]) out[r.key as string] = r.value as string;
    return out;
  }
  private flavor(r: unknown): Flavor | null {
    if (!r) return null;
    const x = r as Row;
    return {
      id: x.id as string, name: x.name as string, vcpus: x.vcpus as number, ram: x.ram as number, disk: x.disk as number,
      ephemeral: x.ephemeral as number, swap: x.swap as number, rxtxFactor: x.rxtx_factor as number, isPublic: b(x.is_public),
      description: (x.description as string | null) ?? null, disabled: b(x.disabled), extraSpecs: this.specs(x.id as string),
      createdAt: x.created_at as string,
    };
  }
  async getFlavor(id: string): Promise<Flavor | null> { return this.flavor(this.db.prepare('SELECT * FROM flavors WHERE id = ?').get(id)); }
  async getFlavorByName(name: string): Promise<Flavor | null> { return this.flavor(this.db.prepare('SELECT * FROM flavors WHERE name = ?').get(name)); }
  async listFlavors(o: { includePrivate: boolean; minRam?: number; minDisk?: number; sortKey?: string; sortDir?: 'asc' | 'desc'; limit?: number; marker?: string }): Promise<Flavor[]> {
    const w: string[] = ['disabled = 0']; const p: unknown[] = [];
    if (!o.includePrivate) w.push('is_public = 1');
    if (o.minRam !== undefined) { w.push('ram >= ?'); p.push(o.minRam); }
    if (o.minDisk !== undefined) { w.push('disk >= ?'); p.push(o.minDisk); }
    const cols: Record<string, string> = { flavorid: 'id', id: 'id', name: 'name', memory_mb: 'ram', ram: 'ram', vcpus: 'vcpus', root_gb: 'disk', disk: 'disk', created_at: 'created_at' };
    const col = cols[o.sortKey ?? 'flavorid'] ?? 'id';
    const dir = o.sortDir === 'desc' ? 'DESC' : 'ASC';
    // Nova sorts flavor ids as strings; numeric-looking ids are compared numerically first so that 2 < 10
    const order = col === 'id' ? `CAST(id AS INTEGER) ${dir}, id ${dir}` : `${col} ${dir}, id ${dir}`;
    let rows = this.db.prepare(`SELECT * FROM flavors WHERE ${w.join(' AND ')} ORDER BY ${order}`).all(...p) as Row[];
    if (o.marker !== undefined) {
      const i = rows.findIndex((r) => r.id === o.marker);
      rows = i >= 0 ? rows.slice(i + 1) : rows;
    }
    if (o.limit !== undefined) rows = rows.slice(0, o.limit);
    return rows.map((r) => this.flavor(r)!);
  }
  async deleteFlavor(id: string): Promise<boolean> { return this.db.prepare('DELETE FROM flavors WHERE id = ?').run(id).changes === 1; }
  async setFlavorExtraSpecs(id: string, specs: Record<string, string>): Promise<void> { this.db.transaction(() => this.putSpecs(id, specs))(); }
  async deleteFlavorExtraSpec(id: string, key: string): Promise<boolean> {
    return this.db.prepare('DELETE FROM flavor_extra_specs WHERE flavor_id = ? AND key = ?').run(id, key).changes === 1;
  }
  async updateFlavorDescription(id: string, description: string | null): Promise<void> {
    this.db.prepare('UPDATE flavors SET description = ? WHERE id = ?').run(description, id);
  }

  // ---- keypairs
  async createKeypair(k: Keypair): Promise<boolean> {
    return this.db.prepare(`INSERT OR IGNORE INTO keypairs (user_id, name, type, public_key, fingerprint, created_at)
      VALUES (?, ?, ?, ?, ?, ?)`).run(k.userId, k.name, k.type, k.publicKey, k.fingerprint, k.createdAt).changes === 1;
  }
  async getKeypair(userId: string, name: string): Promise<Keypair | null> {
    return keypair(this.db.prepare('SELECT * FROM keypairs WHERE user_id = ? AND name = ?').get(userId, name));
  }
  async listKeypairs(userId: string, o: { limit?: number; marker?: string } = {}): Promise<Keypair[]> {
    const p: unknown[] = [userId];
    let sql = 'SELECT * FROM keypairs WHERE user_id = ?';
    if (o.marker !== undefined) { sql += ' AND name > ?'; p.push(o.marker); }
    sql += ' ORDER BY name';
    if (o.limit !== undefined) { sql += ' LIMIT ?'; p.push(o.limit); }
    return this.db.prepare(sql).all(...p).map((r) => keypair(r)!);
  }
  async deleteKeypair(userId: string, name: string): Promise<boolean> {
    return this.db.prepare('DELETE FROM keypairs WHERE user_id = ? AND name = ?').run(userId, name).changes === 1;
  }

  // ---- images
  async createImage(i: Image): Promise<void> {
    this.db.prepare(`INSERT INTO images (id, name, status, visibility, owner, disk_format, container_format, size, checksum,
      os_hash_algo, os_hash_value, min_disk, min_ram, protected, properties, tags, created_at, updated_at)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`).run(i.id, i.name, i.status, i.visibility, i.owner,
      i.diskFormat, i.containerFormat, i.size, i.checksum, i.osHashAlgo, i.osHashValue, i.minDisk, i.minRam,
      i.protected ? 1 : 0, JSON.stringify(i.properties), JSON.stringify(i.tags), i.createdAt, i.updatedAt);
  }
  async getImage(id: string): Promise<Image | null> { return image(this.db.prepare("SELECT * FROM images WHERE id = ? AND status != 'deleted'").get(id)); }
  async listImages(o: { projectId: string | null; isAdmin: boolean; name?: string; status?: string; visibility?: string; limit?: number; marker?: string }): Promise<Image[]> {
    const w: string[] = ["status != 'deleted'"]; const p: unknown[] = [];
    if (!o.isAdmin) { w.push("(visibility IN ('public', 'community') OR owner = ?)"); p.push(o.projectId); }
    if (o.name !== undefined) { w.push('name = ?'); p.push(o.name); }
    if (o.status !== undefined) { w.push('status = ?'); p.push(o.status); }
    if (o.visibility !== undefined) { w.push('visibility = ?'); p.push(o.visibility); }
    if (o.marker !== undefined) {
      w.push('(created_at < (SELECT created_at FROM images WHERE id = ?) OR (created_at = (SELECT created_at FROM images WHERE id = ?) AND id < ?))');
      p.push(o.marker, o.marker, o.marker);
    }
    let sql = `SELECT * FROM images WHERE ${w.join(' AND ')} ORDER BY created_at DESC, id DESC`;
    if (o.limit !== undefined) { sql += ' LIMIT ?'; p.push(o.limit); }
    return this.db.prepare(sql).all(...p).map((r) => image(r)!);
  }
  async updateImage(id: string, c: Partial<Omit<Image, 'id' | 'createdAt'>>): Promise<void> {
    const map: Record<string, [string, (v: never) => unknown]> = {
      name: ['name', (v: string | null) => v], status: ['status', (v: string) => v], visibility: ['visibility', (v: string) => v],
      owner: ['owner', (v: string | null) => v], diskFormat: ['disk_format', (v: string | null) => v],
      containerFormat: ['container_format', (v: string | null) => v], size: ['size', (v: number | null) => v],
      checksum: ['checksum', (v: string | null) => v], osHashAlgo: ['os_hash_algo', (v: string | null) => v],
      osHashValue: ['os_hash_value', (v: string | null) => v], minDisk: ['min_disk', (v: number) => v],
      minRam: ['min_ram', (v: number) => v], protected: ['protected', (v: boolean) => (v ? 1 : 0)],
      properties: ['properties', (v: unknown) => JSON.stringify(v)], tags: ['tags', (v: unknown) => JSON.stringify(v)],
      updatedAt: ['updated_at', (v: string) => v],
    };
    const sets: string[] = []; const params: unknown[] = [];
    for (const [k, v] of Object.entries(c)) {
      if (v === undefined) continue;
      const m = map[k]; if (!m) throw new Error(`unknown image field ${k}`);
      sets.push(`${m[0]} = ?`); params.push(m[1](v as never));
    }
    if (c.updatedAt === undefined) { sets.push('updated_at = ?'); params.push(now()); }
    this.db.prepare(`UPDATE images SET ${sets.join(', ')} WHERE id = ?`).run(...params, id);
  }
  async deleteImage(id: string): Promise<boolean> { return this.db.prepare('DELETE FROM images WHERE id = ?').run(id).changes === 1; }

  // ---- servers
  async createServer(s: NewServer): Promise<Server> {
    this.insertServer(s);
    return (await this.getServer(s.id))!;
  }

  private insertServer(s: NewServer): void {
    const t = now();
    this.db.transaction(() => {
      this.db.prepare(`INSERT INTO servers (id, name, project_id, user_id, image_ref, flavor_id, flavor, old_flavor, vm_state,
        task_state, power_state, status, host, node, availability_zone, key_name, key_data, user_data, access_ipv4, access_ipv6,
        config_drive, disk_config, description, locked, locked_reason, locked_by, reservation_id, launch_index, hostname,
        kernel_id, ramdisk_id, root_device_name, progress, addresses, ips4, ips6, requested_networks, security_groups, bdm,
        fault, created_at, updated_at, launched_at, vcpus, memory_mb)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`).run(
        s.id, s.name, s.projectId, s.userId, s.imageRef, s.flavor.id, JSON.stringify(s.flavor),
        s.oldFlavor ? JSON.stringify(s.oldFlavor) : null, s.vmState, s.taskState, s.powerState, serverStatus(s.vmState, s.taskState),
        s.host, s.node, s.availabilityZone, s.keyName, s.keyData, s.userData, s.accessIPv4, s.accessIPv6, s.configDrive,
        s.diskConfig, s.description, s.locked ? 1 : 0, s.lockedReason, s.lockedBy, s.reservationId, s.launchIndex, s.hostname,
        s.kernelId, s.ramdiskId, s.rootDeviceName, s.progress, JSON.stringify(s.addresses), ipText(s.addresses, 4),
        ipText(s.addresses, 6), s.requestedNetworks === undefined ? null : JSON.stringify(s.requestedNetworks),
        JSON.stringify(s.securityGroups), JSON.stringify(s.blockDeviceMapping), s.fault ? JSON.stringify(s.fault) : null,
        s.createdAt, t, s.launchedAt, s.flavor.vcpus, s.flavor.ram);
      const md = this.db.prepare('INSERT INTO server_metadata (server_id, key, value) VALUES (?, ?, ?)');
      for (const [k, v] of Object.entries(s.metadata)) md.run(s.id, k, v);
      const tg = this.db.prepare('INSERT OR IGNORE INTO server_tags (server_id, tag) VALUES (?, ?)');
      for (const tag of s.tags) tg.run(s.id, tag);
      this.syncChildren(s.id);
      // a server inserted already placed (imports, fixtures) holds its resources like a scheduled one
      if (s.host) this.claims.claim(s.id, s.host, claimOf(s.flavor), null);
    })();
  }

  /**
   * Prepared statements of the hot paths (list pages, heartbeats, metadata/tag sync), by SQL text: a listing's SQL
   * depends only on which filters, sort and page size it uses, so few texts recur. Bounded: cleared when full.
   */
  private readonly statements = new Map<string, Database.Statement>();
  private cached(sql: string): Database.Statement {
    let st = this.statements.get(sql);
    if (!st) {
      if (this.statements.size >= 500) this.statements.clear();
      st = this.db.prepare(sql);
      this.statements.set(sql, st);
    }
    return st;
  }

  /** Rewrites the row's metadata/tags JSON from the child tables; every write to those tables calls it. */
  private syncChildren(id: string): void {
    this.cached(`UPDATE servers SET metadata = ${METADATA_JSON}, tags = ${TAGS_JSON} WHERE id = ?`).run(id);
  }

  async getServer(id: string, o: { includeDeleted?: boolean } = {}): Promise<Server | null> {
    const r = this.db.prepare(`SELECT * FROM servers WHERE id = ?${o.includeDeleted ? '' : ' AND deleted = 0'}`).get(id) as Row | undefined;
    return r ? rowToServer(r) : null;
  }

  async listServers(q: ServerQuery): Promise<Server[]> {
    const { stmt, params } = this.selectServers(q.viewFieldsOnly ? VIEW_COLUMNS : '*', q);
    const read = rowReader(stmt.columns().map((c) => c.name));
    return (stmt.raw(true).all(...params) as unknown[][]).map((a) => rowToServer(read(a)));
  }

  async listServerRevisions(q: ServerQuery): Promise<ServerRevision[]> {
    const { stmt, params } = this.selectServers('id, revision', q);
    return (stmt.raw(true).all(...params) as Array<[string, number]>).map(([id, revision]) => ({ id, revision }));
  }

  /** the statement for `columns` of the servers `q` selects, in its order and page */
  private selectServers(columns: string, q: ServerQuery): { stmt: Database.Statement; params: unknown[] } {
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
      if (ok && set.touchesState) this.refreshStatus(id);
      return ok;
    })();
  }

  async updateServerIf(id: string, e: ServerExpect, changes: ServerChanges): Promise<boolean> {
    return this.updateIfSync(id, e, changes);
  }

  private updateIfSync(id: string, e: ServerExpect, changes: ServerChanges): boolean {
    return this.db.transaction(() => {
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
      const ok = this.db.prepare(`UPDATE servers SET ${set.sql} WHERE ${w.join(' AND ')}`).run(...set.params, ...p).changes === 1;
      if (ok && set.touchesState) this.refreshStatus(id);
      return ok;
    })();
  }

  /** status is derived; recomputed inside the same transaction as the write that changed its inputs */
  private refreshStatus(id: string): void {
    const r = this.db.prepare('SELECT vm_state, task_state FROM servers WHERE id = ?').get(id) as Row;
    this.db.prepare('UPDATE servers SET status = ? WHERE id = ?').run(serverStatus(r.vm_state as string, (r.task_state as string | null) ?? null), id);
  }

  async markServerDeleted(id: string, at: string): Promise<void> {
    this.markDeletedSync(id, at);
  }

  private markDeletedSync(id: string, at: string): void {
    this.claims.release(id);
    this.db.prepare(`UPDATE servers SET deleted = 1, deleted_at = COALESCE(deleted_at, ?), terminated_at = ?, updated_at = ?,
      vm_state = 'deleted', task_state = NULL, status = 'DELETED', power_state = 0 WHERE id = ?`).run(at, at, at, id);
  }

  async listReclaimable(before: string): Promise<Server[]> {
    return (this.db.prepare("SELECT * FROM servers WHERE deleted = 0 AND vm_state = 'soft-delete' AND deleted_at < ?").all(before) as Row[]).map(rowToServer);
  }

  async setServerMetadata(id: string, metadata: Record<string, string>, replace: boolean): Promise<Record<string, string>> {
    this.db.transaction(() => {
      if (replace) this.db.prepare('DELETE FROM server_metadata WHERE server_id = ?').run(id);
      const st = this.db.prepare('INSERT OR REPLACE INTO server_metadata (server_id, key, value) VALUES (?, ?, ?)');
      for (const [k, v] of Object.entries(metadata)) st.run(id, k, v);
      this.db.prepare('UPDATE servers SET updated_at = ? WHERE id = ?').run(now(), id);
      this.syncChildren(id);
    })();
    const out: Record<string, string> = {};
    for (const r of this.db.prepare('SELECT key, value FROM server_metadata WHERE server_id = ? ORDER BY key').all(id) as Row[]) out[r.key as string] = r.value as string;
    return out;
  }
  async deleteServerMetadataKey(id: string, key: string): Promise<boolean> {
    return this.db.transaction(() => {
      const gone = this.db.prepare('DELETE FROM server_metadata WHERE server_id = ? AND key = ?').run(id, key).changes === 1;
      if (gone) this.syncChildren(id);
      return gone;
    })();
  }
  async setServerTags(id: string, tags: string[]): Promise<void> {
    this.db.transaction(() => {
      this.db.prepare('DELETE FROM server_tags WHERE server_id = ?').run(id);
      const st = this.db.prepare('INSERT OR IGNORE INTO server_tags (server_id, tag) VALUES (?, ?)');
      for (const t of tags) st.run(id, t);
      this.db.prepare('UPDATE servers SET updated_at = ? WHERE id = ?').run(now(), id);
      this.syncChildren(id);
    })();
  }
  async addServerTag(id: string, tag: string): Promise<void> {
    this.db.transaction(() => {
      if (this.db.prepare('INSERT OR IGNORE INTO server_tags (server_id, tag) VALUES (?, ?)').run(id, tag).changes === 1) this.syncChildren(id);
    })();
  }
  async deleteServerTag(id: string, tag: string): Promise<boolean> {
    return this.db.transaction(() => {
      const gone = this.db.prepare('DELETE FROM server_tags WHERE server_id = ? AND tag = ?').run(id, tag).changes === 1;
      if (gone) this.syncChildren(id);
      return gone;
    })();
  }

  // ---- instance actions
  async createInstanceAction(a: Omit<InstanceAction, 'id' | 'finishTime' | 'updatedAt'>): Promise<InstanceAction> {
    const r = this.db.prepare(`INSERT INTO instance_actions (server_id, action, request_id, user_id, project_id, start_time, message, updated_at)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?)`).run(a.serverId, a.action, a.requestId, a.userId, a.projectId, a.startTime, a.message, a.startTime);
    return { ...a, id: Number(r.lastInsertRowid), finishTime: null, updatedAt: a.startTime };
  }
  async finishInstanceAction(id: number, at: string, message: string | null): Promise<void> {
    this.db.prepare('UPDATE instance_actions SET finish_time = ?, updated_at = ?, message = COALESCE(?, message) WHERE id = ?').run(at, at, message, id);
  }
  async listInstanceActions(serverId: string): Promise<InstanceAction[]> {
    return this.db.prepare('SELECT * FROM instance_actions WHERE server_id = ? ORDER BY start_time DESC, id DESC').all(serverId).map((r) => action(r as Row));
  }
  async getInstanceActionByRequest(serverId: string, requestId: string): Promise<InstanceAction | null> {
    const r = this.db.prepare('SELECT * FROM instance_actions WHERE server_id = ? AND request_id = ?').get(serverId, requestId) as Row | undefined;
    return r ? action(r) : null;
  }
  async startActionEvent(actionId: number, event: string, at: string, host: string | null): Promise<InstanceActionEvent> {
    const r = this.db.prepare('INSERT INTO instance_action_events (action_id, event, start_time, host) VALUES (?, ?, ?, ?)').run(actionId, event, at, host);
    this.db.prepare('UPDATE instance_actions SET updated_at = ? WHERE id = ?').run(at, actionId);
    return { id: Number(r.lastInsertRowid), actionId, event, startTime: at, finishTime: null, result: null, traceback: null, host };
  }
  async finishActionEvent(id: number, at: string, result: 'Success' | 'Error', traceback: string | null): Promise<void> {
    this.db.prepare('UPDATE instance_action_events SET finish_time = ?, result = ?, traceback = ? WHERE id = ?').run(at, result, traceback, id);
  }
  async listActionEvents(actionId: number): Promise<InstanceActionEvent[]> {
    return (this.db.prepare('SELECT * FROM instance_action_events WHERE action_id = ? ORDER BY id').all(actionId) as Row[]).map((r) => ({
      id: r.id as number, actionId: r.action_id as number, event: r.event as string, startTime: r.start_time as string,
      finishTime: (r.finish_time as string | null) ?? null, result: (r.result as string | null) ?? null,
      traceback: (r.traceback as string | null) ?? null, host: (r.host as string | null) ?? null,
    }));
  }

  async failOpenActions(serverId: string, at: string, message: string): Promise<number> {
    return this.db.transaction(() => {
      this.db.prepare(`UPDATE instance_action_events SET finish_time = ?, result = 'Error', traceback = ?
        WHERE finish_time IS NULL AND action_id IN (SELECT id FROM instance_actions WHERE server_id = ? AND finish_time IS NULL)`).run(at, message, serverId);
      return this.db.prepare('UPDATE instance_actions SET finish_time = ?, updated_at = ?, message = ? WHERE server_id = ? AND finish_time IS NULL').run(at, at, message, serverId).changes;
    })();
  }

  // ---- hosts
  async upsertHost(h: Host): Promise<void> {
    // cached: every agent's heartbeat runs this and getHost (1,000 hosts: 3,000 statements a round)
    this.cached(`INSERT INTO hosts (name, service_id, hypervisor_id, disabled, disabled_reason, forced_down, last_seen_at, vcpus,
      memory_mb, disk_gb, hypervisor_type, hypervisor_version, host_ip, created_at, updated_at)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
      ON CONFLICT(name) DO UPDATE SET last_seen_at = excluded.last_seen_at, vcpus = excluded.vcpus, memory_mb = excluded.memory_mb,
        disk_gb = excluded.disk_gb, hypervisor_type = excluded.hypervisor_type, hypervisor_version = excluded.hypervisor_version,
        host_ip = excluded.host_ip, updated_at = excluded.updated_at`).run(h.name, h.serviceId, h.hypervisorId, h.disabled ? 1 : 0,
      h.disabledReason, h.forcedDown ? 1 : 0, h.lastSeenAt, h.vcpus, h.memoryMb, h.diskGb, h.hypervisorType, h.hypervisorVersion,
      h.hostIp, h.createdAt, h.updatedAt);
  }
  async getHost(name: string): Promise<Host | null> { return host(this.cached('SELECT * FROM hosts WHERE name = ?').get(name)); }
  async listHosts(): Promise<Host[]> { return this.db.prepare('SELECT * FROM hosts ORDER BY created_at, name').all().map((r) => host(r)!); }
  async updateHost(name: string, c: Partial<Omit<Host, 'name' | 'serviceId' | 'hypervisorId' | 'createdAt'>>): Promise<boolean> {
    const map: Record<string, [string, (v: never) => unknown]> = {
      disabled: ['disabled', (v: boolean) => (v ? 1 : 0)], disabledReason: ['disabled_reason', (v: string | null) => v],
      forcedDown: ['forced_down', (v: boolean) => (v ? 1 : 0)], lastSeenAt: ['last_seen_at', (v: string | null) => v],
      vcpus: ['vcpus', (v: number) => v], memoryMb: ['memory_mb', (v: number) => v], diskGb: ['disk_gb', (v: number) => v],
      hypervisorType: ['hypervisor_type', (v: string) => v], hypervisorVersion: ['hypervisor_version', (v: number) => v],
      hostIp: ['host_ip', (v: string) => v], updatedAt: ['updated_at', (v: string) => v],
    };
    const sets: string[] = []; const params: unknown[] = [];
    for (const [k, v] of Object.entries(c)) {
      if (v === undefined) continue;
      const m = map[k]; if (!m) throw new Error(`unknown host field ${k}`);
      sets.push(`${m[0]} = ?`); params.push(m[1](v as never));
    }
    if (c.updatedAt === undefined) { sets.push('updated_at = ?'); params.push(now()); }
    return this.db.prepare(`UPDATE hosts SET ${sets.join(', ')} WHERE name = ?`).run(...params, name).changes === 1;
  }
  async getHostUsage(name: string): Promise<HostUsage> { return this.claims.usage(name); }
  async listHostUsage(): Promise<Map<string, HostUsage>> { return this.claims.listUsage(); }

  // ---- claims (claims.ts)
  async claimHost(serverId: string, host: string, r: Resources, limits: Resources | null): Promise<boolean> {
    return this.db.transaction(() => {
      if (!this.claims.claim(serverId, host, r, limits)) return false;
      this.db.prepare('UPDATE servers SET host = ?, node = ? WHERE id = ? AND (host IS NOT ? OR node IS NOT ?)').run(host, host, serverId, host, host);
      return true;
    }).immediate();
  }
  async resizeClaim(serverId: string, r: Resources, limits: Resources | null): Promise<boolean> { return this.claims.resize(serverId, r, limits); }
  async releaseClaim(serverId: string): Promise<void> { this.claims.release(serverId); }
  async getAllocation(serverId: string): Promise<(Resources & { host: string }) | null> { return this.claims.allocation(serverId); }

  // ---- tasks (tasks.ts)
  async beginTask(b: BeginTask): Promise<TaskRow | null> { return this.tasks.begin(b); }
  async getTask(id: string): Promise<TaskRow | null> { return this.tasks.get(id); }
  async checkpointTask(id: string, owner: string, step: number, data: Record<string, unknown>): Promise<boolean> { return this.tasks.checkpoint(id, owner, step, data); }
  async finishTask(f: FinishTask, owner: string): Promise<{ owned: boolean; won: boolean }> { return this.tasks.finish(f, owner); }
  async renewTaskLeases(owner: string, until: number): Promise<number> { return this.tasks.renew(owner, until); }
  async takeOverTask(id: string, owner: string, until: number, now: number): Promise<TaskRow | null> { return this.tasks.takeOver(id, owner, until, now); }
  async listAdoptableTasks(owner: string, now: number, limit: number): Promise<TaskRow[]> { return this.tasks.listAdoptable(owner, now, limit); }
  async listServerTasks(serverId: string): Promise<TaskRow[]> { return this.tasks.listForServer(serverId); }
  async cancelOtherTasks(serverId: string, exceptId: string): Promise<number> { return this.tasks.cancelOthers(serverId, exceptId); }

  // ---- fixed IPs
  async allocateFixedIp(networkId: string, serverId: string, mac: string, candidates: Iterable<string>): Promise<string | null> {
    return this.db.transaction(() => {
      const held = this.db.prepare('SELECT address FROM fixed_ips WHERE network_id = ? AND server_id = ? AND mac = ?').get(networkId, serverId, mac) as Row | undefined;
      if (held) return held.address as string;
      const used = new Set((this.db.prepare('SELECT address FROM fixed_ips WHERE network_id = ?').all(networkId) as Row[]).map((r) => r.address as string));
      for (const a of candidates) {
        if (used.has(a)) continue;
        this.db.prepare('INSERT INTO fixed_ips (network_id, address, server_id, mac, created_at) VALUES (?, ?, ?, ?, ?)').run(networkId, a, serverId, mac, now());
        return a;
      }
      return null;
    }).immediate();
  }
  async listFixedIps(serverId: string): Promise<FixedIp[]> {
    return (this.db.prepare('SELECT * FROM fixed_ips WHERE server_id = ? ORDER BY created_at, address').all(serverId) as Row[]).map((r) => (
      { networkId: r.network_id as string, address: r.address as string, serverId: r.server_id as string, mac: r.mac as string }));
  }
  async releaseFixedIps(serverId: string): Promise<number> {
    return this.db.prepare('DELETE FROM fixed_ips WHERE server_id = ?').run(serverId).changes;
  }

  // ---- quotas
  async getQuotaLimits(projectId: string): Promise<QuotaLimits> {
    const out: QuotaLimits = {};
    for (const r of this.db.prepare('SELECT resource, hard_limit FROM quota_limits WHERE project_id = ?').all(projectId) as Row[]) out[r.resource as string] = r.hard_limit as number;
    return out;
  }
  async setQuotaLimits(projectId: string, limits: QuotaLimits): Promise<void> {
    const st = this.db.prepare('INSERT OR REPLACE INTO quota_limits (project_id, resource, hard_limit) VALUES (?, ?, ?)');
    this.db.transaction(() => { for (const [k, v] of Object.entries(limits)) st.run(projectId, k, v); })();
  }
  async getQuotaUsage(projectId: string, userId: string): Promise<QuotaUsage> {
    const u = this.db.prepare('SELECT COUNT(*) AS n, COALESCE(SUM(vcpus), 0) AS c, COALESCE(SUM(memory_mb), 0) AS m FROM servers WHERE project_id = ? AND deleted = 0').get(projectId) as Row;
    const instances = u.n as number; const cores = u.c as number; const ram = u.m as number;
    const kp = (this.db.prepare('SELECT COUNT(*) AS n FROM keypairs WHERE user_id = ?').get(userId) as Row).n as number;
    return { instances, cores, ram, keyPairs: kp };
  }
}

function domain(r: unknown): Domain | null {
  if (!r) return null; const x = r as Row;
  return { id: x.id as string, name: x.name as string, enabled: b(x.enabled) };
}
function project(r: unknown): Project | null {
  if (!r) return null; const x = r as Row;
  return { id: x.id as string, name: x.name as string, domainId: x.domain_id as string, enabled: b(x.enabled), description: x.description as string };
}
function user(r: unknown): User | null {
  if (!r) return null; const x = r as Row;
  return {
    id: x.id as string, name: x.name as string, domainId: x.domain_id as string, passwordHash: x.password_hash as string,
    enabled: b(x.enabled), defaultProjectId: (x.default_project_id as string | null) ?? null, tokensValidAfter: x.tokens_valid_after as string,
  };
}
function keypair(r: unknown): Keypair | null {
  if (!r) return null; const x = r as Row;
  return { userId: x.user_id as string, name: x.name as string, type: x.type as 'ssh' | 'x509', publicKey: x.public_key as string, fingerprint: x.fingerprint as string, createdAt: x.created_at as string };
}
function image(r: unknown): Image | null {
  if (!r) return null; const x = r as Row;
  return {
    id: x.id as string, name: (x.name as string | null) ?? null, status: x.status as Image['status'], visibility: x.visibility as Image['visibility'],
    owner: (x.owner as string | null) ?? null, diskFormat: (x.disk_format as string | null) ?? null, containerFormat: (x.container_format as string | null) ?? null,
    size: (x.size as number | null) ?? null, checksum: (x.checksum as string | null) ?? null, osHashAlgo: (x.os_hash_algo as string | null) ?? null,
    osHashValue: (x.os_hash_value as string | null) ?? null, minDisk: x.min_disk as number, minRam: x.min_ram as number, protected: b(x.protected),
    properties: JSON.parse(x.properties as string), tags: JSON.parse(x.tags as string), createdAt: x.created_at as string, updatedAt: x.updated_at as string,
  };
}
function host(r: unknown): Host | null {
  if (!r) return null; const x = r as Row;
  return {
    name: x.name as string, serviceId: x.service_id as string, hypervisorId: x.hypervisor_id as string, disabled: b(x.disabled),
    disabledReason: (x.disabled_reason as string | null) ?? null, forcedDown: b(x.forced_down), lastSeenAt: (x.last_seen_at as string | null) ?? null,
    vcpus: x.vcpus as number, memoryMb: x.memory_mb as number, diskGb: x.disk_gb as number, hypervisorType: x.hypervisor_type as string,
    hypervisorVersion: x.hypervisor_version as number, hostIp: x.host_ip as string, createdAt: x.created_at as string, updatedAt: x.updated_at as string,
  };
}
function action(r: Row): InstanceAction {
  return {
    id: r.id as number, serverId: r.server_id as string, action: r.action as string, requestId: r.request_id as string,
    userId: r.user_id as string, projectId: r.project_id as string, startTime: r.start_time as string,
    finishTime: (r.finish_time as string | null) ?? null, message: (r.message as string | null) ?? null, updatedAt: r.updated_at as string,
  };
}
