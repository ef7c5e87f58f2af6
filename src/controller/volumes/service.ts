/**
 * Volumes, snapshots and volume types (Cinder's volume API): validation, quotas, and the status machine. Every
 * status change is a compare-and-swap on the current status; the backend work (create, copy, extend, remove)
 * runs after the API answered, as in Cinder (202 with status creating), and ends in a second swap to the
 * result (available) or to error. A controller restart finishes what was interrupted (recover()).
 */
import { randomUUID } from 'node:crypto';
import type { Store, Volume, VolumeSnapshot, VolumeStatus, VolumeType } from '../../store/index.js';
import type { ControllerConfig } from '../config.js';
import { canWrite, isAdmin, isAdminOrOwner, type RequestContext } from '../context.js';
import type { ImageService } from '../images/service.js';
import { ApiError, badRequest, forbidden } from '../errors.js';
import type { VolumeBackend, VolumeSource } from './backends/backend.js';
import { FileBackend } from './backends/file.js';
import { RbdBackend } from './backends/rbd.js';
import { VOLUME_QUOTA_DEFAULTS, volumeDir, type VolumeQuotaSet } from './config.js';
import { invalidInput, invalidSnapshot, invalidVolume, overQuota, snapshotNotFound, typeNotFound, volumeNotFound } from './errors.js';

export const DEFAULT_TYPE = '__DEFAULT__';
/** statuses a volume may be deleted from (cinder/volume/api.py delete) */
const DELETABLE: readonly VolumeStatus[] = ['available', 'error', 'error_extending', 'error_deleting'];
export const RESETTABLE: readonly VolumeStatus[] = ['creating', 'available', 'reserved', 'attaching', 'in-use', 'detaching', 'deleting', 'error', 'error_deleting', 'extending', 'error_extending'];

export interface VolumeLogger { error(obj: object, msg: string): void }

export interface CreateVolume {
  size?: number;
  name?: string | null;
  description?: string | null;
  volumeType?: string | null;
  availabilityZone?: string | null;
  snapshotId?: string | null;
  sourceVolid?: string | null;
  imageRef?: string | null;
  metadata?: Record<string, string>;
}

export class VolumeService {
  readonly backends = new Map<string, VolumeBackend>();
  private readonly jobs = new Set<Promise<void>>();
  private readonly defaultBackend: string;

  constructor(private readonly store: Store, private readonly cfg: ControllerConfig, private readonly images: ImageService, private readonly log?: VolumeLogger) {
    const c = cfg.volumes;
    this.backends.set('file', new FileBackend(volumeDir(cfg.imageDir, c), c?.fileFormat ?? 'qcow2'));
    if (c?.rbd) this.backends.set('rbd', new RbdBackend(c.rbd));
    this.defaultBackend = c?.defaultBackend ?? 'file';
  }

  /** a backend by name (tests put a failing one in place) */
  setBackend(name: string, b: VolumeBackend): void { this.backends.set(name, b); }

  /** every running backend job has finished (tests) */
  async idle(): Promise<void> {
    while (this.jobs.size) await Promise.allSettled([...this.jobs]);
  }

  /** backend work after the answer; its failure is recorded by `onError`, never thrown at anyone */
  private background(what: string, work: () => Promise<void>, onError: (err: unknown) => Promise<void>): void {
    const p = work().catch(async (err: unknown) => {
      this.log?.error({ err }, `volume ${what} failed`);
      await onError(err).catch((e: unknown) => this.log?.error({ err: e }, `volume ${what}: recording the failure failed`));
    }).finally(() => { this.jobs.delete(p); });
    this.jobs.add(p);
  }

  backendOf(v: Pick<Volume, 'backend'>): VolumeBackend {
    const b = this.backends.get(v.backend);
    if (!b) throw invalidVolume(`volume backend ${v.backend} is not configured`);
    return b;
  }

  // ---- volume types ----

  async defaultType(): Promise<VolumeType> {
    const t = await this.store.getVolumeType(DEFAULT_TYPE);
    if (t) return t;
    try {
      await this.store.createVolumeType({ id: randomUUID(), name: DEFAULT_TYPE, description: 'Default Volume Type', isPublic: true, extraSpecs: {}, createdAt: new Date().toISOString() });
    } catch { /* another request created it */ }
    return (await this.store.getVolumeType(DEFAULT_TYPE))!;
  }

  async listTypes(ctx: RequestContext): Promise<VolumeType[]> {
    await this.defaultType();
    return (await this.store.listVolumeTypes()).filter((t) => t.isPublic || isAdmin(ctx));
  }

  async getType(ctx: RequestContext, idOrName: string): Promise<VolumeType> {
    if (idOrName === 'default') return this.defaultType();
    await this.defaultType();
    const t = await this.store.getVolumeType(idOrName);
    if (!t || (!t.isPublic && !isAdmin(ctx))) throw typeNotFound(idOrName);
    return t;
  }

  async createType(ctx: RequestContext, b: { name: string; description?: string | null; isPublic?: boolean; extraSpecs?: Record<string, string> }): Promise<VolumeType> {
    if (!isAdmin(ctx)) throw forbidden('Policy doesn\'t allow volume_extension:types_manage to be performed.');
    if (await this.store.getVolumeType(b.name)) throw new ApiError('conflict', `Volume Type ${b.name} already exists.`);
    const t: VolumeType = { id: randomUUID(), name: b.name, description: b.description ?? null, isPublic: b.isPublic ?? true, extraSpecs: b.extraSpecs ?? {}, createdAt: new Date().toISOString() };
    await this.store.createVolumeType(t);
    return t;
  }

  async updateType(ctx: RequestContext, id: string, changes: Partial<Pick<VolumeType, 'name' | 'description' | 'isPublic' | 'extraSpecs'>>): Promise<VolumeType> {
    if (!isAdmin(ctx)) throw forbidden('Policy doesn\'t allow volume_extension:types_manage to be performed.');
    const t = await this.getType(ctx, id);
    return (await this.store.updateVolumeType(t.id, changes))!;
  }

  async deleteType(ctx: RequestContext, id: string): Promise<void> {
    if (!isAdmin(ctx)) throw forbidden('Policy doesn\'t allow volume_extension:types_manage to be performed.');
    const t = await this.getType(ctx, id);
    if (t.name === DEFAULT_TYPE) throw badRequest('Default volume type can not be deleted.');
    if (await this.store.countVolumesOfType(t.id)) throw badRequest(`Target volume type is still in use. Volume Type ${t.id} deletion is not allowed with volumes present with the type.`);
    await this.store.deleteVolumeType(t.id);
  }

  // ---- quotas ----

  async quotaLimits(projectId: string): Promise<VolumeQuotaSet> {
    const over = await this.store.getQuotaLimits(projectId);
    const out = { ...VOLUME_QUOTA_DEFAULTS, ...this.cfg.volumes?.quotaDefaults };
    for (const k of Object.keys(out) as Array<keyof VolumeQuotaSet>) if (typeof (over as Record<string, unknown>)[k] === 'number') out[k] = (over as Record<string, number>)[k]!;
    return out;
  }

  async quotaUsage(projectId: string) { return this.store.volumeUsage(projectId); }

  async updateQuotas(ctx: RequestContext, projectId: string, changes: Partial<VolumeQuotaSet>): Promise<VolumeQuotaSet> {
    if (!isAdmin(ctx)) throw forbidden('Policy doesn\'t allow volume_extension:quotas:update to be performed.');
    await this.store.setQuotaLimits(projectId, changes as Record<string, number>);
    return this.quotaLimits(projectId);
  }

  /** Cinder's 413s: size per volume, total gigabytes, count of volumes (or snapshots) */
  private async checkQuota(projectId: string, o: { volumes?: number; snapshots?: number; gigabytes: number }): Promise<void> {
    const lim = await this.quotaLimits(projectId);
    const use = await this.store.volumeUsage(projectId);
    if (o.volumes && lim.per_volume_gigabytes >= 0 && o.gigabytes > lim.per_volume_gigabytes) {
      throw overQuota(`VolumeSizeExceedsLimit: Requested volume size ${o.gigabytes}G is larger than maximum allowed limit ${lim.per_volume_gigabytes}G.`);
    }
    if (lim.gigabytes >= 0 && use.gigabytes + o.gigabytes > lim.gigabytes) {
      throw overQuota(`VolumeSizeExceedsAvailableQuota: Requested volume or snapshot exceeds allowed gigabytes quota. Requested ${o.gigabytes}G, quota is ${lim.gigabytes}G and ${use.gigabytes}G has been consumed.`);
    }
    if (o.volumes && lim.volumes >= 0 && use.volumes + o.volumes > lim.volumes) {
      throw overQuota(`VolumeLimitExceeded: Maximum number of volumes allowed (${lim.volumes}) exceeded for quota 'volumes'.`);
    }
    if (o.snapshots && lim.snapshots >= 0 && use.snapshots + o.snapshots > lim.snapshots) {
      throw overQuota(`SnapshotLimitExceeded: Maximum number of snapshots allowed (${lim.snapshots}) exceeded for quota 'snapshots'.`);
    }
  }

  // ---- volumes ----

  /** the volume if the caller may see it (another project's is 404, as in Cinder) */
  async get(ctx: RequestContext, id: string): Promise<Volume> {
    const v = await this.store.getVolume(id);
    if (!v || !isAdminOrOwner(ctx, v.projectId)) throw volumeNotFound(id);
    return v;
  }

  async list(ctx: RequestContext, q: { allTenants?: boolean; projectId?: string; name?: string; status?: string }): Promise<Volume[]> {
    const projectId = isAdmin(ctx) && q.allTenants ? (q.projectId ?? null) : ctx.projectId;
    return this.store.listVolumes({ projectId, ...(q.name !== undefined ? { name: q.name } : {}), ...(q.status !== undefined ? { status: q.status } : {}) });
  }

  private writable(ctx: RequestContext): void {
    if (!canWrite(ctx)) throw forbidden();
  }

  async create(ctx: RequestContext, b: CreateVolume): Promise<Volume> {
    this.writable(ctx);
    const sources = [b.snapshotId, b.sourceVolid, b.imageRef].filter((x) => x !== undefined && x !== null);
    if (sources.length > 1) throw invalidInput('Only one of snapshot_id, source_volid and imageRef may be given.');
    let source: VolumeSource = { kind: 'blank' };
    let size = b.size;
    let typeHint: string | null = b.volumeType ?? null;
    let bootable = false;
    let imageId: string | null = null;
    let backendName: string | null = null;
    if (b.snapshotId) {
      const s = await this.getSnapshot(ctx, b.snapshotId);
      if (s.status !== 'available') throw invalidSnapshot(`Originating snapshot status must be one of 'available' values`);
      const from = await this.store.getVolume(s.volumeId);
      source = { kind: 'snapshot', location: s.location!, format: from?.format ?? 'qcow2' };
      size ??= s.size;
      if (size < s.size) throw invalidInput(`Volume size '${size}'GB cannot be smaller than the snapshot size ${s.size}GB. They must be >= original snapshot size.`);
      typeHint ??= from?.volumeTypeId ?? null;
      backendName = from?.backend ?? null;
      bootable = from?.bootable ?? false;
      // Cinder copies the image metadata along (volume_glance_metadata): a server booted from the new volume boots
      // like one from the original (an AMI-style image's kernel and ramdisk, its properties)
      imageId = from?.imageId ?? null;
    } else if (b.sourceVolid) {
      const from = await this.get(ctx, b.sourceVolid);
      if (!['available', 'in-use'].includes(from.status)) throw invalidVolume(`Volume ${from.id} status must be available or in-use, but current status is: ${from.status}.`);
      source = { kind: 'volume', location: from.location!, format: from.format };
      size ??= from.size;
      if (size < from.size) throw invalidInput(`Volume size '${size}'GB cannot be smaller than original volume size  ${from.size}GB. They must be >= original volume size.`);
      typeHint ??= from.volumeTypeId;
      backendName = from.backend;
      bootable = from.bootable;
      imageId = from.imageId;
    } else if (b.imageRef) {
      const img = await this.images.get(ctx, b.imageRef).catch(() => { throw invalidInput(`Invalid image identifier or unable to access requested image.`); });
      if (img.status !== 'active') throw invalidInput(`Image ${img.id} is not active.`);
      const minGiB = Math.max(1, Math.ceil((img.size ?? 0) / 1024 ** 3), img.minDisk);
      size ??= minGiB;
      if (size < minGiB) throw invalidInput(`Volume size ${size}GB cannot be smaller than the image minDisk size ${minGiB}GB.`);
      source = { kind: 'image', path: this.images.filePath(img.id), format: img.diskFormat === 'raw' ? 'raw' : 'qcow2' };
      bootable = true;
      imageId = img.id;
    }
    if (size === undefined || !Number.isInteger(size) || size < 1) throw invalidInput(`Volume size '${String(size ?? b.size)}' must be an integer and greater than 0`);
    const type = typeHint ? await this.getType(ctx, typeHint).catch(() => { throw typeNotFound(typeHint!); }) : await this.defaultType();
    backendName = type.extraSpecs.volume_backend_name ?? backendName ?? this.defaultBackend;
    const az = b.availabilityZone ?? this.cfg.defaultAvailabilityZone;
    if (az !== this.cfg.defaultAvailabilityZone) throw invalidInput(`Availability zone '${az}' is invalid.`);
    await this.checkQuota(ctx.projectId, { volumes: 1, gigabytes: size });
    const t = new Date().toISOString();
    const v: Volume = {
      id: randomUUID(), projectId: ctx.projectId, userId: ctx.userId, name: b.name ?? null, description: b.description ?? null,
      size, status: 'creating', volumeTypeId: type.id, availabilityZone: az, bootable, sourceVolid: b.sourceVolid ?? null,
      snapshotId: b.snapshotId ?? null, imageId, backend: backendName, location: null, format: 'raw', metadata: b.metadata ?? {},
      createdAt: t, updatedAt: t,
    };
    await this.store.createVolume(v);
    const backend = this.backends.get(backendName);
    if (!backend) {
      // Cinder: no backend can take it -> the volume exists, in error
      this.log?.error({ volumeId: v.id, backend: backendName }, 'no such volume backend');
      return (await this.store.updateVolume(v.id, { status: 'error' }, ['creating']))!;
    }
    const src = source;
    this.background('create', async () => {
      const made = await backend.create(v.id, size!, src);
      if (!(await this.store.updateVolume(v.id, { status: 'available', location: made.location, format: made.format }, ['creating']))) {
        // reset or deleted meanwhile: the bytes belong to nobody
        await backend.remove(made.location);
      }
    }, async () => { await this.store.updateVolume(v.id, { status: 'error' }, ['creating']); });
    return v;
  }

  async update(ctx: RequestContext, id: string, changes: { name?: string | null; description?: string | null; metadata?: Record<string, string> }): Promise<Volume> {
    this.writable(ctx);
    await this.get(ctx, id);
    return (await this.store.updateVolume(id, changes))!;
  }

  async setBootable(ctx: RequestContext, id: string, bootable: boolean): Promise<void> {
    this.writable(ctx);
    await this.get(ctx, id);
    await this.store.updateVolume(id, { bootable });
  }

  async delete(ctx: RequestContext, id: string, o: { cascade?: boolean; force?: boolean } = {}): Promise<void> {
    this.writable(ctx);
    const v = await this.get(ctx, id);
    if (o.force && !isAdmin(ctx)) throw forbidden('Policy doesn\'t allow volume_extension:volume_admin_actions:force_delete to be performed.');
    const snaps = await this.store.listSnapshots(null, id);
    if (snaps.length && !o.cascade) throw invalidVolume(`Volume still has ${snaps.length} dependent snapshots.`);
    if ((await this.store.listAttachments({ volumeId: id })).length && !o.force) {
      throw invalidVolume('Volume status must be available or error or error_restoring or error_extending or error_managing and must not be migrating, attached, belong to a group, have snapshots, awaiting a transfer, or be disassociated from snapshots after volume transfer.');
    }
    const from: readonly VolumeStatus[] = o.force ? RESETTABLE : DELETABLE;
    if (!(await this.store.updateVolume(id, { status: 'deleting' }, from))) {
      throw invalidVolume(`Volume status must be available or error or error_restoring or error_extending or error_managing and must not be migrating, attached, belong to a group, have snapshots, awaiting a transfer, or be disassociated from snapshots after volume transfer.`);
    }
    this.removeInBackground(v, snaps);
  }

  /** the bytes of a volume in 'deleting' (and its snapshots), then the rows; error_deleting if the backend fails */
  private removeInBackground(v: Volume, snaps: VolumeSnapshot[]): void {
    this.background('delete', async () => {
      const backend = this.backendOf(v);
      for (const s of snaps) {
        if (s.location) await backend.removeSnapshot(s.location);
        await this.store.deleteSnapshot(s.id);
      }
      await backend.remove(v.location ?? backend.locationOf(v.id));
      await this.store.deleteVolume(v.id);
    }, async () => { await this.store.updateVolume(v.id, { status: 'error_deleting' }, ['deleting']); });
  }

  /** a volume deleted by the system (delete_on_termination): no caller, no policy */
  async deleteOwned(id: string): Promise<void> {
    const v = await this.store.getVolume(id);
    if (!v || !(await this.store.updateVolume(id, { status: 'deleting' }, DELETABLE))) return;
    this.removeInBackground(v, await this.store.listSnapshots(null, id));
  }

  async extend(ctx: RequestContext, id: string, newSize: unknown): Promise<void> {
    this.writable(ctx);
    const v = await this.get(ctx, id);
    if (typeof newSize !== 'number' || !Number.isInteger(newSize) || newSize < 1) throw invalidInput(`New size for extend must be an integer and greater than 0.`);
    if (v.status !== 'available') throw invalidVolume(`Volume status must be 'available' to extend, currently ${v.status}.`);
    if (newSize <= v.size) throw invalidInput(`New size for extend must be greater than current size. (current: ${v.size}, extended: ${newSize}).`);
    await this.checkQuota(v.projectId, { gigabytes: newSize - v.size });
    if (!(await this.store.updateVolume(id, { status: 'extending' }, ['available']))) throw invalidVolume(`Volume status must be 'available' to extend.`);
    this.background('extend', async () => {
      await this.backendOf(v).extend(v.location!, v.format, newSize);
      await this.store.updateVolume(id, { status: 'available', size: newSize }, ['extending']);
    }, async () => { await this.store.updateVolume(id, { status: 'error_extending' }, ['extending']); });
  }

  /** os-reset_status (admin): the record only, nothing on the backend */
  async resetStatus(ctx: RequestContext, id: string, status: unknown): Promise<void> {
    if (!isAdmin(ctx)) throw forbidden('Policy doesn\'t allow volume_extension:volume_admin_actions:reset_status to be performed.');
    await this.get(ctx, id);
    if (typeof status !== 'string' || !RESETTABLE.includes(status as VolumeStatus)) throw invalidInput(`'${String(status)}' is not a valid status`);
    await this.store.updateVolume(id, { status: status as VolumeStatus });
  }

  // ---- snapshots ----

  async getSnapshot(ctx: RequestContext, id: string): Promise<VolumeSnapshot> {
    const s = await this.store.getSnapshot(id);
    if (!s || !isAdminOrOwner(ctx, s.projectId)) throw snapshotNotFound(id);
    return s;
  }

  async listSnapshots(ctx: RequestContext, q: { allTenants?: boolean; volumeId?: string }): Promise<VolumeSnapshot[]> {
    return this.store.listSnapshots(isAdmin(ctx) && q.allTenants ? null : ctx.projectId, q.volumeId);
  }

  async createSnapshot(ctx: RequestContext, b: { volumeId: string; name?: string | null; description?: string | null; force?: boolean; metadata?: Record<string, string> }): Promise<VolumeSnapshot> {
    this.writable(ctx);
    const v = await this.get(ctx, b.volumeId);
    const ok = v.status === 'available' || (b.force && v.status === 'in-use');
    if (!ok) throw invalidVolume(`Volume ${v.id} status must be available, but current status is: ${v.status}.`);
    await this.checkQuota(v.projectId, { snapshots: 1, gigabytes: v.size });
    const t = new Date().toISOString();
    const s: VolumeSnapshot = {
      id: randomUUID(), projectId: v.projectId, userId: ctx.userId, volumeId: v.id, name: b.name ?? null, description: b.description ?? null,
      size: v.size, status: 'creating', location: null, metadata: b.metadata ?? {}, createdAt: t, updatedAt: t,
    };
    await this.store.createSnapshot(s);
    this.background('snapshot', async () => {
      const made = await this.backendOf(v).snapshot(v.location!, v.format, s.id);
      if (!(await this.store.updateSnapshot(s.id, { status: 'available', location: made.location }, ['creating']))) await this.backendOf(v).removeSnapshot(made.location);
    }, async () => { await this.store.updateSnapshot(s.id, { status: 'error' }, ['creating']); });
    return s;
  }

  async updateSnapshot(ctx: RequestContext, id: string, changes: { name?: string | null; description?: string | null }): Promise<VolumeSnapshot> {
    this.writable(ctx);
    await this.getSnapshot(ctx, id);
    return (await this.store.updateSnapshot(id, changes))!;
  }

  async deleteSnapshot(ctx: RequestContext, id: string): Promise<void> {
    this.writable(ctx);
    const s = await this.getSnapshot(ctx, id);
    if (!(await this.store.updateSnapshot(id, { status: 'deleting' }, ['available', 'error', 'error_deleting']))) {
      throw invalidSnapshot('Volume Snapshot status must be available or error or error_restoring or error_extending or error_managing.');
    }
    const v = await this.store.getVolume(s.volumeId);
    this.background('snapshot delete', async () => {
      if (s.location && v) await this.backendOf(v).removeSnapshot(s.location);
      await this.store.deleteSnapshot(id);
    }, async () => { await this.store.updateSnapshot(id, { status: 'error_deleting' }, ['deleting']); });
  }

  /**
   * After a controller restart (Cinder's volume manager init_host): a create that was running is an error (its
   * partial bytes removed), a delete is driven again, an extend whose end is unknown is error_extending.
   */
  async recover(): Promise<void> {
    for (const v of await this.store.listVolumes({ projectId: null })) {
      if (v.status === 'creating') {
        const b = this.backends.get(v.backend);
        await b?.remove(b.locationOf(v.id)).catch(() => {});
        await this.store.updateVolume(v.id, { status: 'error' }, ['creating']);
      } else if (v.status === 'deleting') {
        this.removeInBackground(v, await this.store.listSnapshots(null, v.id));
      } else if (v.status === 'extending') {
        await this.store.updateVolume(v.id, { status: 'error_extending' }, ['extending']);
      }
    }
  }
}

