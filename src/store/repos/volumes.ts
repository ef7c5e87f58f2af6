/**
 * Block storage records (Cinder's volumes, snapshots, volume types and 3.27+ attachments). Status changes are
 * compare-and-swaps on the record's current status; the transitions that touch two records (reserve a volume for
 * an attachment, finish a detach) are one transaction each.
 */

export type VolumeStatus =
  | 'creating' | 'available' | 'reserved' | 'attaching' | 'in-use' | 'detaching' | 'deleting' | 'error'
  | 'error_deleting' | 'extending' | 'error_extending';

export interface Volume {
  id: string;
  projectId: string;
  userId: string;
  name: string | null;
  description: string | null;
  /** GiB */
  size: number;
  status: VolumeStatus;
  volumeTypeId: string;
  availabilityZone: string;
  bootable: boolean;
  sourceVolid: string | null;
  snapshotId: string | null;
  imageId: string | null;
  /** the backend that holds the bytes ('file', 'rbd') and where (a path, pool/image) */
  backend: string;
  location: string | null;
  /** format of the bytes where the backend has a choice (file: qcow2 or raw) */
  format: string;
  metadata: Record<string, string>;
  createdAt: string;
  updatedAt: string;
}

export type VolumeChanges = Partial<Pick<Volume, 'name' | 'description' | 'size' | 'status' | 'bootable' | 'location' | 'metadata' | 'format'>>;

export type SnapshotStatus = 'creating' | 'available' | 'deleting' | 'error' | 'error_deleting';

export interface VolumeSnapshot {
  id: string;
  projectId: string;
  userId: string;
  volumeId: string;
  name: string | null;
  description: string | null;
  size: number;
  status: SnapshotStatus;
  location: string | null;
  metadata: Record<string, string>;
  createdAt: string;
  updatedAt: string;
}

export type SnapshotChanges = Partial<Pick<VolumeSnapshot, 'name' | 'description' | 'status' | 'location' | 'metadata'>>;

export interface VolumeType {
  id: string;
  name: string;
  description: string | null;
  isPublic: boolean;
  /** `volume_backend_name` names the backend */
  extraSpecs: Record<string, string>;
  createdAt: string;
}

export type AttachmentStatus = 'reserved' | 'attaching' | 'attached' | 'detaching' | 'error_attaching' | 'error_detaching';

export interface VolumeAttachment {
  id: string;
  volumeId: string;
  /** the server (Cinder's instance_uuid) */
  serverId: string;
  projectId: string;
  status: AttachmentStatus;
  /** /dev/vdX in the guest (Cinder's mountpoint) */
  device: string | null;
  hostName: string | null;
  tag: string | null;
  deleteOnTermination: boolean;
  attachMode: 'rw' | 'ro';
  createdAt: string;
  attachedAt: string | null;
}

export type AttachmentChanges = Partial<Pick<VolumeAttachment, 'status' | 'device' | 'hostName' | 'attachedAt' | 'deleteOnTermination'>>;

export interface VolumeListQuery {
  /** null: every project's */
  projectId: string | null;
  name?: string;
  status?: string;
}

export interface VolumeUsage { volumes: number; gigabytes: number; snapshots: number }

export interface VolumeRepo {
  createVolume(v: Volume): Promise<void>;
  getVolume(id: string): Promise<Volume | null>;
  /** oldest first */
  listVolumes(q: VolumeListQuery): Promise<Volume[]>;
  /** compare-and-swap: applied only while the volume's status is one of `expect` (omitted: any); null if not */
  updateVolume(id: string, changes: VolumeChanges, expect?: readonly VolumeStatus[]): Promise<Volume | null>;
  /** removes the row (and its attachments, which must be none by then) */
  deleteVolume(id: string): Promise<boolean>;
  /** what the project holds: volumes, their GiB (snapshots count their size too, as in Cinder), snapshots */
  volumeUsage(projectId: string): Promise<VolumeUsage>;

  createSnapshot(s: VolumeSnapshot): Promise<void>;
  getSnapshot(id: string): Promise<VolumeSnapshot | null>;
  listSnapshots(projectId: string | null, volumeId?: string): Promise<VolumeSnapshot[]>;
  updateSnapshot(id: string, changes: SnapshotChanges, expect?: readonly SnapshotStatus[]): Promise<VolumeSnapshot | null>;
  deleteSnapshot(id: string): Promise<boolean>;

  createVolumeType(t: VolumeType): Promise<void>;
  getVolumeType(idOrName: string): Promise<VolumeType | null>;
  listVolumeTypes(): Promise<VolumeType[]>;
  updateVolumeType(id: string, changes: Partial<Pick<VolumeType, 'name' | 'description' | 'isPublic' | 'extraSpecs'>>): Promise<VolumeType | null>;
  deleteVolumeType(id: string): Promise<boolean>;
  /** volumes (any project) of the type */
  countVolumesOfType(typeId: string): Promise<number>;

  /**
   * One transaction: the volume goes `from` -> 'reserved' and the attachment is inserted. False (nothing written)
   * when the volume is not in one of `from`.
   */
  reserveVolume(a: VolumeAttachment, from: readonly VolumeStatus[]): Promise<boolean>;
  getAttachment(id: string): Promise<VolumeAttachment | null>;
  listAttachments(q: { volumeId?: string; serverId?: string; projectId?: string | null }): Promise<VolumeAttachment[]>;
  /** compare-and-swap on the attachment's status; the volume's status moves to `volumeStatus` in the same transaction */
  updateAttachment(id: string, changes: AttachmentChanges, expect: readonly AttachmentStatus[], volumeStatus?: VolumeStatus): Promise<VolumeAttachment | null>;
  /**
   * One transaction: the attachment is removed and its volume becomes 'available' when no attachment is left
   * (else stays 'in-use'). False if there was no such attachment.
   */
  removeAttachment(id: string): Promise<boolean>;
}
