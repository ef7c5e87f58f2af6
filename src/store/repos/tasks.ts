/** Persisted multi-step tasks with an owner and a lease (store/sqlite/tasks.ts, controller/tasks/). */
import type { BeginTask, FinishTask, TaskRow } from '../types.js';

export interface TaskRepo {
  /** server write (insert or CAS) + instance action + event + task row in one transaction; null when the CAS lost */
  beginTask(b: BeginTask): Promise<TaskRow | null>;
  getTask(id: string): Promise<TaskRow | null>;
  /** records the step about to run and the data so far; false when `owner` no longer holds the task */
  checkpointTask(id: string, owner: string, step: number, data: Record<string, unknown>): Promise<boolean>;
  /**
   * The task's end, in one transaction: server CAS, claim/addresses, event, action, task row gone. `owned` false:
   * another controller holds the task now (nothing written); `won` false: the server moved on (delete, reset-state).
   */
  finishTask(f: FinishTask, owner: string): Promise<{ owned: boolean; won: boolean }>;
  /** extends the lease of every task `owner` holds */
  renewTaskLeases(owner: string, until: number): Promise<number>;
  /** takes a task whose lease ran out (or that `owner` held before a restart); null when someone else has it */
  takeOverTask(id: string, owner: string, until: number, now: number): Promise<TaskRow | null>;
  /** tasks whose lease ran out, plus those `owner` holds, oldest first; keyset pages after `after` */
  listAdoptableTasks(owner: string, now: number, limit: number, after?: { createdAt: string; id: string }): Promise<TaskRow[]>;
  listServerTasks(serverId: string): Promise<TaskRow[]>;
  /** asks every other task of the server to stop before its next host call (a delete won) */
  cancelOtherTasks(serverId: string, exceptId: string): Promise<number>;
}
