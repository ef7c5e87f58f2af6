import type { Resources } from './types.js';

/** What a server of this flavor holds on its host (Nova's placement: VCPU, MEMORY_MB, DISK_GB = root + ephemeral). */
export const claimOf = (f: { vcpus: number; ram: number; disk: number; ephemeral: number }): Resources =>
  ({ vcpus: f.vcpus, memoryMb: f.ram, diskGb: f.disk + f.ephemeral });
