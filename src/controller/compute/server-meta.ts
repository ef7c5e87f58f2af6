/**
 * A server's metadata and tags. Metadata writes obey the lock (gate.ts's checkLock), are refused while the server
 * builds or is being deleted (as Nova does) and count against the metadata_items quota (quotas.ts). Tag methods take
 * the server the caller already looked up (ServerService.get), so that the API can validate the tag in between.
 */
import type { Server, Store } from '../../store/index.js';
import type { RequestContext } from '../context.js';
import { badRequest, invalidState, notFound } from '../errors.js';
import { serverFor } from './access.js';
import { checkLock } from './gate.js';
import type { QuotaService } from './quotas.js';

export const MAX_TAGS = 50;
const LOCKED = { lock: true } as const;

export class ServerMetaService {
  constructor(private readonly store: Store, private readonly quotas: QuotaService) {}

  private async writable(ctx: RequestContext, id: string, action: string): Promise<Server> {
    const s = await serverFor(this.store, ctx, id);
    checkLock(ctx, s, LOCKED);
    // Nova refuses metadata changes while building or deleting
    if (s.vmState === 'building' || s.taskState === 'deleting') throw invalidState(action, id, 'vm_state', s.vmState);
    return s;
  }

  /** replace: the whole set becomes `md`; else `md` is merged in. Returns the server's metadata after the write. */
  async setMetadata(ctx: RequestContext, id: string, md: Record<string, string>, replace: boolean): Promise<Record<string, string>> {
    const s = await this.writable(ctx, id, replace ? 'update_all_metadata' : 'update_metadata');
    const total = replace ? Object.keys(md).length : new Set([...Object.keys(s.metadata), ...Object.keys(md)]).size;
    await this.quotas.checkMetadata(ctx.projectId, total);
    return this.store.setServerMetadata(id, md, replace);
  }

  async deleteMetadataKey(ctx: RequestContext, id: string, key: string): Promise<void> {
    await this.writable(ctx, id, 'delete_instance_metadata');
    if (!(await this.store.deleteServerMetadataKey(id, key))) throw notFound('Metadata item was not found');
  }

  /** the tags after the write (duplicates dropped) */
  async replaceTags(s: Server, tags: string[]): Promise<string[]> {
    await this.store.setServerTags(s.id, [...new Set(tags)]);
    return (await this.store.getServer(s.id))?.tags ?? [];
  }

  clearTags(s: Server): Promise<void> { return this.store.setServerTags(s.id, []); }

  /** false when the server already had the tag */
  async addTag(s: Server, tag: string): Promise<boolean> {
    if (s.tags.includes(tag)) return false;
    if (s.tags.length >= MAX_TAGS) throw badRequest(`The number of tags exceeded the per-server limit ${MAX_TAGS}`);
    await this.store.addServerTag(s.id, tag);
    return true;
  }

  async deleteTag(s: Server, tag: string): Promise<void> {
    if (!(await this.store.deleteServerTag(s.id, tag))) throw tagNotFound(tag);
  }
}

export const tagNotFound = (tag: string) => notFound(`Tag ${tag} could not be found.`);
