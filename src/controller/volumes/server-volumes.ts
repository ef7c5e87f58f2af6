/**
 * The compute side of volumes (Nova's os-volume_attachments): list and show a server's volumes, attach (device
 * honoured when free, else the next free virtio name; tag; delete_on_termination) and detach, each a task of the
 * server. The volume is reserved before the task starts, so a second attach of the same volume is refused at once
 * (400 as Nova), and given back if the server refuses the task.
 */
import type { Server, Store, VolumeAttachment } from '../../store/index.js';
import type { RequestContext } from '../context.js';
import { badRequest, notFound } from '../errors.js';
import { serverFor } from '../compute/access.js';
import type { ServerActions } from '../compute/actions.js';
import { attachVolume, detachVolume, VOLUME_RULES } from '../tasks/defs/volumes.js';
import { precheck } from '../compute/gate.js';
import type { VolumeAttachments } from './attachments.js';
import type { VolumeService } from './service.js';
import { ROOT_DEVICE } from './boot-volumes.js';

const DEVICE = /^\/dev\/x?[a-z]?d?([a-z]+)[0-9]*$/;

export interface AttachRequest { volumeId: string; device?: string | null; tag?: string | null; deleteOnTermination?: boolean }

export class ServerVolumes {
  constructor(private readonly store: Store, private readonly actions: ServerActions, private readonly volumes: VolumeService, private readonly attachments: VolumeAttachments) {}

  /** the server's attachments (reserved ones too: Nova lists a BDM as soon as it exists) */
  async list(ctx: RequestContext, serverId: string): Promise<VolumeAttachment[]> {
    await serverFor(this.store, ctx, serverId);
    return this.attachments.ofServer(serverId);
  }

  async show(ctx: RequestContext, serverId: string, volumeId: string): Promise<VolumeAttachment> {
    const a = (await this.list(ctx, serverId)).find((x) => x.volumeId === volumeId);
    if (!a) throw notFound(`Instance ${serverId} is not attached to volume ${volumeId}`);
    return a;
  }

  /** the device the volume gets: the one asked for when it is a free virtio name, else the next free one */
  private async device(s: Server, asked: string | null | undefined): Promise<string> {
    const used = new Set(['vda']);
    if (s.flavor.ephemeral > 0) used.add('vdb');
    if (s.flavor.swap > 0) used.add('vdc');
    for (const a of await this.attachments.ofServer(s.id)) if (a.device) used.add(a.device.replace(/^\/dev\//, ''));
    if (asked) {
      if (!DEVICE.test(asked)) throw badRequest(`The supplied device path (${asked}) is invalid.`);
      const name = asked.replace(/^\/dev\//, '');
      if (used.has(name)) throw badRequest(`The supplied device path (${asked}) is in use.`);
      if (/^vd[a-z]$/.test(name)) return `/dev/${name}`;
    }
    for (let c = 'b'.charCodeAt(0); c <= 'z'.charCodeAt(0); c++) {
      const name = `vd${String.fromCharCode(c)}`;
      if (!used.has(name)) return `/dev/${name}`;
    }
    throw badRequest('No free disk device names for prefix \'vd\'');
  }

  async attach(ctx: RequestContext, serverId: string, r: AttachRequest): Promise<VolumeAttachment> {
    const s = await precheck(this.store, ctx, serverId, VOLUME_RULES.attach);
    await this.volumes.get(ctx, r.volumeId);
    const device = await this.device(s, r.device);
    const a = await this.attachments.reserve(ctx, r.volumeId, serverId, { device, tag: r.tag ?? null, deleteOnTermination: r.deleteOnTermination ?? false });
    try {
      await this.actions.perform(ctx, serverId, attachVolume, {
        params: { attachmentId: a.id, volumeId: r.volumeId, device, tag: r.tag ?? null, deleteOnTermination: r.deleteOnTermination ?? false },
      });
    } catch (err) {
      await this.attachments.remove(a.id);
      throw err;
    }
    return a;
  }

  async detach(ctx: RequestContext, serverId: string, volumeId: string): Promise<void> {
    await precheck(this.store, ctx, serverId, VOLUME_RULES.detach);
    await this.volumes.get(ctx, volumeId);
    const a = (await this.attachments.ofServer(serverId)).find((x) => x.volumeId === volumeId);
    if (!a) throw notFound(`Instance ${serverId} is not attached to volume ${volumeId}`);
    if (a.device === ROOT_DEVICE) throw badRequest(`Can't detach root device volume`);
    if (!(await this.attachments.beginDetach(a.id))) throw badRequest(`Invalid volume: Unable to detach volume. Volume status must be 'in-use' and attach_status must be 'attached' to detach.`);
    try {
      await this.actions.perform(ctx, serverId, detachVolume, { params: { attachmentId: a.id, volumeId, device: a.device ?? '' } });
    } catch (err) {
      await this.attachments.abortDetach(a.id);
      throw err;
    }
  }
}
