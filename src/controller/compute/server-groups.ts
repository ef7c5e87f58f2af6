/**
 * Server groups (os-server-groups): a project's groups with one policy each (affinity, anti-affinity, and from 2.15
 * the soft ones; from 2.64 anti-affinity may allow `max_server_per_host`). A server joins a group at create (the
 * `group` scheduler hint); placement honours the policy (scheduler/placement.ts) and the claim re-checks it.
 */
import { randomUUID } from 'node:crypto';
import type { ServerGroup, ServerGroupPolicy, Store } from '../../store/index.js';
import { isAdmin, type RequestContext } from '../context.js';
import { ApiError, badRequest, notFound } from '../errors.js';
import type { QuotaService } from './quotas.js';

const groupNotFound = (id: string) => notFound(`Instance group ${id} could not be found.`);

export class ServerGroupService {
  constructor(private readonly store: Store, private readonly quotas: QuotaService) {}

  async create(ctx: RequestContext, name: string, policy: ServerGroupPolicy, rules: ServerGroup['rules'] = {}): Promise<ServerGroup> {
    if (Object.keys(rules).length && policy !== 'anti-affinity') throw badRequest('Only anti-affinity policy supports rules.');
    const limit = (await this.quotas.limits(ctx.projectId)).server_groups;
    if (limit >= 0 && (await this.store.countServerGroups(ctx.projectId)) + 1 > limit) throw new ApiError('over_quota', 'Quota exceeded, too many server groups.');
    const g: ServerGroup = { id: randomUUID(), name, projectId: ctx.projectId, userId: ctx.userId, policy, rules, createdAt: new Date().toISOString() };
    await this.store.createServerGroup(g);
    return g;
  }

  /** another project's group is not found (admins see every project's) */
  async get(ctx: RequestContext, id: string): Promise<ServerGroup> {
    const g = await this.visible(ctx, id);
    if (!g) throw groupNotFound(id);
    return g;
  }

  /** the group if the caller may see it: its own project's, or any for an admin */
  private async visible(ctx: RequestContext, id: string): Promise<ServerGroup | null> {
    const g = await this.store.getServerGroup(id);
    return g && (g.projectId === ctx.projectId || isAdmin(ctx)) ? g : null;
  }

  list(ctx: RequestContext, allProjects: boolean): Promise<ServerGroup[]> {
    return this.store.listServerGroups(allProjects && isAdmin(ctx) ? null : ctx.projectId);
  }

  members(id: string): Promise<string[]> { return this.store.listServerGroupMembers(id); }

  /** the groups a server belongs to (2.71's server_groups) */
  groupsOf(serverId: string): Promise<string[]> { return this.store.serverGroupsOf(serverId); }

  async delete(ctx: RequestContext, id: string): Promise<void> {
    await this.get(ctx, id);
    if (!(await this.store.deleteServerGroup(id))) throw groupNotFound(id);
  }

  /** the `group` hint of a create of `count` servers: the group must be the caller's, with room for them */
  async checkJoin(ctx: RequestContext, id: string, count: number): Promise<ServerGroup> {
    const g = await this.visible(ctx, id);
    if (!g) throw badRequest(`Invalid input for field/attribute group. Value: ${id}. Group ${id} could not be found.`);
    const limit = (await this.quotas.limits(g.projectId)).server_group_members;
    if (limit >= 0 && (await this.store.listServerGroupMembers(g.id)).length + count > limit) throw new ApiError('over_quota', 'Quota exceeded, too many servers in group');
    return g;
  }
}
