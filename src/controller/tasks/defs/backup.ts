/**
 * createBackup: the createImage snapshot (image_type=backup, backup_type), then rotation as Nova's
 * _rotate_backups: of the server's backups of that backup_type, newest first, all beyond `rotation` are deleted
 * (rotation 0: all of them, the new one too). Both steps are idempotent, so a re-driven task rotates once.
 */
import { RULES } from '../../compute/states.js';
import type { Image } from '../../../store/index.js';
import type { TaskDef } from '../types.js';
import { markImageKilled, snapshotStep, type SnapshotParams } from './image.js';

export interface BackupParams extends SnapshotParams { backupType: string; rotation: number }

/** the server's backups of one type, newest first (the one just taken first among equal creation times) */
export function backupsOf(images: Image[], serverId: string, backupType: string, newest: string): Image[] {
  return images
    .filter((i) => i.properties.image_type === 'backup' && i.properties.backup_type === backupType && i.properties.instance_uuid === serverId)
    .sort((a, b) => (b.createdAt.localeCompare(a.createdAt)) || (a.id === newest ? -1 : b.id === newest ? 1 : 0));
}

export const backup: TaskDef<BackupParams> = {
  kind: 'backup', rule: RULES.createBackup, action: RULES.createBackup.instanceAction, event: RULES.createBackup.event,
  taskState: RULES.createBackup.task,
  steps: [
    snapshotStep,
    {
      name: 'rotate',
      run: async (t) => {
        const all = await t.svc.store.listImages({ projectId: null, isAdmin: true });
        const excess = backupsOf(all, t.task.serverId, t.params.backupType, t.params.imageId).slice(t.params.rotation);
        // a protected backup is kept (Glance refuses to delete it; Nova's rotation would fail on it)
        for (const img of excess) if (!img.protected) await t.svc.images.remove(img.id);
      },
    },
  ],
  success: () => ({}),
  undo: markImageKilled,
};
