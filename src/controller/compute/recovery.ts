/**
 * Controller restart: tasks that were running when the controller stopped have no one to finish them. Following
 * Nova's init_host: a build that never finished -> ERROR; a delete is re-driven (the driver's destroy is
 * idempotent); any other task is cleared so the server accepts actions again (without this every action would
 * answer 409 forever). Their instance actions are closed as Error. Power state is re-synchronised from the agents
 * when they report (the agent owns facts).
 */
import { randomUUID } from 'node:crypto';
import type { Store } from '../../store/index.js';
import type { ComputeTaskDriver } from './driver.js';
import { POWER } from './driver.js';
import type { TaskRunner } from './tasks.js';

export interface RecoveryReport { errored: string[]; redrivenDeletes: string[]; cleared: string[]; }

export async function recoverUnfinishedTasks(store: Store, driver: ComputeTaskDriver, tasks: TaskRunner): Promise<RecoveryReport> {
  const report: RecoveryReport = { errored: [], redrivenDeletes: [], cleared: [] };
  const at = () => new Date().toISOString();
  for (;;) {
    // in batches: recovery changes task_state, so the same query returns the next batch
    const batch = await store.listServers({ withTask: true, limit: 500, sort: [{ key: 'uuid', dir: 'asc' }] });
    if (batch.length === 0) break;
    for (const s of batch) {
      const task = s.taskState!;
      await store.failOpenActions(s.id, at(), 'Error: controller restarted while the task was running');
      if (task === 'deleting') {
        const ctx = { requestId: `req-${randomUUID()}`, userId: s.userId, projectId: s.projectId };
        const action = await store.createInstanceAction({ serverId: s.id, action: 'delete', ...ctx, startTime: at(), message: 'recovered' });
        tasks.start({
          server: s, action, event: 'compute_terminate_instance', task: 'deleting',
          work: async () => { await driver.destroy(s, ctx); return { taskState: 'deleting' }; },
          after: async () => { await store.markServerDeleted(s.id, at()); },
        });
        report.redrivenDeletes.push(s.id);
        // the re-driven delete keeps task_state 'deleting' until done: wait so the loop does not see it again
        await tasks.idle();
      } else if (s.vmState === 'building') {
        await store.updateServerIf(s.id, { taskState: task }, { vmState: 'error', taskState: null, powerState: POWER.NOSTATE, fault: { code: 500, message: 'Build interrupted by a controller restart', created: at() } });
        report.errored.push(s.id);
      } else {
        await store.updateServerIf(s.id, { taskState: task }, { taskState: null });
        report.cleared.push(s.id);
      }
    }
  }
  return report;
}
