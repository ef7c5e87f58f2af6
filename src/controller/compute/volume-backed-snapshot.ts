/**
 * createImage of a server booted from a volume, as Nova's compute API snapshot_volume_backed: no host is asked for
 * disk bytes. Every attached volume gets a Cinder snapshot (forced: they are in use), named "snapshot for <image
 * name>", and the image is a 0-byte bucket of properties, active at once: the server's image properties (those of
 * the image its root volume was made from), `root_device_name`, `bdm_v2` 'True' and `block_device_mapping` (JSON,
 * as Glance v2 keeps Nova's list): one snapshot -> volume mapping per volume with its device, boot index (0 for
 * the root), size and delete_on_termination. Done in the API call, as Nova (no task, no instance action).
 */
import { createHash } from 'node:crypto';
import type { Image, Server, Store } from '../../store/index.js';
import type { RequestContext } from '../context.js';
import type { VolumeService } from '../volumes/service.js';
import { ROOT_DEVICE } from '../volumes/boot-volumes.js';
import { createSnapshotImage } from './snapshot-image.js';

/** Nova's image mapping of a volume snapshot (block_device.snapshot_from_bdm(...).get_image_mapping()) */
export interface ImageMapping {
  source_type: 'snapshot'; destination_type: 'volume'; snapshot_id: string; volume_id: null; image_id: null; no_device: null;
  boot_index: number | null; device_name: string | null; volume_size: number; delete_on_termination: boolean;
  disk_bus: string | null; device_type: string | null; guest_format: null; tag: string | null; volume_type: null;
}

export class VolumeBackedSnapshots {
  constructor(private readonly store: Store, private readonly volumes: VolumeService) {}

  /** the image's id; the volume snapshots are `creating` until their backend finishes them */
  async create(ctx: RequestContext, s: Server, name: string, metadata: Record<string, string>): Promise<string> {
    const attachments = (await this.store.listAttachments({ serverId: s.id }))
      .sort((a, b) => (a.device ?? '').localeCompare(b.device ?? ''));
    const rootImage = (await Promise.all(attachments.filter((a) => a.device === ROOT_DEVICE).map((a) => this.store.getVolume(a.volumeId))))[0]?.imageId ?? null;
    // the properties of the image the root volume was made from are the server's (Nova: volume_image_metadata)
    const base = rootImage ? await this.store.getImage(rootImage) : null;
    const inherited = Object.fromEntries(Object.entries(base?.properties ?? {}).filter(([k]) => !['block_device_mapping', 'bdm_v2', 'root_device_name'].includes(k)));
    const mapping: ImageMapping[] = [];
    for (const a of attachments) {
      const snap = await this.volumes.createSnapshot(ctx, { volumeId: a.volumeId, name: `snapshot for ${name}`, force: true });
      mapping.push({
        source_type: 'snapshot', destination_type: 'volume', snapshot_id: snap.id, volume_id: null, image_id: null, no_device: null,
        boot_index: a.device === ROOT_DEVICE ? 0 : null, device_name: a.device, volume_size: snap.size, delete_on_termination: a.deleteOnTermination,
        disk_bus: 'virtio', device_type: 'disk', guest_format: null, tag: a.tag, volume_type: null,
      });
    }
    const img = await createSnapshotImage(this.store, ctx, s, name, 'snapshot', {
      ...inherited, ...metadata, root_device_name: ROOT_DEVICE,
      ...(mapping.length ? { bdm_v2: 'True', block_device_mapping: JSON.stringify(mapping) } : {}),
    });
    // no data: Nova activates it with an empty upload (Glance then has size 0 and the empty data's checksums)
    const active: Partial<Image> = {
      status: 'active', size: 0, diskFormat: 'raw', containerFormat: 'bare', minDisk: 0, minRam: base?.minRam ?? 0,
      checksum: createHash('md5').update('').digest('hex'), osHashAlgo: 'sha512', osHashValue: createHash('sha512').update('').digest('hex'),
    };
    await this.store.updateImage(img.id, active);
    return img.id;
  }
}
