/**
 * The all-in-one's first image: the project's test guest as an AMI-style triple (kernel aki, ramdisk ari, and a
 * small blank qcow2 root disk with kernel_id / ramdisk_id / os_command_line), public, so `openstack server create
 * --image novalet-guest` boots it. Idempotent: nothing is added when an image of that name exists.
 */
import { createReadStream, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ImageService } from '../../controller/images/service.js';
import type { Store } from '../../store/index.js';
import * as qemuImg from '../../virt/qemu-img.js';

export const GUEST_IMAGE_NAME = 'novalet-guest';

export async function seedGuestImages(store: Store, images: ImageService, guestDir: string): Promise<string> {
  const existing = (await store.listImages({ projectId: null, isAdmin: true, name: GUEST_IMAGE_NAME })).find((i) => i.status === 'active');
  if (existing) return existing.id;
  const meta = JSON.parse(readFileSync(join(guestDir, 'guest.json'), 'utf8')) as { kernel: string; initrd: string; cmdline: string; kernelVersion: string };
  for (const f of [meta.kernel, meta.initrd]) if (!existsSync(f)) throw new Error(`test guest file ${f} missing: run scripts/build-guest.sh`);
  const upload = async (name: string, file: string, diskFormat: string, properties: Record<string, string> = {}) => {
    const img = await images.create(null, { name, visibility: 'public', diskFormat, containerFormat: diskFormat === 'qcow2' ? 'bare' : diskFormat, properties });
    return (await images.upload(null, img.id, createReadStream(file))).id;
  };
  const kernelId = await upload(`${GUEST_IMAGE_NAME}-kernel`, meta.kernel, 'aki', { kernel_version: meta.kernelVersion });
  const ramdiskId = await upload(`${GUEST_IMAGE_NAME}-ramdisk`, meta.initrd, 'ari');
  const dir = mkdtempSync(join(tmpdir(), 'novalet-guest-'));
  try {
    const root = join(dir, 'root.qcow2');
    await qemuImg.create(root, { format: 'qcow2', sizeBytes: 64 * 1024 * 1024 });
    return await upload(GUEST_IMAGE_NAME, root, 'qcow2', { kernel_id: kernelId, ramdisk_id: ramdiskId, os_command_line: meta.cmdline, hw_disk_bus: 'virtio' });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
