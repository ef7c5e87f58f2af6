/**
 * Looking a server up on behalf of a caller: another project's server is "not found" (never "forbidden"), so that
 * ids of other tenants' servers leak nothing. Admins see every project.
 */
import type { Store, Server } from '../../store/index.js';
import { isAdmin, type RequestContext } from '../context.js';
import { instanceNotFound } from '../errors.js';

export async function serverFor(store: Store, ctx: RequestContext, id: string): Promise<Server> {
  const s = await store.getServer(id);
  if (!s || (!isAdmin(ctx) && s.projectId !== ctx.projectId)) throw instanceNotFound(id);
  return s;
}
