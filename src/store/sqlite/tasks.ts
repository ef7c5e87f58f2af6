/**
 * Persisted tasks (migration 7): the rows controller/tasks/engine.ts drives. Every write that moves a task is
 * conditional on its owner, so a controller that lost a task (its lease ran out and another took it) can no
 * longer move it; begin and finish are one transaction each with the server, instance action and claim writes
 * they belong with.
 */
import type { BeginTask, FinishTask, NewServer, ServerChanges, ServerExpect, TaskRow } from '../types.js';
import type { Db } from './open.js';
import type { SqliteClaims } from './claims.js';

type Row = Record<string, unknown>;

export function rowToTask(r: Row): TaskRow {
  return {
    id: r.id as string, serverId: r.server_id as string, kind: r.kind as string, step: r.step as number,
    params: JSON.parse(r.params as string) as Record<string, unknown>, data: JSON.parse(r.data as string) as Record<string, unknown>,
    requestId: r.request_id as string, userId: r.user_id as string, projectId: r.project_id as string,
    actionId: r.action_id as number, eventId: r.event_id as number, owner: r.owner as string, leaseUntil: r.lease_until as number,
    cancelled: r.cancelled === 1, attempts: r.attempts as number, createdAt: r.created_at as string, updatedAt: r.updated_at as string,
  };
}

/** what the tasks need of the server repository, synchronously, inside their transactions */
export interface ServerWrites {
  insert(s: NewServer): void;
  updateIf(id: string, e: ServerExpect, changes: ServerChanges): boolean;
  markDeleted(id: string, at: string): void;
  releaseFixedIps(id: string): void;
}

export class SqliteTasks {
  constructor(private readonly db: Db, private readonly servers: ServerWrites, private readonly claims: SqliteClaims) {}

  begin(b: BeginTask): TaskRow | null {
    return this.db.transaction(() => {
      if (b.newServer) this.servers.insert(b.newServer);
      else if (!this.servers.updateIf(b.serverId, b.expect ?? {}, b.changes ?? {})) return null;
      const t = new Date().toISOString();
      const actionId = b.actionId ?? Number(this.db.prepare(`INSERT INTO instance_actions (server_id, action, request_id, user_id, project_id,
        start_time, message, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`).run(b.serverId, b.action.action, b.action.requestId, b.action.userId,
        b.action.projectId, t, b.action.message, t).lastInsertRowid);
      const eventId = Number(this.db.prepare('INSERT INTO instance_action_events (action_id, event, start_time, host) VALUES (?, ?, ?, ?)')
        .run(actionId, b.event, t, b.eventHost).lastInsertRowid);
      this.db.prepare(`INSERT INTO tasks (id, server_id, kind, step, params, data, request_id, user_id, project_id, action_id, event_id, owner,
        lease_until, created_at, updated_at) VALUES (?, ?, ?, 0, ?, '{}', ?, ?, ?, ?, ?, ?, ?, ?, ?)`).run(b.task.id, b.serverId, b.task.kind,
        JSON.stringify(b.task.params), b.action.requestId, b.action.userId, b.action.projectId, actionId, eventId, b.task.owner, b.task.leaseUntil, t, t);
      return this.get(b.task.id);
    }).immediate();
  }

  get(id: string): TaskRow | null {
    const r = this.db.prepare('SELECT * FROM tasks WHERE id = ?').get(id) as Row | undefined;
    return r ? rowToTask(r) : null;
  }

  /** records the step about to run and the data saved so far; false when `owner` no longer holds the task */
  checkpoint(id: string, owner: string, step: number, data: Record<string, unknown>): boolean {
    return this.db.prepare('UPDATE tasks SET step = ?, data = ?, updated_at = ? WHERE id = ? AND owner = ?')
      .run(step, JSON.stringify(data), new Date().toISOString(), id, owner).changes === 1;
  }

  /**
   * The task's end, in one transaction: server CAS, claim/IPs, event, action, task row gone. `owned` false: another
   * controller holds the task now (nothing written); `won` false: the server moved on (a delete, reset-state).
   */
  finish(f: FinishTask, owner: string): { owned: boolean; won: boolean } {
    return this.db.transaction(() => {
      if (this.db.prepare('DELETE FROM tasks WHERE id = ? AND owner = ?').run(f.taskId, owner).changes !== 1) return { owned: false, won: false };
      const t = new Date().toISOString();
      const won = this.servers.updateIf(f.serverId, { taskState: f.expectTaskState }, f.changes);
      if (won && f.deleteServer) {
        this.servers.markDeleted(f.serverId, t);
        this.servers.releaseFixedIps(f.serverId);
      }
      if (won && f.releaseClaim) this.claims.release(f.serverId);
      this.db.prepare('UPDATE instance_action_events SET finish_time = ?, result = ?, traceback = ? WHERE id = ?').run(t, f.result, f.detail, f.eventId);
      this.db.prepare('UPDATE instance_actions SET finish_time = ?, updated_at = ?, message = COALESCE(?, message) WHERE id = ?').run(t, t, f.message, f.actionId);
      return { owned: true, won };
    }).immediate();
  }

  renew(owner: string, until: number): number {
    return this.db.prepare('UPDATE tasks SET lease_until = ? WHERE owner = ?').run(until, owner).changes;
  }

  /** takes a task whose lease ran out (or that `owner` itself held before a restart); null when someone else has it */
  takeOver(id: string, owner: string, until: number, now: number): TaskRow | null {
    const ok = this.db.prepare(`UPDATE tasks SET owner = ?, lease_until = ?, attempts = attempts + 1, updated_at = ?
      WHERE id = ? AND (lease_until < ? OR owner = ?)`).run(owner, until, new Date(now).toISOString(), id, now, owner).changes === 1;
    return ok ? this.get(id) : null;
  }

  /** tasks whose lease ran out, plus those `owner` holds (a restarted controller's own), oldest first */
  listAdoptable(owner: string, now: number, limit: number): TaskRow[] {
    return (this.db.prepare('SELECT * FROM tasks WHERE lease_until < ? OR owner = ? ORDER BY created_at, id LIMIT ?').all(now, owner, limit) as Row[]).map(rowToTask);
  }

  listForServer(serverId: string): TaskRow[] {
    return (this.db.prepare('SELECT * FROM tasks WHERE server_id = ? ORDER BY created_at, id').all(serverId) as Row[]).map(rowToTask);
  }

  /** asks every other task of the server to stop before its next host call (a delete won) */
  cancelOthers(serverId: string, exceptId: string): number {
    return this.db.prepare('UPDATE tasks SET cancelled = 1 WHERE server_id = ? AND id != ?').run(serverId, exceptId).changes;
  }
}
