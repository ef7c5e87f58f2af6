/**
 * Server actions (POST /servers/{id}/action): each passes the gate (gate.ts) and starts its task (tasks/registry.ts)
 * in the same transaction; the task's definition holds its steps and transitions (Nova's compute manager).
 */
import { randomUUID } from 'node:crypto';
import type { Store, Server, FlavorSnapshot, ServerChanges } from '../../store/index.js';
import { isAdmin, type RequestContext } from '../context.js';
import { ApiError, badRequest, noValidHost, notFound } from '../errors.js';
import { RULES, type ActionRule } from './states.js';
import { expectFor, precheck, refused } from './gate.js';
import { serverFor } from './access.js';
import { canonicalIPv6 } from '../../common/ipv6.js';
import { createSnapshotImage } from './snapshot-image.js';
import type { QuotaService } from './quotas.js';
import type { HostRegistry } from '../hosts/registry.js';
import type { TaskEngine } from '../tasks/engine.js';
import { TASKS, type SimpleTaskKind } from '../tasks/registry.js';
import type { AnyTaskDef } from '../tasks/types.js';
import { enforce } from '../policy/policy.js';
import type { MigrateParams } from '../tasks/defs/migration.js';
import type { LiveMigrateParams } from '../tasks/defs/live-migration.js';
import type { EvacuateParams } from '../tasks/defs/evacuate.js';
import type { LiveMigrationPolicy } from '../config.js';
import type { Placement } from '../scheduler/placement.js';
import type { VolumeBackedSnapshots } from './volume-backed-snapshot.js';

export function snapshotOf(f: { id: string; name: string; vcpus: number; ram: number; disk: number; ephemeral: number; swap: number; extraSpecs: Record<string, string> }): FlavorSnapshot {
  return { id: f.id, name: f.name, vcpus: f.vcpus, ram: f.ram, disk: f.disk, ephemeral: f.ephemeral, swap: f.swap, extraSpecs: { ...f.extraSpecs } };
}

export class ServerActions {
  /** createImage of a server booted from a volume (volume snapshots + a 0-byte image; set where volumes exist) */
  volumeBacked?: VolumeBackedSnapshots;

  constructor(
    private readonly store: Store, private readonly tasks: TaskEngine, private readonly quotas: QuotaService, private readonly hosts: HostRegistry,
    /** Nova's allow_resize_to_same_host (default false): a resize may stay on the server's host */
    private readonly opts: { allowResizeToSameHost: boolean; liveMigration?: LiveMigrationPolicy } = { allowResizeToSameHost: false },
    /** the API's synchronous check that a resize or migration has somewhere to go */
    private readonly placement?: Placement,
  ) {}

  /**
   * The gate and the task's start as one transaction: the server's task_state swaps to the task's only if the
   * rule still allows it, and the instance action, its event and the task row are written with it.
   */
  async perform(ctx: RequestContext, id: string, def: AnyTaskDef, o: { params?: Record<string, unknown>; changes?: ServerChanges; rule?: ActionRule } = {}): Promise<Server> {
    const rule = o.rule ?? def.rule;
    if (!rule) throw new Error(`task ${def.kind} has no API rule`);
    const s = await precheck(this.store, ctx, id, rule);
    const row = await this.tasks.begin({
      def, serverId: id, requestId: ctx.requestId, userId: ctx.userId, projectId: ctx.projectId, eventHost: s.host,
      expect: expectFor(ctx, rule), changes: { ...o.changes, taskState: rule.task }, ...(o.params ? { params: o.params } : {}),
    });
    if (!row) return refused(this.store, ctx, id, rule);
    return (await this.store.getServer(id))!;
  }

  /** a single-host action by its task kind (start, stop, pause, ...): one definition in tasks/defs/power.ts */
  async run(ctx: RequestContext, id: string, kind: SimpleTaskKind): Promise<void> { await this.perform(ctx, id, TASKS[kind]); }

  async resize(ctx: RequestContext, id: string, flavorRef: string): Promise<void> {
    const cur = await precheck(this.store, ctx, id, RULES.resize);
    const f = await this.store.getFlavor(flavorRef);
    if (!f || f.disabled) throw badRequest('Unable to locate requested flavor.');
    if (f.id === cur.flavor.id) throw badRequest('When resizing, instances must change flavor!');
    await this.quotas.checkGrowth(cur.projectId, cur.userId, f.vcpus - cur.flavor.vcpus, f.ram - cur.flavor.ram);
    const params: MigrateParams = { flavor: snapshotOf(f), migrationId: randomUUID(), migrationType: 'resize', allowSameHost: this.opts.allowResizeToSameHost };
    await this.requireTarget(cur, params, 'resize');
    await this.perform(ctx, id, TASKS.resize, { params: { ...params } });
  }

  /**
   * Cold migration (admin): to another host, the scheduler's or `host` (2.56); the server keeps its flavor and
   * waits in VERIFY_RESIZE for confirm or revert, as a resize.
   */
  async migrate(ctx: RequestContext, id: string, host?: string): Promise<void> {
    const cur = await precheck(this.store, ctx, id, RULES.migrate);
    if (host !== undefined) {
      if (!(await this.store.getHost(host))) throw badRequest(`Compute host ${host} could not be found.`);
      if (host === cur.host) throw badRequest('Cannot migrate to the host where the server exists.');
    }
    const params: MigrateParams = { flavor: cur.flavor, migrationId: randomUUID(), migrationType: 'migration', allowSameHost: false, ...(host ? { requestedHost: host } : {}) };
    await this.requireTarget(cur, params, 'cold migrate');
    await this.perform(ctx, id, TASKS.migrate, { params: { ...params } });
  }

  /** Nova schedules a resize or migration before answering: no host now is a 400, nothing started */
  private async requireTarget(s: Server, p: MigrateParams, what: string): Promise<void> {
    // Nova's check_instance_host(check_is_up=True): the source's compute service must be up (409)
    const source = s.host ? await this.store.getHost(s.host) : null;
    if (!source || !this.hosts.isUp(source)) throw new ApiError('conflict', 'Service is unavailable at this time.');
    if (!this.placement) return;
    const ok = await this.placement.hasMigrationTarget(s, p.flavor, { allowSource: p.allowSameHost ?? false, ...(p.requestedHost ? { requestedHost: p.requestedHost } : {}) });
    if (!ok) throw new ApiError('no_valid_host', `No valid host was found. No valid host found for ${what}`);
  }

  async confirmResize(ctx: RequestContext, id: string): Promise<void> { await this.perform(ctx, id, TASKS.confirm_resize); }

  async revertResize(ctx: RequestContext, id: string): Promise<void> { await this.perform(ctx, id, TASKS.revert_resize); }

  /** returns the new image's id; the image is 'queued' until the snapshot finishes */
  async createImage(ctx: RequestContext, id: string, name: string, metadata: Record<string, string>): Promise<string> {
    const s = await precheck(this.store, ctx, id, RULES.createImage);
    // Nova: a volume-backed server's snapshot is its volumes' snapshots (compute/api.py snapshot_volume_backed)
    if (s.imageRef === '' && this.volumeBacked) return this.volumeBacked.create(ctx, s, name, metadata);
    // Nova: the properties the user sent take precedence (compute/api.py _create_image)
    const img = await createSnapshotImage(this.store, ctx, s, name, 'snapshot', metadata);
    await this.startWithImage(ctx, id, img.id, TASKS.snapshot, { imageId: img.id });
    return img.id;
  }

  /**
   * createBackup: a snapshot with image_type=backup and backup_type, then the server's backups of that type
   * beyond the newest `rotation` are deleted (rotation 0 deletes them all, the new one too, as Nova)
   */
  async createBackup(ctx: RequestContext, id: string, a: { name: string; backupType: string; rotation: number; metadata: Record<string, string> }): Promise<string> {
    const s = await precheck(this.store, ctx, id, RULES.createBackup);
    const img = await createSnapshotImage(this.store, ctx, s, a.name, 'backup', { ...a.metadata, backup_type: a.backupType });
    await this.startWithImage(ctx, id, img.id, TASKS.backup, { imageId: img.id, backupType: a.backupType, rotation: a.rotation });
    return img.id;
  }

  /** starts a task that fills image `imageId`; a lost swap removes the image (no task will ever fill it) */
  async startWithImage(ctx: RequestContext, id: string, imageId: string, def: AnyTaskDef, params: Record<string, unknown>): Promise<void> {
    try {
      await this.perform(ctx, id, def, { params });
    } catch (err) {
      await this.store.deleteImage(imageId);
      throw err;
    }
  }

  async rebuild(ctx: RequestContext, id: string, args: {
    imageRef: string; name?: string; description?: string | null; metadata?: Record<string, string>;
    accessIPv4?: string; accessIPv6?: string; keyName?: string | null; userData?: string | null; diskConfig?: 'AUTO' | 'MANUAL';
    /** the new admin password (the config drive made again with it) */
    adminPass?: string;
  }): Promise<Server> {
    await precheck(this.store, ctx, id, RULES.rebuild);
    const img = await this.store.getImage(args.imageRef);
    if (!img || (img.visibility === 'private' && img.owner !== ctx.projectId && !isAdmin(ctx))) throw badRequest('Cannot find requested image');
    if (img.status !== 'active') throw badRequest(`Image ${img.id} is not active.`);
    let keyData: string | null | undefined;
    if (args.keyName) {
      const kp = await this.store.getKeypair(ctx.userId, args.keyName);
      if (!kp) throw badRequest('Invalid key_name provided.');
      keyData = kp.publicKey;
    } else if (args.keyName === null) keyData = null;
    const changes: ServerChanges = {
      imageRef: img.id,
      kernelId: img.properties.kernel_id ?? '', ramdiskId: img.properties.ramdisk_id ?? '',
      ...(args.name !== undefined ? { name: args.name } : {}),
      ...(args.description !== undefined ? { description: args.description } : {}),
      ...(args.accessIPv4 !== undefined ? { accessIPv4: args.accessIPv4 } : {}),
      ...(args.accessIPv6 !== undefined ? { accessIPv6: canonicalIPv6(args.accessIPv6) } : {}),
      ...(args.keyName !== undefined ? { keyName: args.keyName, keyData: keyData ?? null } : {}),
      ...(args.userData !== undefined ? { userData: args.userData } : {}),
      ...(args.diskConfig !== undefined ? { diskConfig: args.diskConfig } : {}),
    };
    await this.perform(ctx, id, TASKS.rebuild, { changes, ...(args.adminPass ? { params: { adminPass: args.adminPass } } : {}) });
    if (args.metadata) await this.store.setServerMetadata(id, args.metadata, true);
    return (await this.store.getServer(id))!;
  }

  /**
   * Live migration (admin, tasks/defs/live-migration.ts): to `host` (checked by the scheduler unless `force`, Nova
   * 2.30..2.67) or the scheduler's choice, never the server's own host. Nova's synchronous checks (before 2.34's
   * asynchronous ones) answer here: unknown host, own host, source service down, nothing fits -> 400. The
   * task_state swap makes a second concurrent migration a 409.
   */
  async liveMigrate(ctx: RequestContext, id: string, o: { host?: string; force?: boolean; blockMigration: boolean | 'auto' }): Promise<void> {
    const cur = await precheck(this.store, ctx, id, RULES.liveMigrate);
    const source = cur.host ? await this.store.getHost(cur.host) : null;
    if (!source || !this.hosts.isUp(source)) throw badRequest(`Compute service of ${cur.host ?? 'unknown'} is unavailable at this time.`);
    if (o.host !== undefined) {
      const h = await this.store.getHost(o.host);
      if (!h) throw badRequest(`Compute host ${o.host} could not be found.`);
      if (o.host === cur.host) throw badRequest(`Unable to migrate instance (${id}) to current host (${o.host}).`);
      if (!this.hosts.isUp(h)) throw badRequest(`Compute service of ${o.host} is unavailable at this time.`);
    }
    const params: LiveMigrateParams = { migrationId: randomUUID(), blockMigration: o.blockMigration, policy: { ...this.opts.liveMigration }, ...(o.host ? { requestedHost: o.host } : {}), ...(o.host && o.force ? { force: true } : {}) };
    if (!params.force && this.placement) {
      const ok = await this.placement.hasMigrationTarget(cur, cur.flavor, { allowSource: false, ...(o.host ? { requestedHost: o.host } : {}) });
      if (!ok) throw noValidHost();
    }
    await this.perform(ctx, id, TASKS.live_migrate, { params: { ...params } });
  }

  /**
   * Evacuation (admin, tasks/defs/evacuate.ts): the server is rebuilt on another host because its own is down.
   * Nova refuses (400) while the source's compute service is up and not forced down (a host the registry never
   * heard of counts as up: it may be running the guest), and a target that is the server's own host; an unknown
   * target is 404. The record is written `accepted` before the task starts, so fencing sees it from the start.
   */
  async evacuate(ctx: RequestContext, id: string, o: { host?: string; force?: boolean; onSharedStorage?: boolean; targetStopped?: boolean; adminPass?: string } = {}): Promise<{ migrationId: string }> {
    const s = await precheck(this.store, ctx, id, RULES.evacuate);
    // Nova's order: the target host (404, then its own host 400), then the source's service (400)
    if (o.host !== undefined) {
      if (!(await this.store.getHost(o.host))) throw notFound(`Compute host ${o.host} not found.`);
      if (o.host === s.host) throw badRequest("The target host can't be the same one.");
    }
    const h = s.host ? await this.store.getHost(s.host) : null;
    if (!h || this.hosts.isUp(h)) throw badRequest(`Compute service of ${s.host ?? 'unknown'} is still in use.`);
    const migrationId = randomUUID();
    const params: EvacuateParams = {
      migrationId, ...(o.host ? { requestedHost: o.host } : {}), ...(o.host && o.force ? { force: true } : {}),
      ...(o.onSharedStorage !== undefined ? { onSharedStorage: o.onSharedStorage } : {}), ...(o.targetStopped ? { targetStopped: true } : {}),
      ...(o.adminPass ? { adminPass: o.adminPass } : {}),
    };
    await this.store.createMigration({
      uuid: migrationId, serverId: s.id, sourceCompute: s.host, sourceNode: s.node ?? s.host, destCompute: null, destNode: null, destHost: null,
      oldFlavorId: s.flavor.id, newFlavorId: s.flavor.id, status: 'accepted', migrationType: 'evacuation', projectId: s.projectId, userId: ctx.userId,
    });
    try {
      const started = await this.tasks.begin({
        def: TASKS.evacuate, serverId: id, requestId: ctx.requestId, userId: ctx.userId, projectId: ctx.projectId, eventHost: s.host,
        expect: expectFor(ctx, RULES.evacuate), changes: { taskState: RULES.evacuate.task }, params: { ...params },
      });
      if (!started) return await refused(this.store, ctx, id, RULES.evacuate);
    } catch (err) {
      // no task runs it: the record must not fence a guest that nobody rebuilt
      await this.store.updateMigration(migrationId, { status: 'error' }, ['accepted']);
      throw err;
    }
    return { migrationId };
  }

  /** Nova: locked_by is 'owner' when the server's own project locks it, else 'admin' */
  async lock(ctx: RequestContext, id: string, reason: string | null): Promise<void> {
    const s = await serverFor(this.store, ctx, id);
    await this.store.updateServer(s.id, { locked: true, lockedBy: s.projectId === ctx.projectId ? 'owner' : 'admin', lockedReason: reason });
    await this.recordDone(ctx, id, 'lock');
  }

  async unlock(ctx: RequestContext, id: string): Promise<void> {
    const s = await serverFor(this.store, ctx, id);
    // Nova's unlock_override: only an admin may lift an admin's lock
    if (s.locked && s.lockedBy === 'admin') enforce(ctx, 'os_compute_api:os-lock-server:unlock:unlock_override');
    await this.store.updateServer(s.id, { locked: false, lockedBy: null, lockedReason: null });
    await this.recordDone(ctx, id, 'unlock');
  }

  /** an action that completes immediately (lock, unlock, resetState): one instance action, finished */
  private async recordDone(ctx: RequestContext, serverId: string, action: string): Promise<void> {
    const t = new Date().toISOString();
    const a = await this.store.createInstanceAction({ serverId, action, requestId: ctx.requestId, userId: ctx.userId, projectId: ctx.projectId, startTime: t, message: null });
    await this.store.finishInstanceAction(a.id, t, null);
  }

  /** admin: force vm_state to active or error and clear the task (recovering stuck servers) */
  async resetState(ctx: RequestContext, id: string, state: 'active' | 'error'): Promise<void> {
    enforce(ctx, 'os_compute_api:os-admin-actions:reset_state');
    const s = await serverFor(this.store, ctx, id);
    await this.store.updateServer(s.id, { vmState: state, taskState: null });
    await this.recordDone(ctx, id, 'resetState');
  }
}
