/**
 * Controller restart: tasks that were running when the controller stopped have no one to finish them. Every
 * driver call is idempotent under the request id of the API request that started it (the agent keeps the
 * operation under that id), so recovery re-drives the same call with the same request id: an operation the agent
 * already finished answers at once with its result, a running one is waited for, one that never reached the agent
 * runs now. Builds, deletes and the power actions are re-driven this way; the other tasks (resize, snapshot,
 * rebuild, ...) are cleared so the server accepts actions again (Nova's init_host does the same) and their actions
 * are closed as Error. A build with no recorded request cannot be re-driven and goes to ERROR.
 */
import { randomUUID } from 'node:crypto';
import type { InstanceAction, Server, ServerChanges, Store } from '../../store/index.js';
import type { ComputeTaskDriver, TaskContext } from './driver.js';
import { POWER } from './driver.js';
import type { TaskRunner } from './tasks.js';
import { RULES } from './states.js';

export interface RecoveryReport { redriven: string[]; errored: string[]; redrivenDeletes: string[]; cleared: string[]; }

type Redrive = { event: string; work: (d: ComputeTaskDriver, s: Server, ctx: TaskContext) => Promise<ServerChanges> };

const power = (vmState: string, call: (d: ComputeTaskDriver, s: Server, ctx: TaskContext) => Promise<{ powerState: number }>, event: string): Redrive =>
  ({ event, work: async (d, s, ctx) => ({ vmState, powerState: (await call(d, s, ctx)).powerState }) });

/** task_state -> how to finish it (completion changes as in actions.ts / servers.ts) */
const REDRIVE: Record<string, Redrive> = {
  [RULES.start.task]: power('active', (d, s, c) => d.start(s, c), RULES.start.event),
  [RULES.stop.task]: power('stopped', (d, s, c) => d.stop(s, c), RULES.stop.event),
  [RULES.pause.task]: power('paused', (d, s, c) => d.pause(s, c), RULES.pause.event),
  [RULES.unpause.task]: power('active', (d, s, c) => d.unpause(s, c), RULES.unpause.event),
  [RULES.suspend.task]: power('suspended', (d, s, c) => d.suspend(s, c), RULES.suspend.event),
  [RULES.resume.task]: power('active', (d, s, c) => d.resume(s, c), RULES.resume.event),
  [RULES.rebootSoft.task]: power('active', (d, s, c) => d.reboot(s, false, c), RULES.rebootSoft.event),
  [RULES.rebootHard.task]: power('active', (d, s, c) => d.reboot(s, true, c), RULES.rebootHard.event),
};

export async function recoverUnfinishedTasks(store: Store, driver: ComputeTaskDriver, tasks: TaskRunner): Promise<RecoveryReport> {
  const report: RecoveryReport = { redriven: [], errored: [], redrivenDeletes: [], cleared: [] };
  const at = () => new Date().toISOString();
  let marker: string | undefined;
  for (;;) {
    // keyset pages by uuid: re-driven servers keep their task_state until done, so the query must move on
    const batch = await store.listServers({ withTask: true, limit: 500, sort: [{ key: 'uuid', dir: 'asc' }], ...(marker ? { marker } : {}) });
    if (batch.length === 0) break;
    marker = batch[batch.length - 1]!.id;
    for (const s of batch) {
      const task = s.taskState!;
      const open = (await store.listInstanceActions(s.id)).find((a) => a.finishTime === null) ?? null;
      const ctx = { requestId: open?.requestId ?? `req-${randomUUID()}`, userId: s.userId, projectId: s.projectId };
      const action = async (name: string): Promise<InstanceAction> => open ?? store.createInstanceAction({ serverId: s.id, action: name, ...ctx, startTime: at(), message: 'recovered' });
      if (task === 'deleting') {
        tasks.start({
          server: s, action: await action('delete'), event: 'compute_terminate_instance', task,
          work: async () => { await driver.destroy(s, ctx); return { taskState: 'deleting' }; },
          after: async () => { await store.markServerDeleted(s.id, at()); },
        });
        report.redrivenDeletes.push(s.id);
      } else if (s.vmState === 'building' && open) {
        tasks.start({
          server: s, action: open, event: 'compute__do_build_and_run_instance', task,
          work: async () => {
            const r = await driver.spawn(s, ctx, s.host ? { host: s.host } : {});
            return { vmState: 'active', powerState: r.powerState, host: r.host, node: r.node, addresses: r.addresses, launchedAt: at(), progress: 100 };
          },
          onError: { vmState: 'error', powerState: POWER.NOSTATE },
        });
        report.redriven.push(s.id);
      } else if (s.vmState === 'building') {
        await store.failOpenActions(s.id, at(), 'Error: controller restarted while the task was running');
        await store.updateServerIf(s.id, { taskState: task }, { vmState: 'error', taskState: null, powerState: POWER.NOSTATE, fault: { code: 500, message: 'Build interrupted by a controller restart', created: at() } });
        report.errored.push(s.id);
      } else if (REDRIVE[task] && open) {
        const r = REDRIVE[task];
        tasks.start({ server: s, action: open, event: r.event, task, work: () => r.work(driver, s, ctx) });
        report.redriven.push(s.id);
      } else {
        await store.failOpenActions(s.id, at(), 'Error: controller restarted while the task was running');
        await store.updateServerIf(s.id, { taskState: task }, { taskState: null });
        report.cleared.push(s.id);
      }
    }
  }
  return report;
}
