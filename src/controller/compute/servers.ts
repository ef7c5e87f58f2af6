/**
 * Server lifecycle outside the action endpoint: create (validation of references, quota, min/max count), list,
 * update, delete with the soft-delete recycle bin, restore, forceDelete and the periodic reclaim.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import type { Image, Store, Server, ServerQuery, ServerRevision, NewServer } from '../../store/index.js';
import { isAdmin, type RequestContext } from '../context.js';
import { badRequest, forbidden, instanceLocked, invalidState } from '../errors.js';
import type { ControllerConfig } from '../config.js';
import { POWER } from './power.js';
import { serverFor } from './access.js';
import { RULES } from './states.js';
import { canonicalIPv6 } from '../../common/ipv6.js';
import type { QuotaService } from './quotas.js';
import { snapshotOf, type ServerActions } from './actions.js';
import type { TaskEngine } from '../tasks/engine.js';
import { TASKS } from '../tasks/registry.js';
import type { ServerGroupService } from './server-groups.js';
import { enforce } from '../policy/policy.js';
import type { ServerPorts } from '../network/server-ports.js';
import { imageDefinedBdms, mergeImageBdms, parseBlockDevices } from './block-devices.js';
import { chooseDevices, type BootVolumes } from '../volumes/boot-volumes.js';

const RESERVATION_CHARS = '0123456789abcdefghijklmnopqrstuvwxyz';

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
  /** Nova's scheduler hints: a server group to join, same_host / different_host server lists */
  schedulerHints?: { group?: string; sameHost?: string[]; differentHost?: string[] };
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
    private readonly tasks: TaskEngine,
    private readonly quotas: QuotaService,
    private readonly actions: ServerActions,
    private readonly groups: ServerGroupService,
    private readonly net: ServerPorts,
    private readonly bootVolumes?: BootVolumes,
    /** the availability zones a create may name (host aggregates) */
    private readonly zones?: { availableZones(): Promise<Set<string>> },
  ) {}

  get(ctx: RequestContext, id: string): Promise<Server> { return serverFor(this.store, ctx, id); }

  list(q: ServerQuery): Promise<Server[]> { return this.store.listServers(q); }

  revisions(q: ServerQuery): Promise<ServerRevision[]> { return this.store.listServerRevisions(q); }

  /** the image, when the caller may see it (another project's private image is as good as missing) */
  private async visibleImage(ctx: RequestContext, id: string): Promise<Image | null> {
    const image = id ? await this.store.getImage(id) : null;
    return image && !(image.visibility === 'private' && image.owner !== ctx.projectId && !isAdmin(ctx)) ? image : null;
  }

  async create(ctx: RequestContext, r: CreateRequest): Promise<CreateResult> {
    if ((r.host !== undefined || r.hypervisorHostname !== undefined) && !isAdmin(ctx)) {
      throw forbidden("Policy doesn't allow compute:servers:create:requested_destination to be performed.");
    }
    const flavor = await this.store.getFlavor(r.flavorRef);
    if (!flavor || flavor.disabled) throw badRequest(`Flavor ${r.flavorRef} could not be found.`);
    // boot from image (imageRef, or an image -> local mapping at boot_index 0) or from a volume at boot_index 0;
    // a volume-backed server's snapshot image boots from new volumes made from its snapshots (Nova)
    const requestedImage = await this.visibleImage(ctx, r.imageRef);
    const bdms = parseBlockDevices(mergeImageBdms(requestedImage ? imageDefinedBdms(requestedImage.properties) : [], r.blockDeviceMapping ?? []), r.imageRef);
    if (bdms.volumes.length && !this.bootVolumes) throw badRequest('Block Device Mapping is Invalid: this cloud has no block storage.');
    if (bdms.volumes.some((v) => v.sourceType === 'volume') && r.maxCount > 1) {
      throw badRequest('Block Device Mapping is Invalid: a volume cannot be attached to more than one server (min_count/max_count > 1).');
    }
    const volumeRoot = bdms.volumes[0]?.bootIndex === 0 ? bdms.volumes[0] : null;
    // the image the server was made from: none when it boots from a volume (Nova's image_ref '')
    const imageRef = bdms.imageRef ?? (volumeRoot?.sourceType === 'image' ? volumeRoot.uuid : null);
    const image = imageRef ? (imageRef === r.imageRef ? requestedImage : await this.visibleImage(ctx, imageRef)) : null;
    if (imageRef) {
      if (!image) throw badRequest(`Image ${imageRef} could not be found.`);
      if (image.status !== 'active') throw badRequest(`Image ${imageRef} is not active.`);
      if (flavor.ram < image.minRam) throw badRequest("Flavor's memory is too small for requested image.");
      if (!volumeRoot && flavor.disk > 0 && flavor.disk < image.minDisk) throw badRequest("Flavor's disk is too small for requested image.");
      if (volumeRoot?.volumeSize && volumeRoot.volumeSize < image.minDisk) throw badRequest(`Volume is smaller than the minimum size specified in image metadata. Volume size is ${volumeRoot.volumeSize * 1024 ** 3} bytes, minimum size is ${image.minDisk * 1024 ** 3} bytes.`);
    }
    const devices = chooseDevices(bdms.volumes, { ephemeral: flavor.ephemeral > 0, swap: flavor.swap > 0 });
    // AMI-style images boot their kernel and ramdisk directly, from a volume too (Nova reads them from the
    // volume's image metadata): the image a root volume was made from says which
    const rootVolumeImage = volumeRoot?.sourceType === 'volume' ? await this.bootVolumes!.rootImageOf(ctx, volumeRoot.uuid!)
      : volumeRoot?.sourceType === 'snapshot' ? await this.bootVolumes!.rootImageOfSnapshot(ctx, volumeRoot.uuid!) : null;
    const bootImage = rootVolumeImage ? await this.store.getImage(rootVolumeImage) : image;
    let keyData: string | null = null;
    if (r.keyName !== undefined) {
      const kp = await this.store.getKeypair(ctx.userId, r.keyName);
      if (!kp) throw badRequest('Invalid key_name provided.');
      keyData = kp.publicKey;
    }
    let az = this.cfg.defaultAvailabilityZone;
    let azHost: string | undefined;
    /** the zone the create names: placement and every later move keep the server in it (Nova's request_spec) */
    let requestedZone: string | null = null;
    if (r.availabilityZone) {
      // "az", "az:host", "az:host:node" or "az::node" (the host parts are admin-only in Nova)
      const [zone, host, node] = r.availabilityZone.split(':');
      if (host) azHost = host;
      else if (node) azHost = node; // one node per host here: the node names its host
      if (host !== undefined) enforce(ctx, 'os_compute_api:servers:create:forced_host');
      const available = this.zones ? await this.zones.availableZones() : new Set([this.cfg.defaultAvailabilityZone]);
      if (zone && !available.has(zone)) throw badRequest('The requested availability zone is not available');
      if (zone) requestedZone = zone;
      az = zone || az;
    }
    if (r.minCount > r.maxCount) throw badRequest('min_count must be <= max_count');
    const requestedNetworks = await this.net.resolve(ctx, r.networks, r.maxCount);
    // Nova: a group that is not the project's is 400 (a name or, from openstackclient, an id)
    const securityGroups = await this.net.resolveGroups(ctx, r.securityGroups ?? ['default']);
    if (r.metadata) await this.quotas.checkMetadata(ctx.projectId, Object.keys(r.metadata).length);
    // Nova builds as many as quota allows between min_count and max_count
    let count = r.maxCount;
    for (;;) {
      try { await this.quotas.checkServers(ctx.projectId, ctx.userId, count, flavor.vcpus, flavor.ram); break; } catch (e) {
        if (count <= r.minCount) throw e;
        count--;
      }
    }
    const requestedHost = r.host ?? r.hypervisorHostname ?? azHost;
    // `az:host` forces (no filters, Nova's force_hosts); 2.74's host / hypervisor_hostname only request (filters apply)
    const forceHost = azHost !== undefined && r.host === undefined && r.hypervisorHostname === undefined;
    const hints = r.schedulerHints ?? {};
    const group = hints.group ? await this.groups.checkJoin(ctx, hints.group, count) : null;
    // Nova's utils.generate_uid('r'): 'r-' and 8 of [0-9a-z]
    const reservationId = `r-${[...randomBytes(8)].map((b) => RESERVATION_CHARS[b % RESERVATION_CHARS.length]).join('')}`;
    const adminPass = r.adminPass ?? genPassword();
    const t = new Date().toISOString();
    const servers: Server[] = [];
    for (let i = 0; i < count; i++) {
      const name = count > 1 ? `${r.name}-${i + 1}` : r.name;
      const ns: NewServer = {
        id: randomUUID(), name, projectId: ctx.projectId, userId: ctx.userId, imageRef: volumeRoot ? '' : image!.id, flavor: snapshotOf(flavor),
        oldFlavor: null, vmState: 'building', taskState: 'scheduling', powerState: POWER.NOSTATE,
        host: null, node: null, availabilityZone: az, requestedZone, keyName: r.keyName ?? null, keyData, userData: r.userData ?? null,
        accessIPv4: r.accessIPv4 ?? '', accessIPv6: canonicalIPv6(r.accessIPv6 ?? ''), configDrive: r.configDrive ? 'True' : '',
        diskConfig: r.diskConfig ?? 'MANUAL', description: r.description ?? null, locked: false, lockedReason: null, lockedBy: null,
        reservationId, launchIndex: i, hostname: sanitizeHostname(name), kernelId: bootImage?.properties.kernel_id ?? '',
        ramdiskId: bootImage?.properties.ramdisk_id ?? '', rootDeviceName: '/dev/vda', progress: 0, addresses: [],
        requestedNetworks, securityGroups,
        blockDeviceMapping: bdms.normalized, metadata: r.metadata ?? {}, tags: r.tags ?? [], fault: null,
        createdAt: t, launchedAt: null,
      };
      // a member from the start (as Nova's API does), before the task can place it
      if (group) await this.store.addServerGroupMember(group.id, ns.id);
      // volumes passed in are the server's from now on (a volume in use is a 400 here, before anything starts)
      const reserved = bdms.volumes.length ? await this.bootVolumes!.reserveGiven(ctx, ns.id, bdms.volumes, devices) : [];
      // the row, its instance action and the build task in one transaction; the task places it and builds it
      try {
        await this.tasks.begin({
          def: TASKS.create, serverId: ns.id, newServer: ns, requestId: ctx.requestId, userId: ctx.userId, projectId: ctx.projectId,
          params: {
            ...(requestedHost ? { requestedHost } : {}), ...(forceHost ? { forceHost } : {}),
            ...(group ? { group: group.id } : {}),
            ...(hints.sameHost?.length ? { sameHost: hints.sameHost } : {}), ...(hints.differentHost?.length ? { differentHost: hints.differentHost } : {}),
            // for the config drive; kept on the task row only while the task runs (the row goes when it ends)
            adminPass,
          },
        });
      } catch (err) {
        await this.bootVolumes?.releaseReserved(reserved.map((a) => a.id));
        throw err;
      }
      servers.push((await this.store.getServer(ns.id))!);
    }
    return { servers, adminPass, reservationId };
  }

  async update(ctx: RequestContext, id: string, c: { name?: string; hostname?: string; description?: string | null; accessIPv4?: string; accessIPv6?: string; diskConfig?: 'AUTO' | 'MANUAL' }): Promise<Server> {
    const s = await serverFor(this.store, ctx, id);
    await this.store.updateServer(s.id, {
      ...(c.name !== undefined ? { name: c.name } : {}),
      // 2.90: the guest hostname can be set explicitly; a rename alone does not change it (Nova)
      ...(c.hostname !== undefined ? { hostname: sanitizeHostname(c.hostname) } : {}),
      ...(c.description !== undefined ? { description: c.description } : {}),
      ...(c.accessIPv4 !== undefined ? { accessIPv4: c.accessIPv4 } : {}),
      ...(c.accessIPv6 !== undefined ? { accessIPv6: canonicalIPv6(c.accessIPv6) } : {}),
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
    // the swap and the task's start are one transaction; delete is allowed during any task but another delete,
    // and the running task is cancelled by the delete's first step
    const row = await this.tasks.begin({
      def: soft ? TASKS.soft_delete : TASKS.delete, serverId: id, requestId: ctx.requestId, userId: ctx.userId, projectId: ctx.projectId,
      eventHost: s.host, expect: { taskStateNot: ['deleting', 'soft-deleting'], ...(isAdmin(ctx) ? {} : { locked: false }) },
      changes: { taskState: soft ? TASKS.soft_delete.taskState : TASKS.delete.taskState },
    });
    if (!row) {
      const now = await serverFor(this.store, ctx, id);
      if (now.taskState === 'deleting' || now.taskState === 'soft-deleting') return; // already on its way: idempotent
      if (now.locked && !isAdmin(ctx)) throw instanceLocked(id);
      throw invalidState('delete', id, 'task_state', now.taskState);
    }
  }

  async restore(ctx: RequestContext, id: string): Promise<void> { await this.actions.perform(ctx, id, TASKS.restore); }

  async forceDelete(ctx: RequestContext, id: string): Promise<void> { await this.actions.perform(ctx, id, TASKS.delete, { rule: RULES.forceDelete }); }

  /** periodic: hard-delete servers that sat in the recycle bin longer than the reclaim interval */
  async reclaim(nowMs = Date.now()): Promise<number> {
    if (this.cfg.reclaimIntervalSeconds <= 0) return 0;
    const due = await this.store.listReclaimable(new Date(nowMs - this.cfg.reclaimIntervalSeconds * 1000).toISOString());
    let n = 0;
    for (const s of due) {
      const row = await this.tasks.begin({
        def: TASKS.delete, serverId: s.id, requestId: `req-${randomUUID()}`, userId: s.userId, projectId: s.projectId, message: 'reclaim',
        eventHost: s.host, expect: { taskState: null, vmState: ['soft-delete'] }, changes: { taskState: 'deleting' },
      });
      if (row) n++;
    }
    return n;
  }
}

