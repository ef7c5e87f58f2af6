/** A server's instance actions (os-instance-actions) and their events, as the task runner recorded them. */
import type { InstanceAction, InstanceActionEvent, Server, Store } from '../../store/index.js';
import type { RequestContext } from '../context.js';
import { instanceNotFound, notFound } from '../errors.js';
import type { ServerLookup } from './access.js';

export class InstanceActionService {
  constructor(private readonly store: Store, private readonly servers: ServerLookup) {}

  /** the server whose actions are asked for; deleted ones only when `includeDeleted` (Nova 2.21) */
  async server(ctx: RequestContext, id: string, includeDeleted: boolean): Promise<Server> {
    const s = await this.servers.find(ctx, id, { includeDeleted });
    if (!s) throw instanceNotFound(id);
    return s;
  }

  list(s: Server): Promise<InstanceAction[]> { return this.store.listInstanceActions(s.id); }

  async get(s: Server, requestId: string): Promise<{ action: InstanceAction; events: InstanceActionEvent[] }> {
    const action = await this.store.getInstanceActionByRequest(s.id, requestId);
    if (!action) throw notFound(`Action for request_id ${requestId} on instance ${s.id} not found`);
    return { action, events: await this.store.listActionEvents(action.id) };
  }
}
