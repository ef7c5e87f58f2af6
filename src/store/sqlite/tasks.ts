/**
 * Persisted tasks (migration 7): the rows controller/tasks/engine.ts drives. Every write that moves a task is
 * conditional on its owner, so a controller that lost a task (its lease ran out and another took it) can no
 * longer move it; begin and finish are one transaction each with the server, instance action and claim writes
 * they belong with.
 */
import type { TaskRepo } from '../repos/tasks.js';
import type { BeginTask, FinishTask, TaskRow } from '../types.js';
import { now, type Row } from './columns.js';
import { SqliteRepository } from './repository.js';
import { release } from './claims.js';
import { insertServer, markServerDeleted, updateServerIf } from './servers.js';
import { releaseDevicePorts } from './networks.js';

export function rowToTask(r: Row): TaskRow {
  return {
    id: r.id as string, serverId: r.server_id as string, kind: r.kind as string, step: r.step as number,
    params: JSON.parse(r.params as string) as Record<string, unknown>, data: JSON.parse(r.data as string) as Record<string, unknown>,
    requestId: r.request_id as string, userId: r.user_id as string, projectId: r.project_id as string,
    actionId: r.action_id as number, eventId: r.event_id as number, owner: r.owner as string, leaseUntil: r.lease_until as number,
    cancelled: r.cancelled === 1, attempts: r.attempts as number, createdAt: r.created_at as string, updatedAt: r.updated_at as string,
  };
}

export class SqliteTasks extends SqliteRepository implements TaskRepo {
  async beginTask(b: BeginTask): Promise<TaskRow | null> {
    return this.db.transaction(() => {
      if (b.newServer) insertServer(this.conn, b.newServer);
      else if (!updateServerIf(this.conn, b.serverId, b.expect ?? {}, b.changes ?? {})) return null;
      const t = now();
      const actionId = b.actionId ?? Number(this.cached(`INSERT INTO instance_actions (server_id, action, request_id, user_id, project_id,
        start_time, message, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`).run(b.serverId, b.action.action, b.action.requestId, b.action.userId,
        b.action.projectId, t, b.action.message, t).lastInsertRowid);
      const eventId = Number(this.cached('INSERT INTO instance_action_events (action_id, event, start_time, host) VALUES (?, ?, ?, ?)')
        .run(actionId, b.event, t, b.eventHost).lastInsertRowid);
      this.cached(`INSERT INTO tasks (id, server_id, kind, step, params, data, request_id, user_id, project_id, action_id, event_id, owner,
        lease_until, created_at, updated_at) VALUES (?, ?, ?, 0, ?, '{}', ?, ?, ?, ?, ?, ?, ?, ?, ?)`).run(b.task.id, b.serverId, b.task.kind,
        JSON.stringify(b.task.params), b.action.requestId, b.action.userId, b.action.projectId, actionId, eventId, b.task.owner, b.task.leaseUntil, t, t);
      return this.#get(b.task.id);
    }).immediate();
  }

  async getTask(id: string): Promise<TaskRow | null> { return this.#get(id); }

  #get(id: string): TaskRow | null {
    const r = this.cached('SELECT * FROM tasks WHERE id = ?').get(id) as Row | undefined;
    return r ? rowToTask(r) : null;
  }

  async checkpointTask(id: string, owner: string, step: number, data: Record<string, unknown>): Promise<boolean> {
    return this.cached('UPDATE tasks SET step = ?, data = ?, updated_at = ? WHERE id = ? AND owner = ?')
      .run(step, JSON.stringify(data), now(), id, owner).changes === 1;
  }

  async finishTask(f: FinishTask, owner: string): Promise<{ owned: boolean; won: boolean }> {
    return this.db.transaction(() => {
      if (this.cached('DELETE FROM tasks WHERE id = ? AND owner = ?').run(f.taskId, owner).changes !== 1) return { owned: false, won: false };
      const t = now();
      const won = updateServerIf(this.conn, f.serverId, { taskState: f.expectTaskState }, f.changes);
      if (won && f.deleteServer) {
        markServerDeleted(this.conn, f.serverId, t);
        this.cached('DELETE FROM fixed_ips WHERE server_id = ?').run(f.serverId);
        releaseDevicePorts(this.conn, f.serverId);
      }
      if (won && f.releaseClaim) release(this.conn, f.serverId);
      this.cached('UPDATE instance_action_events SET finish_time = ?, result = ?, traceback = ? WHERE id = ?').run(t, f.result, f.detail, f.eventId);
      this.cached('UPDATE instance_actions SET finish_time = ?, updated_at = ?, message = COALESCE(?, message) WHERE id = ?').run(t, t, f.message, f.actionId);
      return { owned: true, won };
    }).immediate();
  }

  async renewTaskLeases(owner: string, until: number): Promise<number> {
    return this.cached('UPDATE tasks SET lease_until = ? WHERE owner = ?').run(until, owner).changes;
  }

  async takeOverTask(id: string, owner: string, until: number, at: number): Promise<TaskRow | null> {
    const ok = this.cached(`UPDATE tasks SET owner = ?, lease_until = ?, attempts = attempts + 1, updated_at = ?
      WHERE id = ? AND (lease_until < ? OR owner = ?)`).run(owner, until, new Date(at).toISOString(), id, at, owner).changes === 1;
    return ok ? this.#get(id) : null;
  }

  async listAdoptableTasks(owner: string, at: number, limit: number, after?: { createdAt: string; id: string }): Promise<TaskRow[]> {
    const page = after ? ' AND (created_at, id) > (?, ?)' : '';
    return (this.cached(`SELECT * FROM tasks WHERE (lease_until < ? OR owner = ?)${page} ORDER BY created_at, id LIMIT ?`)
      .all(at, owner, ...(after ? [after.createdAt, after.id] : []), limit) as Row[]).map(rowToTask);
  }

  async listServerTasks(serverId: string): Promise<TaskRow[]> {
    return (this.cached('SELECT * FROM tasks WHERE server_id = ? ORDER BY created_at, id').all(serverId) as Row[]).map(rowToTask);
  }

  async cancelOtherTasks(serverId: string, exceptId: string): Promise<number> {
    return this.cached('UPDATE tasks SET cancelled = 1 WHERE server_id = ? AND id != ?').run(serverId, exceptId).changes;
  }
}
