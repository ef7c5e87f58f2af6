/**
 * Server lifecycle outside the action endpoint: create (validation of references, quota, min/max count), list,
 * update, delete with the soft-delete recycle bin, restore, forceDelete and the periodic reclaim.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import type { Store, Server, ServerQuery, ServerRevision, NewServer, RequestedNetwork } from '../../store/index.js';
import { isAdmin, type RequestContext } from '../context.js';
import { badRequest, forbidden, instanceLocked, invalidState } from '../errors.js';
import type { ControllerConfig } from '../config.js';
import type { ComputeTaskDriver } from './driver.js';
import { POWER } from './driver.js';
import { RULES } from './states.js';
import { gate } from './gate.js';
import { serverFor } from './access.js';
import type { TaskRunner } from './tasks.js';
import type { QuotaService } from './quotas.js';
import { snapshotOf } from './actions.js';

export interface CreateRequest {
  name: string;
  imageRef: string;
  flavorRef: string;
  minCount: number;
  maxCount: number;
  networks: 'auto' | 'none' | Array<Record<string, unknown>> | null;
  accessIPv4?: string;
  accessIPv6?: string;
  adminPass?: string;
  availabilityZone?: string;
  blockDeviceMapping?: Array<Record<string, unknown>>;
  keyName?: string;
  metadata?: Record<string, string>;
  diskConfig?: 'AUTO' | 'MANUAL';
  securityGroups?: string[];
  userData?: string;
  description?: string | null;
  tags?: string[];
  host?: string;
  hypervisorHostname?: string;
  configDrive?: boolean;
}

export interface CreateResult { servers: Server[]; adminPass: string; reservationId: string; }

/** Nova's hostname sanitisation: lower case, [a-z0-9-], at most 63 characters */
export function sanitizeHostname(name: string): string {
  const h = name.toLowerCase().replace(/[ _.]/g, '-').replace(/[^a-z0-9-]/g, '').replace(/^-+|-+$/g, '').slice(0, 63);
  return h || 'server';
}

const genPassword = () => randomBytes(9).toString('base64').replace(/[+/=]/g, 'x');

export class ServerService {
  constructor(
    private readonly store: Store,
    private readonly cfg: ControllerConfig,
    private readonly driver: ComputeTaskDriver,
    private readonly tasks: TaskRunner,
    private readonly quotas: QuotaService,
  ) {}

  get(ctx: RequestContext, id: string): Promise<Server> { return serverFor(this.store, ctx, id); }

  list(q: ServerQuery): Promise<Server[]> { return this.store.listServers(q); }

  revisions(q: ServerQuery): Promise<ServerRevision[]> { return this.store.listServerRevisions(q); }

  async create(ctx: RequestContext, r: CreateRequest): Promise<CreateResult> {
    if ((r.host !== undefined || r.hypervisorHostname !== undefined) && !isAdmin(ctx)) {
      throw forbidden("Policy doesn't allow compute:servers:create:requested_destination to be performed.");
    }
    const flavor = await this.store.getFlavor(r.flavorRef);
    if (!flavor || flavor.disabled) throw badRequest(`Flavor ${r.flavorRef} could not be found.`);
    // boot from image: imageRef, or a block_device_mapping_v2 image entry with boot_index 0
    let imageRef = r.imageRef;
    for (const bdm of r.blockDeviceMapping ?? []) {
      const src = bdm.source_type; const dst = bdm.destination_type ?? 'volume';
      if (src === 'image' && dst === 'local') { if (!imageRef && typeof bdm.uuid === 'string') imageRef = bdm.uuid; continue; }
      if ((src === 'blank' && dst === 'local')) continue;
      // volumes arrive with the volume service (a later issue)
      throw badRequest('Block Device Mapping is Invalid: volume-backed block devices are not supported yet.');
    }
    if (!imageRef) throw badRequest('Missing imageRef attribute');
    const image = await this.store.getImage(imageRef);
    if (!image || (image.visibility === 'private' && image.owner !== ctx.projectId && !isAdmin(ctx))) throw badRequest(`Image ${imageRef} could not be found.`);
    if (image.status !== 'active') throw badRequest(`Image ${imageRef} is not active.`);
    if (flavor.ram < image.minRam) throw badRequest("Flavor's memory is too small for requested image.");
    if (flavor.disk > 0 && flavor.disk < image.minDisk) throw badRequest("Flavor's disk is too small for requested image.");
    let keyData: string | null = null;
    if (r.keyName !== undefined) {
      const kp = await this.store.getKeypair(ctx.userId, r.keyName);
      if (!kp) throw badRequest('Invalid key_name provided.');
      keyData = kp.publicKey;
    }
    let az = this.cfg.defaultAvailabilityZone;
    let azHost: string | undefined;
    if (r.availabilityZone) {
      // "az", "az:host" or "az:host:node" (the host parts are admin-only in Nova)
      const [zone, host] = r.availabilityZone.split(':');
      if (host) azHost = host;
      if (host !== undefined && !isAdmin(ctx)) throw forbidden("Policy doesn't allow os_compute_api:servers:create:forced_host to be performed.");
      if (zone && zone !== this.cfg.defaultAvailabilityZone) throw badRequest(`The requested availability zone is not available`);
      az = zone || az;
    }
    if (r.minCount > r.maxCount) throw badRequest('min_count must be <= max_count');
    const requestedNetworks = this.resolveNetworks(r.networks);
    if (r.metadata) await this.quotas.checkMetadata(ctx.projectId, Object.keys(r.metadata).length);
    // Nova builds as many as quota allows between min_count and max_count
    let count = r.maxCount;
    for (;;) {
      try { await this.quotas.checkServers(ctx.projectId, ctx.userId, count, flavor.vcpus, flavor.ram); break; } catch (e) {
        if (count <= r.minCount) throw e;
        count--;
      }
    }
    const reservationId = `r-${randomBytes(6).toString('base64url').slice(0, 8).toLowerCase()}`;
    const adminPass = r.adminPass ?? genPassword();
    const t = new Date().toISOString();
    const servers: Server[] = [];
    for (let i = 0; i < count; i++) {
      const name = count > 1 ? `${r.name}-${i + 1}` : r.name;
      const ns: NewServer = {
        id: randomUUID(), name, projectId: ctx.projectId, userId: ctx.userId, imageRef: image.id, flavor: snapshotOf(flavor),
        oldFlavor: null, vmState: 'building', taskState: 'scheduling', powerState: POWER.NOSTATE,
        host: null, node: null, availabilityZone: az, keyName: r.keyName ?? null, keyData, userData: r.userData ?? null,
        accessIPv4: r.accessIPv4 ?? '', accessIPv6: r.accessIPv6 ?? '', configDrive: r.configDrive ? 'True' : '',
        diskConfig: r.diskConfig ?? 'MANUAL', description: r.description ?? null, locked: false, lockedReason: null, lockedBy: null,
        reservationId, launchIndex: i, hostname: sanitizeHostname(name), kernelId: image.properties.kernel_id ?? '',
        ramdiskId: image.properties.ramdisk_id ?? '', rootDeviceName: '/dev/vda', progress: 0, addresses: [],
        requestedNetworks, securityGroups: r.securityGroups ?? ['default'],
        blockDeviceMapping: r.blockDeviceMapping ?? [], metadata: r.metadata ?? {}, tags: r.tags ?? [], fault: null,
        createdAt: t, launchedAt: null,
      };
      const s = await this.store.createServer(ns);
      servers.push(s);
      const action = await this.tasks.record(ctx, s.id, 'create');
      this.tasks.start({
        server: s, action, event: 'compute__do_build_and_run_instance', task: 'scheduling',
        work: async () => {
          const res = await this.driver.spawn(s, ctx, { host: r.host ?? r.hypervisorHostname ?? azHost });
          return { vmState: 'active', powerState: res.powerState, host: res.host, node: res.node, addresses: res.addresses, launchedAt: new Date().toISOString(), progress: 100 };
        },
        onError: { vmState: 'error', powerState: POWER.NOSTATE },
      });
    }
    return { servers, adminPass, reservationId };
  }

  /** Nova: unknown network -> 400; 'auto' or nothing -> the default network; 'none' -> no NIC; ports need Neutron */
  private resolveNetworks(n: CreateRequest['networks']): RequestedNetwork[] {
    const nets = this.cfg.networks;
    if (n === 'none') return [];
    if (n === null || n === 'auto' || n.length === 0) return nets[0] ? [{ uuid: nets[0].id, name: nets[0].name }] : [];
    return n.map((x) => {
      if (typeof x.port === 'string' && x.port) throw badRequest(`Port ${x.port} could not be found.`);
      const uuid = typeof x.uuid === 'string' ? x.uuid : '';
      const net = nets.find((k) => k.id === uuid || k.id.replace(/-/g, '') === uuid.replace(/-/g, ''));
      if (!net) throw badRequest(`Network ${uuid} could not be found.`);
      return { uuid: net.id, name: net.name, ...(typeof x.fixed_ip === 'string' ? { fixed_ip: x.fixed_ip } : {}), ...(typeof x.tag === 'string' ? { tag: x.tag } : {}) };
    });
  }

  async update(ctx: RequestContext, id: string, c: { name?: string; hostname?: string; description?: string | null; accessIPv4?: string; accessIPv6?: string; diskConfig?: 'AUTO' | 'MANUAL' }): Promise<Server> {
    const s = await serverFor(this.store, ctx, id);
    await this.store.updateServer(s.id, {
      ...(c.name !== undefined ? { name: c.name } : {}),
      // 2.90: the guest hostname can be set explicitly; a rename alone does not change it (Nova)
      ...(c.hostname !== undefined ? { hostname: sanitizeHostname(c.hostname) } : {}),
      ...(c.description !== undefined ? { description: c.description } : {}),
      ...(c.accessIPv4 !== undefined ? { accessIPv4: c.accessIPv4 } : {}),
      ...(c.accessIPv6 !== undefined ? { accessIPv6: c.accessIPv6 } : {}),
      ...(c.diskConfig !== undefined ? { diskConfig: c.diskConfig } : {}),
    });
    return (await this.store.getServer(id))!;
  }

  /**
   * DELETE: with a reclaim interval, a launched server goes to the recycle bin (soft-delete, powered off);
   * otherwise (or when already soft-deleted, or never launched) it is destroyed. Delete is allowed during any
   * task except another delete, and wins against it: the running task's completion CAS then finds 'deleting'.
   */
  async delete(ctx: RequestContext, id: string): Promise<void> {
    const s = await serverFor(this.store, ctx, id);
    if (s.locked && !isAdmin(ctx)) throw instanceLocked(id);
    const soft = this.cfg.reclaimIntervalSeconds > 0 && s.launchedAt !== null && s.vmState !== 'soft-delete';
    const task = soft ? 'soft-deleting' : 'deleting';
    const won = await this.store.updateServerIf(id, { taskStateNot: ['deleting', 'soft-deleting'], ...(isAdmin(ctx) ? {} : { locked: false }) }, { taskState: task });
    if (!won) {
      const now = await serverFor(this.store, ctx, id);
      if (now.taskState === 'deleting' || now.taskState === 'soft-deleting') return; // already on its way: idempotent
      if (now.locked && !isAdmin(ctx)) throw instanceLocked(id);
      throw invalidState('delete', id, 'task_state', now.taskState);
    }
    const action = await this.tasks.record(ctx, id, 'delete');
    if (soft) {
      this.tasks.start({
        server: s, action, event: 'compute_soft_delete_instance', task,
        work: async () => {
          const r = s.powerState === POWER.SHUTDOWN ? { powerState: POWER.SHUTDOWN } : await this.driver.stop(s, ctx);
          return { vmState: 'soft-delete', powerState: r.powerState, deletedAt: new Date().toISOString() };
        },
      });
    } else {
      this.hardDelete(s, action, ctx);
    }
  }

  private hardDelete(s: Server, action: Awaited<ReturnType<TaskRunner['record']>>, ctx: { requestId: string }): void {
    this.tasks.start({
      server: s, action, event: 'compute_terminate_instance', task: 'deleting',
      work: async () => { await this.driver.destroy(s, ctx); return { taskState: 'deleting' }; },
      after: async () => { await this.store.markServerDeleted(s.id, new Date().toISOString()); },
    });
  }

  async restore(ctx: RequestContext, id: string): Promise<void> {
    const s = await gate(this.store, ctx, id, RULES.restore);
    const action = await this.tasks.record(ctx, id, RULES.restore.instanceAction);
    this.tasks.start({
      server: s, action, event: RULES.restore.event, task: RULES.restore.task,
      work: async () => { const r = await this.driver.start(s, ctx); return { vmState: 'active', powerState: r.powerState, deletedAt: null }; },
    });
  }

  async forceDelete(ctx: RequestContext, id: string): Promise<void> {
    const s = await gate(this.store, ctx, id, RULES.forceDelete);
    const action = await this.tasks.record(ctx, id, RULES.forceDelete.instanceAction);
    this.hardDelete(s, action, ctx);
  }

  /** periodic: hard-delete servers that sat in the recycle bin longer than the reclaim interval */
  async reclaim(nowMs = Date.now()): Promise<number> {
    if (this.cfg.reclaimIntervalSeconds <= 0) return 0;
    const due = await this.store.listReclaimable(new Date(nowMs - this.cfg.reclaimIntervalSeconds * 1000).toISOString());
    let n = 0;
    for (const s of due) {
      if (!(await this.store.updateServerIf(s.id, { taskState: null, vmState: ['soft-delete'] }, { taskState: 'deleting' }))) continue;
      const ctx = { requestId: `req-${randomUUID()}`, userId: s.userId, projectId: s.projectId } as RequestContext;
      const action = await this.tasks.record(ctx, s.id, 'delete', 'reclaim');
      this.hardDelete(s, action, ctx);
      n++;
    }
    return n;
  }
}

