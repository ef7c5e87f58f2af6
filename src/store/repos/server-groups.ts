/** Server groups (os-server-groups) and their members. */
import type { ServerGroup } from '../types.js';

export interface ServerGroupRepo {
  createServerGroup(g: ServerGroup): Promise<void>;
  getServerGroup(id: string): Promise<ServerGroup | null>;
  /** oldest first; one project's, or every project's */
  listServerGroups(projectId: string | null): Promise<ServerGroup[]>;
  countServerGroups(projectId: string): Promise<number>;
  deleteServerGroup(id: string): Promise<boolean>;
  /** idempotent */
  addServerGroupMember(groupId: string, serverId: string): Promise<void>;
  /** the group's servers that are not deleted, oldest first */
  listServerGroupMembers(groupId: string): Promise<string[]>;
  /** where the group's members (other than `exceptServerId`) are placed: host -> how many */
  serverGroupHosts(groupId: string, exceptServerId?: string): Promise<Map<string, number>>;
  serverGroupsOf(serverId: string): Promise<string[]>;
}
