/**
 * Every task the controller runs, by kind: the one place that knows an action's states, steps, host calls and
 * transitions. The API's action routes, the engine (drive and re-drive) and recovery of pre-task databases read it.
 */
import type { AnyTaskDef } from './types.js';
import { POWER_TASKS, softDelete } from './defs/power.js';
import { build } from './defs/build.js';
import { hardDelete } from './defs/delete.js';
import { confirmResize, migrate, resize, revertResize } from './defs/migration.js';
import { snapshot } from './defs/image.js';
import { rebuild } from './defs/rebuild.js';
import { backup } from './defs/backup.js';
import { shelve, shelveOffload, unshelve } from './defs/shelve.js';
import { attachInterface, detachInterface } from './defs/interfaces.js';
import { attachVolume, detachVolume } from './defs/volumes.js';
import { liveMigrate } from './defs/live-migration.js';
import { evacuate } from './defs/evacuate.js';

export const TASKS = {
  ...POWER_TASKS,
  create: build,
  delete: hardDelete,
  soft_delete: softDelete,
  resize,
  migrate,
  confirm_resize: confirmResize,
  revert_resize: revertResize,
  snapshot,
  rebuild,
  backup,
  shelve,
  shelve_offload: shelveOffload,
  unshelve,
  attach_interface: attachInterface,
  detach_interface: detachInterface,
  attach_volume: attachVolume,
  detach_volume: detachVolume,
  live_migrate: liveMigrate,
  evacuate,
} satisfies Record<string, AnyTaskDef>;

export type TaskKind = keyof typeof TASKS;

/** the single-host actions the API starts by name alone (no parameters beyond the server) */
export type SimpleTaskKind = keyof typeof POWER_TASKS;

/**
 * the task that runs under a task_state (recovery of servers from before persisted tasks); a build's task_states
 * are its own, so a build being deleted is a delete
 */
export function taskForState(taskState: string, vmState: string): AnyTaskDef | undefined {
  const own = Object.values(TASKS).find((d: AnyTaskDef) => d.taskState === taskState && d.kind !== 'create');
  return own ?? (vmState === 'building' ? TASKS.create : undefined);
}
