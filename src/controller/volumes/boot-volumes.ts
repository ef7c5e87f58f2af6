/**
 * The volumes a server is built with (block_device_mapping_v2 with destination_type volume), and the volumes
 * every host definition of a server carries:
 *
 * - at the API (`reserveGiven`): volumes passed in (source_type volume) are reserved for the server at once, so a
 *   volume in use is a 400 before anything starts (Nova makes the attachment in its API);
 * - in the build task (`prepare`, before spawn): volumes to make (source image / snapshot / blank) are created as
 *   the server's project and awaited, then reserved; every attachment goes to attaching; after the spawn
 *   (`finish`) they are attached on the server's host and in-use;
 * - `disks(serverId)`: the attached volumes as the agent's ServerSpec wants them: the one on /dev/vda is the root
 *   disk (`rootVolume`: the host boots from it, makes no overlay, fetches no image), the others extra disks by
 *   path. Every spec a task builds (spawn, cold migration target, live migration destination, unshelve) carries
 *   them, so volumes follow the server to any host; only the attachments' host_name changes (`moved`).
 */
import type { AttachedVolume, Store, VolumeAttachment } from '../../store/index.js';
import type { ExtraDisk, RootVolume } from '../../rpc/protocol/server-spec.js';
import type { RequestContext } from '../context.js';
import { badRequest } from '../errors.js';
import type { VolumeBdm } from '../compute/block-devices.js';
import type { VolumeAttachments } from './attachments.js';
import type { VolumeService } from './service.js';

export const ROOT_DEVICE = '/dev/vda';
/** the attachments a host definition carries (reserved ones are not on any host yet) */
const ON_HOST = new Set(['attaching', 'attached', 'detaching']);

export interface VolumeDisks {
  rootVolume?: RootVolume;
  /** the image the root volume was made from (its kernel, ramdisk and command line for AMI-style images) */
  rootImageId?: string;
  disks: ExtraDisk[];
}

export interface BootVolumeOptions {
  /** how long a build waits for a volume it made to become available (Nova's block_device_allocate_retries) */
  createTimeoutMs?: number;
  pollMs?: number;
}

/** devices the build gives its volumes: the root one vda, the others their device_name when free, else the next free */
export function chooseDevices(volumes: VolumeBdm[], reserved: { ephemeral: boolean; swap: boolean }): string[] {
  const used = new Set(['vda']);
  if (reserved.ephemeral) used.add('vdb');
  if (reserved.swap) used.add('vdc');
  const out: string[] = [];
  for (const v of volumes) {
    if (v.bootIndex === 0) { out.push(ROOT_DEVICE); continue; }
    const asked = v.deviceName?.replace(/^\/dev\//, '');
    if (asked && /^vd[a-z]$/.test(asked) && !used.has(asked)) { used.add(asked); out.push(`/dev/${asked}`); continue; }
    let name = '';
    for (let c = 'b'.charCodeAt(0); c <= 'z'.charCodeAt(0) && !name; c++) if (!used.has(`vd${String.fromCharCode(c)}`)) name = `vd${String.fromCharCode(c)}`;
    if (!name) throw badRequest('No free disk device names for prefix \'vd\'');
    used.add(name);
    out.push(`/dev/${name}`);
  }
  return out;
}

export class BootVolumes {
  private readonly timeoutMs: number;
  private readonly pollMs: number;

  constructor(private readonly store: Store, private readonly volumes: VolumeService, private readonly attachments: VolumeAttachments, o: BootVolumeOptions = {}) {
    this.timeoutMs = o.createTimeoutMs ?? 600_000;
    this.pollMs = o.pollMs ?? 200;
  }

  /**
   * A volume given as the root disk: Nova refuses one not marked bootable (400); the image it was made from, if any
   * (null also when there is no such volume: reserveGiven answers that)
   */
  async rootImageOf(ctx: RequestContext, volumeId: string): Promise<string | null> {
    const v = await this.volumes.get(ctx, volumeId).catch(() => null);
    if (v && !v.bootable) throw badRequest(`Block Device ${volumeId} is not bootable.`);
    return v?.imageId ?? null;
  }

  /** A snapshot whose new volume is the root disk: the image its volume was made from, if any (Nova reads the
   * snapshot's volume's volume_image_metadata); null for an unknown snapshot (the build's create answers that) */
  async rootImageOfSnapshot(ctx: RequestContext, snapshotId: string): Promise<string | null> {
    const s = await this.volumes.getSnapshot(ctx, snapshotId).catch(() => null);
    return s ? ((await this.store.getVolume(s.volumeId))?.imageId ?? null) : null;
  }

  /** API: the given volumes (source volume) reserved for the server; all or none */
  async reserveGiven(ctx: RequestContext, serverId: string, volumes: VolumeBdm[], devices: string[]): Promise<VolumeAttachment[]> {
    const made: VolumeAttachment[] = [];
    try {
      for (const [i, v] of volumes.entries()) {
        if (v.sourceType !== 'volume') continue;
        await this.volumes.get(ctx, v.uuid!).catch(() => { throw badRequest(`Block Device Mapping is Invalid: failed to get volume ${v.uuid}.`); });
        made.push(await this.attachments.reserve(ctx, v.uuid!, serverId, { device: devices[i]!, tag: v.tag, deleteOnTermination: v.deleteOnTermination }));
      }
    } catch (err) {
      await this.releaseReserved(made.map((a) => a.id));
      throw err;
    }
    return made;
  }

  async releaseReserved(ids: string[]): Promise<void> {
    for (const id of ids) await this.attachments.remove(id);
  }

  /**
   * Build task: every volume mapping has an attachment in attaching. `made` (volume id per mapping index, saved by
   * the caller) lets a re-driven step find the volumes it created instead of making them again.
   */
  async prepare(ctx: RequestContext, serverId: string, volumes: VolumeBdm[], devices: string[], made: Record<string, string>, saveMade: (m: Record<string, string>) => Promise<void>): Promise<void> {
    const current = await this.attachments.ofServer(serverId);
    for (const [i, v] of volumes.entries()) {
      let volumeId = v.sourceType === 'volume' ? v.uuid! : made[String(i)];
      if (!volumeId) {
        // a snapshot image made a moment ago: its volume snapshots may still be copying (Cinder would refuse)
        if (v.sourceType === 'snapshot') await this.awaitSnapshot(v.uuid!);
        const vol = await this.volumes.create(ctx, {
          size: v.volumeSize!, volumeType: v.volumeType,
          ...(v.sourceType === 'image' ? { imageRef: v.uuid } : v.sourceType === 'snapshot' ? { snapshotId: v.uuid } : {}),
        });
        volumeId = vol.id;
        made = { ...made, [String(i)]: volumeId };
        await saveMade(made);
      }
      let a = current.find((x) => x.volumeId === volumeId);
      if (!a) {
        await this.awaitAvailable(volumeId);
        a = await this.attachments.reserve(ctx, volumeId, serverId, { device: devices[i]!, tag: v.tag, deleteOnTermination: v.deleteOnTermination });
      }
      if (!(await this.attachments.begin(a.id))) throw new Error(`attachment ${a.id} of volume ${volumeId} is gone`);
    }
  }

  private async awaitSnapshot(snapshotId: string): Promise<void> {
    const until = Date.now() + this.timeoutMs;
    for (;;) {
      const s = await this.store.getSnapshot(snapshotId);
      // anything but a snapshot still being made is for the volume service to judge (404, error, available)
      if (s?.status !== 'creating' || Date.now() > until) return;
      await new Promise((r) => setTimeout(r, this.pollMs));
    }
  }

  private async awaitAvailable(volumeId: string): Promise<void> {
    const until = Date.now() + this.timeoutMs;
    for (;;) {
      const v = await this.store.getVolume(volumeId);
      if (v?.status === 'available') return;
      if (!v || v.status !== 'creating' || Date.now() > until) {
        throw badRequest(`Build of instance aborted: Volume ${volumeId} did not finish being created even after we waited ${Math.round(this.timeoutMs / 1000)} seconds or ${Math.round(this.timeoutMs / this.pollMs)} attempts. And its status is ${v?.status ?? 'deleted'}.`);
      }
      await new Promise((r) => setTimeout(r, this.pollMs));
    }
  }

  /** after the spawn: the server's attachments attached on `host`; the server row's volumes list */
  async finish(serverId: string, host: string): Promise<AttachedVolume[]> {
    const out: AttachedVolume[] = [];
    for (const a of await this.attachments.ofServer(serverId)) {
      const done = a.status === 'attached' ? a : await this.attachments.finish(a.id, { hostName: host });
      const x = done ?? a;
      out.push({ volumeId: x.volumeId, attachmentId: x.id, device: x.device ?? '', tag: x.tag, deleteOnTermination: x.deleteOnTermination });
    }
    return out.sort((p, q) => p.device.localeCompare(q.device));
  }

  /** the server now runs on `host` (migration, resize, evacuation): its attachments say so */
  async moved(serverId: string, host: string): Promise<void> {
    for (const a of await this.attachments.ofServer(serverId)) {
      if (a.hostName !== host) await this.store.updateAttachment(a.id, { hostName: host }, [a.status]);
    }
  }

  /** the server's volumes as a host attaches them (see the file comment) */
  async disks(serverId: string): Promise<VolumeDisks> {
    const out: VolumeDisks = { disks: [] };
    for (const a of await this.attachments.ofServer(serverId)) {
      if (!ON_HOST.has(a.status) || !a.device) continue;
      const { volume, source } = await this.attachments.source(a.volumeId);
      const target = a.device.replace(/^\/dev\//, '');
      if (a.device === ROOT_DEVICE) {
        out.rootVolume = { path: source.path, format: source.format, volumeId: a.volumeId, sourceType: source.sourceType, ...(source.rbd ? { rbd: source.rbd } : {}) };
        if (volume.imageId) out.rootImageId = volume.imageId;
      }
      else out.disks.push({ target, path: source.path, format: source.format, bus: 'virtio', volumeId: a.volumeId, sourceType: source.sourceType, ...(source.rbd ? { rbd: source.rbd } : {}) });
    }
    out.disks.sort((p, q) => p.target.localeCompare(q.target));
    return out;
  }
}
