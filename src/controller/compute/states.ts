/**
 * Nova's allowed-state table (nova/compute/api.py check_instance_state + check_instance_lock), one entry per API
 * action. `name` is the action as it appears in Nova's 409 message and `instanceAction` the instance-action name.
 */
export interface ActionRule {
  name: string;
  instanceAction: string;
  vmStates: readonly string[] | null;
  /** task_states allowed (null = no task running) */
  taskStates: ReadonlyArray<string | null>;
  /** refused on a locked server unless the caller is admin */
  lock: boolean;
  /** task_state set while the work runs */
  task: string;
  /** event recorded on the instance action */
  event: string;
  admin?: boolean;
}

const NONE = [null] as const;
export const ALLOW_REBOOT = [null, 'rebooting', 'reboot_pending', 'reboot_started', 'rebooting_hard', 'reboot_pending_hard',
  'reboot_started_hard', 'pausing', 'unpausing', 'suspending', 'resuming'] as const;

export const RULES = {
  start: { name: 'start', instanceAction: 'start', vmStates: ['stopped'], taskStates: NONE, lock: true, task: 'powering-on', event: 'compute_start_instance' },
  stop: { name: 'stop', instanceAction: 'stop', vmStates: ['active', 'error'], taskStates: NONE, lock: true, task: 'powering-off', event: 'compute_stop_instance' },
  rebootSoft: { name: 'reboot', instanceAction: 'reboot', vmStates: ['active'], taskStates: NONE, lock: true, task: 'rebooting', event: 'compute_reboot_instance' },
  rebootHard: { name: 'reboot', instanceAction: 'reboot', vmStates: ['active', 'stopped', 'paused', 'suspended', 'error'], taskStates: ALLOW_REBOOT, lock: true, task: 'rebooting_hard', event: 'compute_reboot_instance' },
  pause: { name: 'pause', instanceAction: 'pause', vmStates: ['active'], taskStates: NONE, lock: true, task: 'pausing', event: 'compute_pause_instance' },
  unpause: { name: 'unpause', instanceAction: 'unpause', vmStates: ['paused'], taskStates: NONE, lock: true, task: 'unpausing', event: 'compute_unpause_instance' },
  suspend: { name: 'suspend', instanceAction: 'suspend', vmStates: ['active'], taskStates: NONE, lock: true, task: 'suspending', event: 'compute_suspend_instance' },
  resume: { name: 'resume', instanceAction: 'resume', vmStates: ['suspended'], taskStates: NONE, lock: true, task: 'resuming', event: 'compute_resume_instance' },
  resize: { name: 'resize', instanceAction: 'resize', vmStates: ['active', 'stopped'], taskStates: NONE, lock: true, task: 'resize_prep', event: 'compute_resize_instance' },
  confirmResize: { name: 'confirmResize', instanceAction: 'confirmResize', vmStates: ['resized'], taskStates: NONE, lock: true, task: 'resize_confirming', event: 'compute_confirm_resize' },
  revertResize: { name: 'revertResize', instanceAction: 'revertResize', vmStates: ['resized'], taskStates: NONE, lock: true, task: 'resize_reverting', event: 'compute_revert_resize' },
  createImage: { name: 'createImage', instanceAction: 'createImage', vmStates: ['active', 'stopped', 'paused', 'suspended'], taskStates: NONE, lock: false, task: 'image_snapshot', event: 'compute_snapshot_instance' },
  rebuild: { name: 'rebuild', instanceAction: 'rebuild', vmStates: ['active', 'stopped', 'error'], taskStates: NONE, lock: true, task: 'rebuilding', event: 'compute_rebuild_instance' },
  migrate: { name: 'migrate', instanceAction: 'migrate', vmStates: ['active', 'stopped'], taskStates: NONE, lock: true, task: 'resize_prep', event: 'compute_prep_resize', admin: true },
  liveMigrate: { name: 'os-migrateLive', instanceAction: 'live-migration', vmStates: ['active', 'paused'], taskStates: NONE, lock: true, task: 'migrating', event: 'compute_live_migration', admin: true },
  evacuate: { name: 'evacuate', instanceAction: 'evacuate', vmStates: ['active', 'stopped', 'error'], taskStates: NONE, lock: false, task: 'rebuilding', event: 'compute_rebuild_instance', admin: true },
  restore: { name: 'restore', instanceAction: 'restore', vmStates: ['soft-delete'], taskStates: NONE, lock: true, task: 'restoring', event: 'compute_restore_instance' },
  createBackup: { name: 'createBackup', instanceAction: 'createBackup', vmStates: ['active', 'stopped', 'paused', 'suspended'], taskStates: NONE, lock: false, task: 'image_backup', event: 'compute_backup_instance' },
  shelve: { name: 'shelve', instanceAction: 'shelve', vmStates: ['active', 'stopped', 'paused', 'suspended'], taskStates: NONE, lock: true, task: 'shelving', event: 'compute_shelve_instance' },
  shelveOffload: { name: 'shelveOffload', instanceAction: 'shelveOffload', vmStates: ['shelved'], taskStates: NONE, lock: true, task: 'shelving_offloading', event: 'compute_shelve_offload_instance', admin: true },
  unshelve: { name: 'unshelve', instanceAction: 'unshelve', vmStates: ['shelved', 'shelved_offloaded'], taskStates: NONE, lock: true, task: 'unshelving', event: 'compute_unshelve_instance' },
  forceDelete: { name: 'forceDelete', instanceAction: 'delete', vmStates: null, taskStates: NONE, lock: true, task: 'deleting', event: 'compute_terminate_instance' },
} satisfies Record<string, ActionRule>;

export type RuleName = keyof typeof RULES;
