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

  /** the server's actions; with changes-since / changes-before (ISO times) those updated in that window (Nova 2.58, 2.66) */
  async list(s: Server, window: { changesSince?: string; changesBefore?: string } = {}): Promise<InstanceAction[]> {
    const all = await this.store.listInstanceActions(s.id);
    const { changesSince: since, changesBefore: before } = window;
    return all.filter((a) => (since === undefined || a.updatedAt >= since) && (before === undefined || a.updatedAt <= before));
  }

  async get(s: Server, requestId: string): Promise<{ action: InstanceAction; events: InstanceActionEvent[] }> {
    const action = await this.store.getInstanceActionByRequest(s.id, requestId);
    if (!action) throw notFound(`Action for request_id ${requestId} on instance ${s.id} not found`);
    return { action, events: await this.store.listActionEvents(action.id) };
  }
}
