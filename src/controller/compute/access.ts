/**
 * Looking a server up on behalf of a caller: another project's server is "not found" (never "forbidden"), so that
 * ids of other tenants' servers leak nothing. Admins see every project.
 */
import type { Store, Server } from '../../store/index.js';
import { isAdmin, type RequestContext } from '../context.js';
import { instanceNotFound, markerNotFound } from '../errors.js';

const visibleTo = (ctx: RequestContext, s: Server | null): s is Server => !!s && (isAdmin(ctx) || s.projectId === ctx.projectId);

export async function serverFor(store: Store, ctx: RequestContext, id: string): Promise<Server> {
  const s = await store.getServer(id);
  if (!visibleTo(ctx, s)) throw instanceNotFound(id);
  return s;
}

/** Lookups the API makes besides ServerService.get: deleted servers included, or null instead of a 404. */
export class ServerLookup {
  constructor(private readonly store: Store) {}

  /** the server if the caller may see it, else null */
  async find(ctx: RequestContext, id: string, opts: { includeDeleted?: boolean } = {}): Promise<Server | null> {
    const s = await this.store.getServer(id, opts);
    return visibleTo(ctx, s) ? s : null;
  }

  /** a server list's marker must name a server, deleted ones included */
  async checkMarker(marker: string | undefined): Promise<void> {
    if (marker !== undefined && !(await this.store.getServer(marker, { includeDeleted: true }))) throw markerNotFound(marker);
  }
}
