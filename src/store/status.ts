/**
 * Nova's API status from vm_state + task_state (nova/api/openstack/common.py). Lives in the store because the
 * store keeps `status` as a column (recomputed on every write) so that `?status=` is an indexed SQL filter.
 */

const REBOOT = new Set(['rebooting', 'reboot_pending', 'reboot_started']);
const HARD_REBOOT = new Set(['rebooting_hard', 'reboot_pending_hard', 'reboot_started_hard']);
const REBUILD = new Set(['rebuilding', 'rebuild_block_device_mapping', 'rebuild_spawning']);
const RESIZE = new Set(['resize_prep', 'resize_migrating', 'resize_migrated', 'resize_finish']);

export function serverStatus(vmState: string, taskState: string | null): string {
  const t = taskState ?? '';
  switch (vmState) {
    case 'active':
      if (REBOOT.has(t)) return 'REBOOT';
      if (HARD_REBOOT.has(t)) return 'HARD_REBOOT';
      if (REBUILD.has(t)) return 'REBUILD';
      if (t === 'migrating') return 'MIGRATING';
      if (RESIZE.has(t)) return 'RESIZE';
      if (t === 'deleting') return 'ACTIVE';
      return 'ACTIVE';
    case 'building': return 'BUILD';
    case 'stopped':
      if (RESIZE.has(t)) return 'RESIZE';
      if (REBUILD.has(t)) return 'REBUILD';
      return 'SHUTOFF';
    case 'resized': return t === 'resize_reverting' ? 'REVERT_RESIZE' : 'VERIFY_RESIZE';
    case 'paused': return t === 'migrating' ? 'MIGRATING' : 'PAUSED';
    case 'suspended': return 'SUSPENDED';
    case 'error': return REBUILD.has(t) ? 'REBUILD' : 'ERROR';
    case 'deleted': return 'DELETED';
    case 'soft-delete': return 'SOFT_DELETED';
    case 'shelved': return 'SHELVED';
    case 'shelved_offloaded': return 'SHELVED_OFFLOADED';
    case 'rescued': return 'RESCUE';
    default: return 'UNKNOWN';
  }
}

/** The statuses the API accepts in `?status=` (2.38+: anything else is 400). */
export const KNOWN_STATUSES = new Set([
  'ACTIVE', 'BUILD', 'DELETED', 'ERROR', 'HARD_REBOOT', 'MIGRATING', 'PASSWORD', 'PAUSED', 'REBOOT', 'REBUILD',
  'RESCUE', 'RESIZE', 'REVERT_RESIZE', 'SHELVED', 'SHELVED_OFFLOADED', 'SHUTOFF', 'SOFT_DELETED', 'SUSPENDED',
  'UNKNOWN', 'VERIFY_RESIZE',
]);
