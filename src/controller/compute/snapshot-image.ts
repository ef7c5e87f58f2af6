/**
 * The image row a snapshot of a server fills (createImage, createBackup, shelve): Nova's compute_utils.create_image.
 * The base image's own properties are inherited, then Nova's (image_type, instance_uuid, base_image_ref, user_id),
 * then what the caller adds (the user's metadata; createBackup's backup_type), which win.
 */
import { randomUUID } from 'node:crypto';
import type { Image, Server, Store } from '../../store/index.js';
import type { RequestContext } from '../context.js';

/** properties a snapshot does not inherit from its base image (Nova sets its own) */
const RESERVED = ['image_type', 'instance_uuid', 'base_image_ref', 'image_location', 'user_id'];

/** creates the 'queued' image row; the snapshot task makes it active (or killed) */
export async function createSnapshotImage(store: Store, ctx: RequestContext, s: Server, name: string, imageType: 'snapshot' | 'backup',
  extra: Record<string, string>): Promise<Image> {
  const t = new Date().toISOString();
  const base = s.imageRef ? await store.getImage(s.imageRef) : null;
  const inherited = Object.fromEntries(Object.entries(base?.properties ?? {}).filter(([k]) => !RESERVED.includes(k)));
  const img: Image = {
    id: randomUUID(), name, status: 'queued', visibility: 'private', owner: s.projectId,
    diskFormat: base?.diskFormat ?? 'qcow2', containerFormat: base?.containerFormat ?? 'bare', size: null, checksum: null,
    osHashAlgo: null, osHashValue: null, minDisk: s.flavor.disk, minRam: base?.minRam ?? 0, protected: false,
    properties: { ...inherited, image_type: imageType, instance_uuid: s.id, base_image_ref: s.imageRef, user_id: ctx.userId, ...extra },
    tags: [], createdAt: t, updatedAt: t,
  };
  await store.createImage(img);
  return img;
}
