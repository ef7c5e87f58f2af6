/**
 * Persisted tasks (migration 7), as in sqlite/tasks.ts: every write that moves a task is conditional on its owner;
 * begin and finish are one transaction each with the server, instance action and claim writes they belong with.
 * Two controllers taking over one task both run the conditional UPDATE: PostgreSQL's row lock lets one win.
 */
import type { TaskRepo } from '../repos/tasks.js';
import type { BeginTask, FinishTask, TaskRow } from '../types.js';
import { now } from '../sqlite/columns.js';
import { rowToTask } from '../sqlite/tasks.js';
import type { Queryable } from './db.js';
import { PgRepository } from './repository.js';
import { release } from './claims.js';
import { insertServer, markServerDeleted, updateServerIf } from './servers.js';
import { releaseDevicePorts } from './networks.js';

async function get(q: Queryable, id: string): Promise<TaskRow | null> {
  const r = (await q.query('SELECT * FROM tasks WHERE id = ?', [id])).rows[0];
  return r ? rowToTask(r) : null;
}

export class PgTasks extends PgRepository implements TaskRepo {
  async beginTask(b: BeginTask): Promise<TaskRow | null> {
    return this.db.tx(async (q) => {
      if (b.newServer) await insertServer(q, b.newServer);
      else if (!(await updateServerIf(q, b.serverId, b.expect ?? {}, b.changes ?? {}))) return null;
      const t = now();
      const actionId = b.actionId ?? ((await q.query(`INSERT INTO instance_actions (server_id, action, request_id, user_id, project_id,
        start_time, message, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`, [b.serverId, b.action.action, b.action.requestId,
        b.action.userId, b.action.projectId, t, b.action.message, t])).rows[0]!.id as number);
      const eventId = (await q.query('INSERT INTO instance_action_events (action_id, event, start_time, host) VALUES (?, ?, ?, ?) RETURNING id',
        [actionId, b.event, t, b.eventHost])).rows[0]!.id as number;
      await q.query(`INSERT INTO tasks (id, server_id, kind, step, params, data, request_id, user_id, project_id, action_id, event_id, owner,
        lease_until, created_at, updated_at) VALUES (?, ?, ?, 0, ?, '{}', ?, ?, ?, ?, ?, ?, ?, ?, ?)`, [b.task.id, b.serverId, b.task.kind,
        JSON.stringify(b.task.params), b.action.requestId, b.action.userId, b.action.projectId, actionId, eventId, b.task.owner, b.task.leaseUntil, t, t]);
      return get(q, b.task.id);
    });
  }

  async getTask(id: string): Promise<TaskRow | null> { return get(this.q, id); }

  async checkpointTask(id: string, owner: string, step: number, data: Record<string, unknown>): Promise<boolean> {
    return (await this.run('UPDATE tasks SET step = ?, data = ?, updated_at = ? WHERE id = ? AND owner = ?', [step, JSON.stringify(data), now(), id, owner])) === 1;
  }

  async finishTask(f: FinishTask, owner: string): Promise<{ owned: boolean; won: boolean }> {
    return this.db.tx(async (q) => {
      if ((await q.query('DELETE FROM tasks WHERE id = ? AND owner = ?', [f.taskId, owner])).rowCount !== 1) return { owned: false, won: false };
      const t = now();
      const won = await updateServerIf(q, f.serverId, { taskState: f.expectTaskState }, f.changes);
      if (won && f.deleteServer) {
        await markServerDeleted(q, f.serverId, t);
        await q.query('DELETE FROM fixed_ips WHERE server_id = ?', [f.serverId]);
        await releaseDevicePorts(q, f.serverId);
      }
      if (won && f.releaseClaim) await release(q, f.serverId);
      await q.query('UPDATE instance_action_events SET finish_time = ?, result = ?, traceback = ? WHERE id = ?', [t, f.result, f.detail, f.eventId]);
      await q.query('UPDATE instance_actions SET finish_time = ?, updated_at = ?, message = COALESCE(?, message) WHERE id = ?', [t, t, f.message, f.actionId]);
      return { owned: true, won };
    });
  }

  async renewTaskLeases(owner: string, until: number): Promise<number> {
    return this.run('UPDATE tasks SET lease_until = ? WHERE owner = ?', [until, owner]);
  }

  async takeOverTask(id: string, owner: string, until: number, at: number): Promise<TaskRow | null> {
    const r = await this.one(`UPDATE tasks SET owner = ?, lease_until = ?, attempts = attempts + 1, updated_at = ?
      WHERE id = ? AND (lease_until < ? OR owner = ?) RETURNING *`, [owner, until, new Date(at).toISOString(), id, at, owner]);
    return r ? rowToTask(r) : null;
  }

  async listAdoptableTasks(owner: string, at: number, limit: number, after?: { createdAt: string; id: string }): Promise<TaskRow[]> {
    const page = after ? ' AND (created_at, id) > (?, ?)' : '';
    return (await this.all(`SELECT * FROM tasks WHERE (lease_until < ? OR owner = ?)${page} ORDER BY created_at, id LIMIT ?`,
      [at, owner, ...(after ? [after.createdAt, after.id] : []), limit])).map(rowToTask);
  }

  async listServerTasks(serverId: string): Promise<TaskRow[]> {
    return (await this.all('SELECT * FROM tasks WHERE server_id = ? ORDER BY created_at, id', [serverId])).map(rowToTask);
  }

  async cancelOtherTasks(serverId: string, exceptId: string): Promise<number> {
    return this.run('UPDATE tasks SET cancelled = 1 WHERE server_id = ? AND id != ?', [serverId, exceptId]);
  }
}
