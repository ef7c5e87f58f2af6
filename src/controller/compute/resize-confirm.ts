/**
 * Automatic confirm of resizes and cold migrations left in VERIFY_RESIZE longer than resize_confirm_window (Nova's
 * _poll_unconfirmed_resizes; off by default, as in Nova). Each due server gets a confirm_resize task through the
 * task engine: the task's begin is a compare-and-swap of the server's task_state, so when several controllers
 * sweep at once exactly one starts it, and the task is persisted, leased and re-driven like any other.
 */
import { randomUUID } from 'node:crypto';
import type { Store } from '../../store/index.js';
import type { TaskEngine } from '../tasks/engine.js';
import { TASKS } from '../tasks/registry.js';
import { RULES } from './states.js';

export class ResizeConfirmSweep {
  constructor(private readonly store: Store, private readonly tasks: TaskEngine, private readonly windowSeconds: number) {}

  /** starts the confirms that are due; returns how many this controller started */
  async sweep(nowMs = Date.now()): Promise<number> {
    if (this.windowSeconds <= 0) return 0;
    const before = new Date(nowMs - this.windowSeconds * 1000).toISOString();
    const due = await this.store.listMigrations({ statuses: ['finished'], updatedBefore: before, limit: 200 });
    let n = 0;
    for (const m of due) {
      if (m.migrationType !== 'resize' && m.migrationType !== 'migration') continue;
      const s = await this.store.getServer(m.serverId);
      if (!s || s.vmState !== 'resized' || s.taskState !== null) continue;
      const row = await this.tasks.begin({
        def: TASKS.confirm_resize, serverId: s.id, requestId: `req-${randomUUID()}`, userId: s.userId, projectId: s.projectId,
        message: 'automatic confirm (resize_confirm_window)', eventHost: s.host,
        expect: { taskState: null, vmState: ['resized'] }, changes: { taskState: RULES.confirmResize.task },
      });
      if (row) n++;
    }
    return n;
  }
}
