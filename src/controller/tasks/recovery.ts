/**
 * Controller start: tasks are persisted, so recovery is the engine's takeover (engine.ts adopt: this controller's
 * own tasks from before its restart at once, other controllers' when their leases run out). This file handles the
 * one case the task rows cannot: servers left with a task_state by a controller from before persisted tasks (a
 * database upgraded in place). Those are re-driven as tasks when they can be — builds, deletes and power actions
 * with an open instance action, under that action's request id, so the agent answers with the operation it
 * already ran — and otherwise cleared (Nova's init_host) or, for a build with nothing to go on, put in ERROR.
 */
import { randomUUID } from 'node:crypto';
import type { Store } from '../../store/index.js';
import { POWER } from '../compute/power.js';
import type { TaskEngine } from './engine.js';
import { taskForState } from './registry.js';

export interface RecoveryReport {
  /** tasks of this or a dead controller taken over and re-driven from their recorded step */
  adopted: number;
  redriven: string[]; errored: string[]; redrivenDeletes: string[]; cleared: string[];
}

/** only these kinds are re-driven from a bare task_state: their host calls are idempotent under the request id */
const REDRIVABLE = new Set(['create', 'delete', 'start', 'stop', 'pause', 'unpause', 'suspend', 'resume', 'reboot_soft', 'reboot_hard']);

export async function recoverTasks(store: Store, engine: TaskEngine): Promise<RecoveryReport> {
  const report: RecoveryReport = { adopted: await engine.adopt(), redriven: [], errored: [], redrivenDeletes: [], cleared: [] };
  const at = () => new Date().toISOString();
  let marker: string | undefined;
  for (;;) {
    // keyset pages by uuid: re-driven servers keep their task_state until done, so the query must move on
    const batch = await store.listServers({ withTask: true, limit: 500, sort: [{ key: 'uuid', dir: 'asc' }], ...(marker ? { marker } : {}) });
    if (batch.length === 0) break;
    marker = batch[batch.length - 1]!.id;
    for (const s of batch) {
      if ((await store.listServerTasks(s.id)).length > 0) continue; // a persisted task drives it
      const task = s.taskState!;
      const def = taskForState(task, s.vmState);
      const open = (await store.listInstanceActions(s.id)).find((a) => a.finishTime === null) ?? null;
      // a delete needs no request of its own to be finished; the others go on under their open action's request id
      if (def && REDRIVABLE.has(def.kind) && (open || def.kind === 'delete')) {
        const row = await engine.begin({
          def, serverId: s.id, requestId: open?.requestId ?? `req-${randomUUID()}`, userId: s.userId, projectId: s.projectId,
          eventHost: s.host, expect: { taskState: task }, ...(open ? { actionId: open.id } : { message: 'recovered' }),
          // the host was decided before the restart: kept, not filtered again
          ...(def.kind === 'create' && s.host ? { params: { requestedHost: s.host, forceHost: true } } : {}),
        });
        if (row) (def.kind === 'delete' ? report.redrivenDeletes : report.redriven).push(s.id);
      } else if (s.vmState === 'building') {
        await store.failOpenActions(s.id, at(), 'Error: controller restarted while the task was running');
        await store.updateServerIf(s.id, { taskState: task }, { vmState: 'error', taskState: null, powerState: POWER.NOSTATE, fault: { code: 500, message: 'Build interrupted by a controller restart', created: at() } });
        report.errored.push(s.id);
      } else {
        await store.failOpenActions(s.id, at(), 'Error: controller restarted while the task was running');
        await store.updateServerIf(s.id, { taskState: task }, { taskState: null });
        report.cleared.push(s.id);
      }
    }
  }
  return report;
}
