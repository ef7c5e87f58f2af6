import type { OperationKind } from '../../rpc/protocol/operations.js';
import { destroy } from './destroy.js';
import { attachDisk, attachNic, detachDisk, detachNic } from './devices.js';
import { pause, reboot, resume, start, stop, suspend, unpause } from './power-ops.js';
import { rebuild } from './rebuild.js';
import { liveMigrate } from './live-migrate.js';
import { liveMigrateFinish, liveMigratePrepare, liveMigrateRollback } from './live-migrate-dest.js';
import { resize, resizeConfirm, resizeRevert } from './resize.js';
import { snapshot } from './snapshot.js';
import { migrateReceive } from './migrate-receive.js';
import { spawn } from './spawn.js';
import type { OperationDef } from './types.js';

/** Every operation kind the agent runs, one small module each. */
export const OPERATIONS: { [K in OperationKind]: OperationDef<K> } = {
  spawn, start, stop, reboot, pause, unpause, suspend, resume, destroy,
  attach_disk: attachDisk, detach_disk: detachDisk, attach_nic: attachNic, detach_nic: detachNic,
  rebuild, resize, migrate_receive: migrateReceive, resize_confirm: resizeConfirm, resize_revert: resizeRevert, snapshot,
  live_migrate_prepare: liveMigratePrepare, live_migrate: liveMigrate, live_migrate_finish: liveMigrateFinish,
  live_migrate_rollback: liveMigrateRollback,
};

export function operationDef(kind: OperationKind): OperationDef {
  return OPERATIONS[kind] as unknown as OperationDef;
}
