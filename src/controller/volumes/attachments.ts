/**
 * The attachment state machine (Cinder 3.27+ attachment records), shared by the compute side
 * (os-volume_attachments tasks) and the Block Storage API's /attachments:
 *
 *   reserve: volume available -> reserved, attachment reserved        (one transaction; a volume in use is refused)
 *   begin:   attachment reserved -> attaching, volume attaching
 *   finish:  attachment attaching -> attached, volume in-use
 *   detach:  attachment attached -> detaching, volume detaching
 *   remove:  attachment gone, volume available (in-use while others remain)
 *
 * Undo of a failed attach is remove; of a failed detach, detaching -> attached and in-use.
 */
import { randomUUID } from 'node:crypto';
import type { Store, Volume, VolumeAttachment } from '../../store/index.js';
import { isAdminOrOwner, type RequestContext } from '../context.js';
import { attachmentNotFound, invalidVolume } from './errors.js';
import type { VolumeService } from './service.js';
import type { AttachSource } from './backends/backend.js';

export interface ReserveOptions { device?: string | null; tag?: string | null; deleteOnTermination?: boolean; hostName?: string | null }

export class VolumeAttachments {
  constructor(private readonly store: Store, private readonly volumes: VolumeService) {}

  /** the attachment if the caller may see it */
  async get(ctx: RequestContext, id: string): Promise<VolumeAttachment> {
    const a = await this.store.getAttachment(id);
    if (!a || !isAdminOrOwner(ctx, a.projectId)) throw attachmentNotFound(id);
    return a;
  }

  async list(ctx: RequestContext, q: { volumeId?: string; serverId?: string; allTenants?: boolean } = {}): Promise<VolumeAttachment[]> {
    return this.store.listAttachments({ ...q, projectId: q.allTenants && ctx.roles.includes('admin') ? null : ctx.projectId });
  }

  ofServer(serverId: string): Promise<VolumeAttachment[]> { return this.store.listAttachments({ serverId }); }

  /** Nova's message for a volume that cannot be reserved (400) */
  async reserve(ctx: RequestContext, volumeId: string, serverId: string, o: ReserveOptions = {}): Promise<VolumeAttachment> {
    const v = await this.volumes.get(ctx, volumeId);
    const a: VolumeAttachment = {
      id: randomUUID(), volumeId, serverId, projectId: v.projectId, status: 'reserved', device: o.device ?? null,
      hostName: o.hostName ?? null, tag: o.tag ?? null, deleteOnTermination: o.deleteOnTermination ?? false, attachMode: 'rw',
      createdAt: new Date().toISOString(), attachedAt: null,
    };
    if (!(await this.store.reserveVolume(a, ['available']))) {
      const now = await this.store.getVolume(volumeId);
      throw invalidVolume(`volume ${volumeId} status must be available or downloading to reserve, but the current status is ${now?.status ?? 'deleted'}.`);
    }
    return a;
  }

  async begin(id: string): Promise<VolumeAttachment | null> {
    return this.store.updateAttachment(id, { status: 'attaching' }, ['reserved', 'attaching'], 'attaching');
  }

  async finish(id: string, o: { device?: string | null; hostName?: string | null } = {}): Promise<VolumeAttachment | null> {
    return this.store.updateAttachment(id, { status: 'attached', attachedAt: new Date().toISOString(), ...o }, ['reserved', 'attaching', 'attached'], 'in-use');
  }

  async beginDetach(id: string): Promise<VolumeAttachment | null> {
    return this.store.updateAttachment(id, { status: 'detaching' }, ['attached', 'detaching'], 'detaching');
  }

  async abortDetach(id: string): Promise<void> {
    await this.store.updateAttachment(id, { status: 'attached' }, ['detaching'], 'in-use');
  }

  /** the attachment goes; its volume is available again (or stays in-use for its other attachments) */
  async remove(id: string): Promise<void> { await this.store.removeAttachment(id); }

  /** how a host attaches the volume */
  async source(volumeId: string): Promise<{ volume: Volume; source: AttachSource }> {
    const v = await this.store.getVolume(volumeId);
    if (!v || !v.location) throw invalidVolume(`volume ${volumeId} has no data to attach`);
    return { volume: v, source: this.volumes.backendOf(v).attachSource(v.location, v.format) };
  }

  /**
   * A server is gone: every attachment of it goes, and the volumes it asked to delete on termination are
   * deleted (the others are available again).
   */
  async releaseServer(serverId: string): Promise<void> {
    for (const a of await this.store.listAttachments({ serverId })) {
      await this.store.removeAttachment(a.id);
      if (a.deleteOnTermination) await this.volumes.deleteOwned(a.volumeId);
    }
  }
}
