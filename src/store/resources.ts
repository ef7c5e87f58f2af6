import type { Resources } from './types.js';

/**
 * What a server of this flavor holds on its host (Nova's placement: VCPU, MEMORY_MB, DISK_GB = root + ephemeral +
 * swap in GiB rounded up). A server booted from a volume holds it through heldFlavor (no root disk).
 */
export const claimOf = (f: { vcpus: number; ram: number; disk: number; ephemeral: number; swap?: number }): Resources =>
  ({ vcpus: f.vcpus, memoryMb: f.ram, diskGb: f.disk + f.ephemeral + Math.ceil((f.swap ?? 0) / 1024) });

/**
 * The flavor as the server holds it on a host: one booted from a volume (Nova's image_ref '') has its root disk
 * in the volume, so the flavor's root_gb is not claimed there (Nova's scheduler utils: DISK_GB without root_gb for
 * a volume-backed instance); its ephemeral and swap disks are local and still are.
 */
export function heldFlavor<F extends { disk: number }>(s: { imageRef: string }, flavor: F): F {
  return s.imageRef === '' ? { ...flavor, disk: 0 } : flavor;
}

/** what the server holds on its host */
export const serverClaimOf = (s: { imageRef: string; flavor: { vcpus: number; ram: number; disk: number; ephemeral: number; swap?: number } }): Resources =>
  claimOf(heldFlavor(s, s.flavor));
