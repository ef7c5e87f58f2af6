/** PostgreSQL repository of instance actions and their events. */
import type { InstanceActionRepo } from '../repos/instance-actions.js';
import type { InstanceAction, InstanceActionEvent } from '../types.js';
import type { Row } from './db.js';
import { PgRepository } from './repository.js';

export class PgInstanceActions extends PgRepository implements InstanceActionRepo {
  async createInstanceAction(a: Omit<InstanceAction, 'id' | 'finishTime' | 'updatedAt'>): Promise<InstanceAction> {
    const r = await this.one(`INSERT INTO instance_actions (server_id, action, request_id, user_id, project_id, start_time, message, updated_at)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`, [a.serverId, a.action, a.requestId, a.userId, a.projectId, a.startTime, a.message, a.startTime]);
    return { ...a, id: r!.id as number, finishTime: null, updatedAt: a.startTime };
  }
  async finishInstanceAction(id: number, at: string, message: string | null): Promise<void> {
    await this.run('UPDATE instance_actions SET finish_time = ?, updated_at = ?, message = COALESCE(?, message) WHERE id = ?', [at, at, message, id]);
  }
  async listInstanceActions(serverId: string): Promise<InstanceAction[]> {
    return (await this.all('SELECT * FROM instance_actions WHERE server_id = ? ORDER BY start_time COLLATE "C" DESC, id DESC', [serverId])).map(action);
  }
  async getInstanceActionByRequest(serverId: string, requestId: string): Promise<InstanceAction | null> {
    const r = await this.one('SELECT * FROM instance_actions WHERE server_id = ? AND request_id = ? ORDER BY id LIMIT 1', [serverId, requestId]);
    return r ? action(r) : null;
  }
  async startActionEvent(actionId: number, event: string, at: string, host: string | null): Promise<InstanceActionEvent> {
    const id = await this.db.tx(async (q) => {
      const r = (await q.query('INSERT INTO instance_action_events (action_id, event, start_time, host) VALUES (?, ?, ?, ?) RETURNING id', [actionId, event, at, host])).rows[0]!;
      await q.query('UPDATE instance_actions SET updated_at = ? WHERE id = ?', [at, actionId]);
      return r.id as number;
    });
    return { id, actionId, event, startTime: at, finishTime: null, result: null, traceback: null, host };
  }
  async finishActionEvent(id: number, at: string, result: 'Success' | 'Error', traceback: string | null): Promise<void> {
    await this.run('UPDATE instance_action_events SET finish_time = ?, result = ?, traceback = ? WHERE id = ?', [at, result, traceback, id]);
  }
  async listActionEvents(actionId: number): Promise<InstanceActionEvent[]> {
    return (await this.all('SELECT * FROM instance_action_events WHERE action_id = ? ORDER BY id', [actionId])).map((r) => ({
      id: r.id as number, actionId: r.action_id as number, event: r.event as string, startTime: r.start_time as string,
      finishTime: (r.finish_time as string | null) ?? null, result: (r.result as string | null) ?? null,
      traceback: (r.traceback as string | null) ?? null, host: (r.host as string | null) ?? null,
    }));
  }
  async failOpenActions(serverId: string, at: string, message: string): Promise<number> {
    return this.db.tx(async (q) => {
      await q.query(`UPDATE instance_action_events SET finish_time = ?, result = 'Error', traceback = ?
        WHERE finish_time IS NULL AND action_id IN (SELECT id FROM instance_actions WHERE server_id = ? AND finish_time IS NULL)`, [at, message, serverId]);
      return (await q.query('UPDATE instance_actions SET finish_time = ?, updated_at = ?, message = ? WHERE server_id = ? AND finish_time IS NULL', [at, at, message, serverId])).rowCount;
    });
  }
}

function action(r: Row): InstanceAction {
  return {
    id: r.id as number, serverId: r.server_id as string, action: r.action as string, requestId: r.request_id as string,
    userId: r.user_id as string, projectId: r.project_id as string, startTime: r.start_time as string,
    finishTime: (r.finish_time as string | null) ?? null, message: (r.message as string | null) ?? null, updatedAt: r.updated_at as string,
  };
}
