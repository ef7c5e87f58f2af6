/**
 * Server actions (POST /servers/{id}/action): each passes the gate (gate.ts), records an instance action, and
 * hands the work to the driver through the task runner. Completion states follow Nova's compute manager.
 */
import { randomUUID } from 'node:crypto';
import type { Store, Server, FlavorSnapshot, Image } from '../../store/index.js';
import { isAdmin, type RequestContext } from '../context.js';
import { ApiError, badRequest, forbidden, noValidHost } from '../errors.js';
import type { ComputeTaskDriver } from './driver.js';
import { POWER } from './driver.js';
import { RULES } from './states.js';
import { gate, precheck } from './gate.js';
import { serverFor } from './access.js';
import type { TaskRunner } from './tasks.js';
import type { QuotaService } from './quotas.js';
import type { HostRegistry } from '../hosts/registry.js';
import type { ImageService } from '../images/service.js';

const vmStateFor = (power: number) => (power === POWER.SHUTDOWN ? 'stopped' : 'active');

export function snapshotOf(f: { id: string; name: string; vcpus: number; ram: number; disk: number; ephemeral: number; swap: number; extraSpecs: Record<string, string> }): FlavorSnapshot {
  return { id: f.id, name: f.name, vcpus: f.vcpus, ram: f.ram, disk: f.disk, ephemeral: f.ephemeral, swap: f.swap, extraSpecs: { ...f.extraSpecs } };
}

export class ServerActions {
  constructor(private readonly store: Store, private readonly driver: ComputeTaskDriver, private readonly tasks: TaskRunner, private readonly quotas: QuotaService, private readonly hosts: HostRegistry, private readonly images: ImageService) {}

  private async power(ctx: RequestContext, id: string, rule: (typeof RULES)[keyof typeof RULES], vmState: string,
    op: (s: Server) => Promise<{ powerState: number }>): Promise<void> {
    const s = await gate(this.store, ctx, id, rule);
    const action = await this.tasks.record(ctx, id, rule.instanceAction);
    this.tasks.start({
      server: s, action, event: rule.event, task: rule.task,
      work: async () => ({ vmState, powerState: (await op(s)).powerState }),
    });
  }

  start(ctx: RequestContext, id: string) { return this.power(ctx, id, RULES.start, 'active', (s) => this.driver.start(s, ctx)); }
  stop(ctx: RequestContext, id: string) { return this.power(ctx, id, RULES.stop, 'stopped', (s) => this.driver.stop(s, ctx)); }
  pause(ctx: RequestContext, id: string) { return this.power(ctx, id, RULES.pause, 'paused', (s) => this.driver.pause(s, ctx)); }
  unpause(ctx: RequestContext, id: string) { return this.power(ctx, id, RULES.unpause, 'active', (s) => this.driver.unpause(s, ctx)); }
  suspend(ctx: RequestContext, id: string) { return this.power(ctx, id, RULES.suspend, 'suspended', (s) => this.driver.suspend(s, ctx)); }
  resume(ctx: RequestContext, id: string) { return this.power(ctx, id, RULES.resume, 'active', (s) => this.driver.resume(s, ctx)); }
  reboot(ctx: RequestContext, id: string, hard: boolean) {
    return this.power(ctx, id, hard ? RULES.rebootHard : RULES.rebootSoft, 'active', (s) => this.driver.reboot(s, hard, ctx));
  }

  async resize(ctx: RequestContext, id: string, flavorRef: string): Promise<void> {
    const cur = await precheck(this.store, ctx, id, RULES.resize);
    const f = await this.store.getFlavor(flavorRef);
    if (!f || f.disabled) throw badRequest('Unable to locate requested flavor.');
    if (f.id === cur.flavor.id) throw badRequest('When resizing, instances must change flavor!');
    await this.quotas.checkGrowth(cur.projectId, cur.userId, f.vcpus - cur.flavor.vcpus, f.ram - cur.flavor.ram);
    const s = await gate(this.store, ctx, id, RULES.resize);
    const action = await this.tasks.record(ctx, id, RULES.resize.instanceAction);
    const nf = snapshotOf(f);
    this.tasks.start({
      server: s, action, event: RULES.resize.event, task: RULES.resize.task,
      work: async () => {
        const r = await this.driver.resize(s, nf, ctx);
        return { vmState: 'resized', flavor: nf, oldFlavor: s.flavor, powerState: r.powerState };
      },
    });
  }

  async confirmResize(ctx: RequestContext, id: string): Promise<void> {
    const s = await gate(this.store, ctx, id, RULES.confirmResize);
    const action = await this.tasks.record(ctx, id, RULES.confirmResize.instanceAction);
    this.tasks.start({
      server: s, action, event: RULES.confirmResize.event, task: RULES.confirmResize.task,
      work: async () => { await this.driver.confirmResize(s, ctx); return { vmState: vmStateFor(s.powerState), oldFlavor: null }; },
      onError: { vmState: 'error' },
    });
  }

  async revertResize(ctx: RequestContext, id: string): Promise<void> {
    const s = await gate(this.store, ctx, id, RULES.revertResize);
    const action = await this.tasks.record(ctx, id, RULES.revertResize.instanceAction);
    this.tasks.start({
      server: s, action, event: RULES.revertResize.event, task: RULES.revertResize.task,
      work: async () => {
        const r = await this.driver.revertResize(s, ctx);
        return { vmState: vmStateFor(r.powerState), flavor: s.oldFlavor ?? s.flavor, oldFlavor: null, powerState: r.powerState };
      },
      onError: { vmState: 'error' },
    });
  }

  /** returns the new image's id; the image is 'queued' until the snapshot finishes */
  async createImage(ctx: RequestContext, id: string, name: string, metadata: Record<string, string>): Promise<string> {
    const s = await gate(this.store, ctx, id, RULES.createImage);
    const imageId = randomUUID();
    const t = new Date().toISOString();
    const base = s.imageRef ? await this.store.getImage(s.imageRef) : null;
    const img: Image = {
      id: imageId, name, status: 'queued', visibility: 'private', owner: s.projectId,
      diskFormat: base?.diskFormat ?? 'qcow2', containerFormat: base?.containerFormat ?? 'bare', size: null, checksum: null,
      osHashAlgo: null, osHashValue: null, minDisk: s.flavor.disk, minRam: base?.minRam ?? 0, protected: false,
      properties: { ...(base ? pickInherited(base.properties) : {}), ...metadata, image_type: 'snapshot', instance_uuid: s.id, base_image_ref: s.imageRef, user_id: ctx.userId },
      tags: [], createdAt: t, updatedAt: t,
    };
    await this.store.createImage(img);
    const action = await this.tasks.record(ctx, id, RULES.createImage.instanceAction);
    this.tasks.start({
      server: s, action, event: RULES.createImage.event, task: RULES.createImage.task,
      work: async () => {
        await this.store.updateImage(imageId, { status: 'saving' });
        const r = await this.driver.snapshot(s, imageId, ctx);
        // a real driver leaves the bytes at images.filePath(imageId); the fake writes nothing
        if (!(await this.images.adoptFile(imageId))) await this.store.updateImage(imageId, { status: 'active', size: r.size });
        return {};
      },
      afterError: async () => { await this.store.updateImage(imageId, { status: 'killed' }); },
    });
    return imageId;
  }

  async rebuild(ctx: RequestContext, id: string, args: {
    imageRef: string; name?: string; description?: string | null; metadata?: Record<string, string>;
    accessIPv4?: string; accessIPv6?: string; keyName?: string | null; userData?: string | null; diskConfig?: 'AUTO' | 'MANUAL';
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
    const s = await gate(this.store, ctx, id, RULES.rebuild, {
      imageRef: img.id,
      kernelId: img.properties.kernel_id ?? '', ramdiskId: img.properties.ramdisk_id ?? '',
      ...(args.name !== undefined ? { name: args.name } : {}),
      ...(args.description !== undefined ? { description: args.description } : {}),
      ...(args.accessIPv4 !== undefined ? { accessIPv4: args.accessIPv4 } : {}),
      ...(args.accessIPv6 !== undefined ? { accessIPv6: args.accessIPv6 } : {}),
      ...(args.keyName !== undefined ? { keyName: args.keyName, keyData: keyData ?? null } : {}),
      ...(args.userData !== undefined ? { userData: args.userData } : {}),
      ...(args.diskConfig !== undefined ? { diskConfig: args.diskConfig } : {}),
    });
    if (args.metadata) await this.store.setServerMetadata(id, args.metadata, true);
    const action = await this.tasks.record(ctx, id, RULES.rebuild.instanceAction);
    this.tasks.start({
      server: s, action, event: RULES.rebuild.event, task: RULES.rebuild.task,
      work: async () => {
        const r = await this.driver.rebuild(s, img.id, ctx);
        return { vmState: vmStateFor(r.powerState), powerState: r.powerState, launchedAt: new Date().toISOString() };
      },
      onError: { vmState: 'error' },
    });
    return (await this.store.getServer(id))!;
  }

  /** cold migrate: no second host exists until the multi-host work lands -> Nova's NoValidHost answer */
  async migrate(ctx: RequestContext, id: string): Promise<never> {
    await precheck(this.store, ctx, id, RULES.migrate);
    throw new ApiError('no_valid_host', 'No valid host was found. No valid host found for cold migrate');
  }

  async liveMigrate(ctx: RequestContext, id: string): Promise<never> {
    await precheck(this.store, ctx, id, RULES.liveMigrate);
    throw noValidHost();
  }

  /**
   * Nova refuses to evacuate from a host whose compute service is up (a host the registry never heard of counts
   * as up: it may be running the guest). From a down host there is no second host to rebuild on yet.
   */
  async evacuate(ctx: RequestContext, id: string): Promise<never> {
    const s = await precheck(this.store, ctx, id, RULES.evacuate);
    const h = s.host ? await this.store.getHost(s.host) : null;
    if (!h || this.hosts.isUp(h)) throw badRequest(`Compute service of ${s.host ?? 'unknown'} is still in use.`);
    throw noValidHost();
  }

  /** Nova: locked_by is 'owner' when the server's own project locks it, else 'admin' */
  async lock(ctx: RequestContext, id: string, reason: string | null): Promise<void> {
    const s = await serverFor(this.store, ctx, id);
    await this.store.updateServer(s.id, { locked: true, lockedBy: s.projectId === ctx.projectId ? 'owner' : 'admin', lockedReason: reason });
    await this.tasks.recordDone(ctx, id, 'lock');
  }

  async unlock(ctx: RequestContext, id: string): Promise<void> {
    const s = await serverFor(this.store, ctx, id);
    // Nova's unlock_override: only an admin may lift an admin's lock
    if (s.locked && s.lockedBy === 'admin' && !isAdmin(ctx)) throw forbidden("Policy doesn't allow os_compute_api:os-lock-server:unlock:unlock_override to be performed.");
    await this.store.updateServer(s.id, { locked: false, lockedBy: null, lockedReason: null });
    await this.tasks.recordDone(ctx, id, 'unlock');
  }

  /** admin: force vm_state to active or error and clear the task (recovering stuck servers) */
  async resetState(ctx: RequestContext, id: string, state: 'active' | 'error'): Promise<void> {
    if (!isAdmin(ctx)) throw forbidden("Policy doesn't allow os_compute_api:os-admin-actions:reset_state to be performed.");
    const s = await serverFor(this.store, ctx, id);
    await this.store.updateServer(s.id, { vmState: state, taskState: null });
    await this.tasks.recordDone(ctx, id, 'resetState');
  }
}

/** properties a snapshot inherits from its base image (Nova copies the non-reserved ones) */
function pickInherited(p: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(p)) if (!['image_type', 'instance_uuid', 'base_image_ref', 'image_location', 'user_id'].includes(k)) out[k] = v;
  return out;
}
