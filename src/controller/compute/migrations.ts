/**
 * Reading migration records (os-migrations, /servers/{id}/migrations): admin-only listings with Nova's filters,
 * and a server's in-progress live migrations. The records are written by the tasks that move servers
 * (tasks/defs/migration.ts; live migration and evacuation write the same records).
 */
import { MigrationMarkerNotFound, type Migration, type MigrationQuery, type Store } from '../../store/index.js';
import { badRequest, notFound } from '../errors.js';
import type { RequestContext } from '../context.js';
import { serverFor } from './access.js';

/** Nova's in-progress live migration statuses (the ones /servers/{id}/migrations shows, and that get links) */
export const LIVE_IN_PROGRESS = ['queued', 'preparing', 'running', 'post-migrating'] as const;

export const isLiveInProgress = (m: Migration) => m.migrationType === 'live-migration' && (LIVE_IN_PROGRESS as readonly string[]).includes(m.status);

export class MigrationService {
  constructor(private readonly store: Store) {}

  /** GET /os-migrations (the caller is checked for admin by the route) */
  async list(q: MigrationQuery): Promise<Migration[]> {
    try {
      return await this.store.listMigrations(q);
    } catch (err) {
      if (err instanceof MigrationMarkerNotFound) throw badRequest(err.message);
      throw err;
    }
  }

  /** the server's in-progress live migrations (404 for a server the caller cannot see) */
  async inProgress(ctx: RequestContext, serverId: string): Promise<Migration[]> {
    await serverFor(this.store, ctx, serverId);
    return (await this.store.listMigrations({ serverId, migrationType: 'live-migration', statuses: [...LIVE_IN_PROGRESS] })).reverse();
  }

  /** one in-progress live migration of the server, with Nova's 404s */
  async showInProgress(ctx: RequestContext, serverId: string, id: string): Promise<Migration> {
    await serverFor(this.store, ctx, serverId);
    const m = /^\d{1,15}$/.test(id) ? await this.store.getServerMigration(serverId, Number(id)) : null;
    if (!m) throw notFound(`In-progress live migration ${id} is not found for server ${serverId}.`);
    if (m.migrationType !== 'live-migration') throw notFound(`Migration ${id} for server ${serverId} is not live-migration.`);
    if (!isLiveInProgress(m)) throw notFound(`Live migration ${id} for server ${serverId} is not in progress.`);
    return m;
  }
}
