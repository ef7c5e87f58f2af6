/** PostgreSQL repository of server groups (migration 8). */
import type { ServerGroupRepo } from '../repos/server-groups.js';
import type { ServerGroup, ServerGroupPolicy } from '../types.js';
import type { Queryable, Row } from './db.js';
import { PgRepository } from './repository.js';

const group = (r: Row): ServerGroup => ({
  id: r.id as string, name: r.name as string, projectId: r.project_id as string, userId: r.user_id as string,
  policy: r.policy as ServerGroupPolicy, rules: JSON.parse(r.rules as string) as ServerGroup['rules'], createdAt: r.created_at as string,
});

export class PgServerGroups extends PgRepository implements ServerGroupRepo {
  async createServerGroup(g: ServerGroup): Promise<void> {
    await this.run('INSERT INTO server_groups (id, name, project_id, user_id, policy, rules, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)',
      [g.id, g.name, g.projectId, g.userId, g.policy, JSON.stringify(g.rules), g.createdAt]);
  }
  async getServerGroup(id: string): Promise<ServerGroup | null> {
    const r = await this.one('SELECT * FROM server_groups WHERE id = ?', [id]);
    return r ? group(r) : null;
  }
  async listServerGroups(projectId: string | null): Promise<ServerGroup[]> {
    const rows = projectId === null
      ? await this.all('SELECT * FROM server_groups ORDER BY created_at COLLATE "C", id COLLATE "C"')
      : await this.all('SELECT * FROM server_groups WHERE project_id = ? ORDER BY created_at COLLATE "C", id COLLATE "C"', [projectId]);
    return rows.map(group);
  }
  async countServerGroups(projectId: string): Promise<number> {
    return (await this.one('SELECT COUNT(*) AS n FROM server_groups WHERE project_id = ?', [projectId]))!.n as number;
  }
  async deleteServerGroup(id: string): Promise<boolean> {
    return this.db.tx(async (q) => {
      await q.query('DELETE FROM server_group_members WHERE group_id = ?', [id]);
      return (await q.query('DELETE FROM server_groups WHERE id = ?', [id])).rowCount === 1;
    });
  }
  async addServerGroupMember(groupId: string, serverId: string): Promise<void> {
    await this.run('INSERT INTO server_group_members (group_id, server_id, created_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING', [groupId, serverId, new Date().toISOString()]);
  }
  async listServerGroupMembers(groupId: string): Promise<string[]> {
    return (await this.all(`SELECT m.server_id AS id FROM server_group_members m JOIN servers s ON s.id = m.server_id
      WHERE m.group_id = ? AND s.deleted = 0 ORDER BY m.created_at COLLATE "C", m.server_id COLLATE "C"`, [groupId])).map((r) => r.id as string);
  }
  async serverGroupHosts(groupId: string, exceptServerId?: string): Promise<Map<string, number>> {
    return groupHosts(this.q, groupId, exceptServerId);
  }
  async serverGroupsOf(serverId: string): Promise<string[]> {
    return (await this.all('SELECT group_id FROM server_group_members WHERE server_id = ? ORDER BY created_at COLLATE "C"', [serverId])).map((r) => r.group_id as string);
  }
}

/** host -> members placed there (by their claims), the server being placed left out */
export async function groupHosts(q: Queryable, groupId: string, exceptServerId?: string): Promise<Map<string, number>> {
  const rows = (await q.query(`SELECT a.host AS host, COUNT(*) AS n FROM server_group_members m
    JOIN allocations a ON a.server_id = m.server_id WHERE m.group_id = ? AND m.server_id != ? GROUP BY a.host`, [groupId, exceptServerId ?? ''])).rows;
  return new Map(rows.map((r) => [r.host as string, r.n as number]));
}
