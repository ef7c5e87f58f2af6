/**
 * Nova's disk cache mode for file disks: cache='none' (O_DIRECT, the host page cache bypassed) where the instances
 * directory's file system supports O_DIRECT, else writeback (tmpfs, some FUSE file systems refuse O_DIRECT at
 * open). cache='none' is what keeps a guest's writes safe across a host crash and what live migration with
 * storage copy is tested with; it is Nova's libvirt driver default (_supports_direct_io, disk_cachemodes).
 */
import { closeSync, constants, openSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { DiskCache } from '../virt/hypervisor.js';

export function supportsDirectIo(dir: string): boolean {
  const probe = join(dir, `.novalet-directio-probe.${process.pid}`);
  try {
    closeSync(openSync(probe, constants.O_CREAT | constants.O_WRONLY | constants.O_DIRECT, 0o600));
    return true;
  } catch {
    return false;
  } finally {
    rmSync(probe, { force: true });
  }
}

export function fileDiskCache(dir: string): DiskCache {
  return supportsDirectIo(dir) ? 'none' : 'writeback';
}
