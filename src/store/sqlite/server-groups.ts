/** SQLite repository of server groups (migration 8). */
import type { ServerGroupRepo } from '../repos/server-groups.js';
import type { ServerGroup, ServerGroupPolicy } from '../types.js';
import type { Row } from './columns.js';
import { SqliteRepository } from './repository.js';
import type { StatementCache } from '../../sqlite/index.js';

const group = (r: Row): ServerGroup => ({
  id: r.id as string, name: r.name as string, projectId: r.project_id as string, userId: r.user_id as string,
  policy: r.policy as ServerGroupPolicy, rules: JSON.parse(r.rules as string) as ServerGroup['rules'], createdAt: r.created_at as string,
});

export class SqliteServerGroups extends SqliteRepository implements ServerGroupRepo {
  async createServerGroup(g: ServerGroup): Promise<void> {
    this.db.prepare('INSERT INTO server_groups (id, name, project_id, user_id, policy, rules, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)')
      .run(g.id, g.name, g.projectId, g.userId, g.policy, JSON.stringify(g.rules), g.createdAt);
  }

  async getServerGroup(id: string): Promise<ServerGroup | null> {
    const r = this.cached('SELECT * FROM server_groups WHERE id = ?').get(id) as Row | undefined;
    return r ? group(r) : null;
  }

  async listServerGroups(projectId: string | null): Promise<ServerGroup[]> {
    const rows = projectId === null
      ? this.db.prepare('SELECT * FROM server_groups ORDER BY created_at, id').all()
      : this.db.prepare('SELECT * FROM server_groups WHERE project_id = ? ORDER BY created_at, id').all(projectId);
    return (rows as Row[]).map(group);
  }

  async countServerGroups(projectId: string): Promise<number> {
    return (this.db.prepare('SELECT COUNT(*) AS n FROM server_groups WHERE project_id = ?').get(projectId) as Row).n as number;
  }

  async deleteServerGroup(id: string): Promise<boolean> {
    return this.db.transaction(() => {
      this.db.prepare('DELETE FROM server_group_members WHERE group_id = ?').run(id);
      return this.db.prepare('DELETE FROM server_groups WHERE id = ?').run(id).changes === 1;
    })();
  }

  async addServerGroupMember(groupId: string, serverId: string): Promise<void> {
    this.cached('INSERT OR IGNORE INTO server_group_members (group_id, server_id, created_at) VALUES (?, ?, ?)').run(groupId, serverId, new Date().toISOString());
  }

  async listServerGroupMembers(groupId: string): Promise<string[]> {
    return (this.cached(`SELECT m.server_id AS id FROM server_group_members m JOIN servers s ON s.id = m.server_id
      WHERE m.group_id = ? AND s.deleted = 0 ORDER BY m.created_at, m.server_id`).all(groupId) as Row[]).map((r) => r.id as string);
  }

  async serverGroupHosts(groupId: string, exceptServerId?: string): Promise<Map<string, number>> {
    return groupHosts(this.conn.cached, groupId, exceptServerId);
  }

  async serverGroupsOf(serverId: string): Promise<string[]> {
    return (this.cached('SELECT group_id FROM server_group_members WHERE server_id = ? ORDER BY created_at').all(serverId) as Row[]).map((r) => r.group_id as string);
  }
}

/** host -> members placed there (by their claims), the server being placed left out */
export function groupHosts(cached: StatementCache, groupId: string, exceptServerId?: string): Map<string, number> {
  const rows = cached(`SELECT a.host AS host, COUNT(*) AS n FROM server_group_members m
    JOIN allocations a ON a.server_id = m.server_id WHERE m.group_id = ? AND m.server_id != ? GROUP BY a.host`).all(groupId, exceptServerId ?? '') as Row[];
  return new Map(rows.map((r) => [r.host as string, r.n as number]));
}
