import type { RbdSource } from '../../../rpc/protocol/server-spec.js';

/**
 * Where a volume's bytes live. A backend creates, copies, resizes and removes them; the controller calls it from
 * the volume service and tells a host how to attach the result (attachSource). Locations are opaque to everyone
 * else (a path for `file`, `pool/image` for `rbd`). Every method is idempotent where Cinder re-drives it: remove
 * of a location that is already gone succeeds.
 */
export type VolumeSource =
  | { kind: 'blank' }
  /** an image file of the image store (qcow2 or raw) */
  | { kind: 'image'; path: string; format: string }
  | { kind: 'volume'; location: string; format: string }
  | { kind: 'snapshot'; location: string; format: string };

export interface CreatedVolume { location: string; format: 'qcow2' | 'raw' }

/**
 * what the agent's attach_disk gets for a volume (file: a path every host sees; network: rbd `pool/image`, with
 * the monitors, the cephx user and key, and the libvirt secret's UUID the hosts keep the key under)
 */
export interface AttachSource { path: string; format: 'qcow2' | 'raw'; sourceType: 'file' | 'block' | 'network'; rbd?: RbdSource }

export interface VolumeBackend {
  readonly name: string;
  /** a new volume `id` of `sizeGiB` from `source`; nothing is left behind when it throws */
  create(id: string, sizeGiB: number, source: VolumeSource): Promise<CreatedVolume>;
  /** grow to `sizeGiB` */
  extend(location: string, format: string, sizeGiB: number): Promise<void>;
  remove(location: string): Promise<void>;
  /** where create(id) puts (or was putting) the volume: what a re-driven delete of a volume without a location removes */
  locationOf(id: string): string;
  /** a point-in-time copy of the volume at `location` */
  snapshot(location: string, format: string, snapshotId: string): Promise<{ location: string }>;
  removeSnapshot(location: string): Promise<void>;
  attachSource(location: string, format: string): AttachSource;
  /** every location the backend holds (for leak checks): volumes and snapshots */
  list(): Promise<string[]>;
  /**
   * Cuts a host (by its address) off the storage before another host opens the volumes it had open (evacuation of
   * a dead host): true when the backend did (rbd: a blocklist entry), false when it has nothing to do (file: QEMU's
   * image locks on the shared storage). Idempotent.
   */
  fence(hostAddress: string): Promise<boolean>;
  /** lets a fenced host back on (once its stale guests are gone); idempotent, nothing to do when it was not fenced */
  unfence(hostAddress: string): Promise<void>;
}

/** a backend operation failed (the volume goes to error; the message is for the log and the fault) */
export class BackendError extends Error {
  constructor(readonly backend: string, message: string) {
    super(`${backend}: ${message}`);
    this.name = 'BackendError';
  }
}
