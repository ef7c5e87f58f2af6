/** Block storage configuration (ControllerConfig.volumes); every field has a default. */
import { dirname, join } from 'node:path';
import type { RbdConfig } from './backends/rbd.js';

export interface VolumeConfig {
  /** the file backend's directory, seen by every host (default: `volumes` next to the image directory) */
  dir?: string;
  /** format of file volumes (default qcow2) */
  fileFormat?: 'qcow2' | 'raw';
  /** the backend of volumes whose type names none (default `file`) */
  defaultBackend?: string;
  /** the rbd backend, when configured */
  rbd?: RbdConfig;
  /** Cinder's default quotas */
  quotaDefaults?: Partial<VolumeQuotaSet>;
}

export interface VolumeQuotaSet {
  volumes: number; snapshots: number; gigabytes: number; per_volume_gigabytes: number;
  backups: number; backup_gigabytes: number; groups: number;
}

export const VOLUME_QUOTA_DEFAULTS: VolumeQuotaSet = {
  volumes: 10, snapshots: 10, gigabytes: 1000, per_volume_gigabytes: -1, backups: 10, backup_gigabytes: 1000, groups: 10,
};

export function volumeDir(imageDir: string, c: VolumeConfig | undefined): string {
  return c?.dir ?? join(dirname(imageDir), 'volumes');
}
