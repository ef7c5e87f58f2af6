/**
 * The task runner: an API action becomes (1) an instance action row with one event, (2) background work through
 * the driver, (3) a completion that compare-and-swaps task_state back from the task's value, so that a task that
 * lost its server to a concurrent delete or reset-state never overwrites what happened since.
 * Unfinished tasks are visible as actions without finish_time (re-driving them after a restart: see report).
 */
import type { Store, Server, ServerChanges, InstanceAction } from '../../store/index.js';
import type { RequestContext } from '../context.js';

export interface TaskLogger { error(obj: object, msg: string): void; }

export class TaskRunner {
  private readonly pending = new Set<Promise<void>>();

  constructor(private readonly store: Store, private readonly log: TaskLogger = { error: () => {} }) {}

  /** one instance action per API request (Nova: one per request id) */
  record(ctx: RequestContext, serverId: string, action: string, message: string | null = null): Promise<InstanceAction> {
    return this.store.createInstanceAction({
      serverId, action, requestId: ctx.requestId, userId: ctx.userId, projectId: ctx.projectId,
      startTime: new Date().toISOString(), message,
    });
  }

  /** an action that completes immediately (lock, unlock, resetState) */
  async recordDone(ctx: RequestContext, serverId: string, action: string): Promise<void> {
    const a = await this.record(ctx, serverId, action);
    await this.store.finishInstanceAction(a.id, new Date().toISOString(), null);
  }

  /**
   * Run `work` in the background. On success its changes are applied with task_state cleared, only if task_state
   * is still `task`; on failure task_state is cleared, a fault recorded and `onError` applied.
   */
  start(opts: {
    server: Server; action: InstanceAction; event: string; task: string;
    work: () => Promise<ServerChanges>;
    onError?: ServerChanges;
    /** runs after a successful CAS (e.g. mark deleted, make an image active) */
    after?: () => Promise<void>;
    /** runs after a failure */
    afterError?: (e: Error) => Promise<void>;
  }): void {
    // drive() records its own failures; this catch only guards against the store itself failing (e.g. closed)
    const p = this.drive(opts)
      .catch((err) => this.log.error({ err, serverId: opts.server.id }, 'task bookkeeping failed'))
      .finally(() => this.pending.delete(p));
    this.pending.add(p);
  }

  private async drive(o: Parameters<TaskRunner['start']>[0]): Promise<void> {
    const ev = await this.store.startActionEvent(o.action.id, o.event, new Date().toISOString(), o.server.host);
    try {
      const changes = await o.work();
      const won = await this.store.updateServerIf(o.server.id, { taskState: o.task }, { ...changes, taskState: changes.taskState ?? null });
      if (won && o.after) await o.after();
      const t = new Date().toISOString();
      await this.store.finishActionEvent(ev.id, t, 'Success', null);
      await this.store.finishInstanceAction(o.action.id, t, null);
    } catch (err) {
      const e = err instanceof Error ? err : new Error(String(err));
      const t = new Date().toISOString();
      try {
        await this.store.updateServerIf(o.server.id, { taskState: o.task }, {
          ...(o.onError ?? {}), taskState: null,
          fault: { code: 500, message: e.message, created: t },
        });
        if (o.afterError) await o.afterError(e);
        await this.store.finishActionEvent(ev.id, t, 'Error', e.stack ?? e.message);
        await this.store.finishInstanceAction(o.action.id, t, 'Error');
      } catch (e2) {
        this.log.error({ err: e2, serverId: o.server.id }, 'recording a task failure failed');
      }
      this.log.error({ err: e, serverId: o.server.id, requestId: o.action.requestId }, `task ${o.task} failed`);
    }
  }

  /** resolves when every task started so far has settled (tests, graceful shutdown) */
  async idle(): Promise<void> {
    while (this.pending.size) await Promise.allSettled([...this.pending]);
  }
}
