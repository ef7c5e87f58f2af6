/** Servers, and their metadata and tags (child rows of a server, mirrored on its row). */
import type { NewServer, Server, ServerChanges, ServerExpect, ServerQuery, ServerRevision } from '../types.js';

export interface ServerRepo {
  createServer(s: NewServer): Promise<Server>;
  getServer(id: string, opts?: { includeDeleted?: boolean }): Promise<Server | null>;
  listServers(q: ServerQuery): Promise<Server[]>;
  /** the id and revision of each server listServers(q) would return, in the same order */
  listServerRevisions(q: ServerQuery): Promise<ServerRevision[]>;
  countServers(q: ServerQuery): Promise<number>;
  /** unconditional update (e.g. rename); returns false if the server does not exist */
  updateServer(id: string, changes: ServerChanges): Promise<boolean>;
  /**
   * Compare-and-swap: apply `changes` only if the server's task_state (and vm_state / lock, if given) still match
   * `expected`. One conditional UPDATE, so exactly one of any number of concurrent callers wins.
   */
  updateServerIf(id: string, expected: ServerExpect, changes: ServerChanges): Promise<boolean>;
  /** mark deleted (keeps the row, Nova-style) */
  markServerDeleted(id: string, at: string): Promise<void>;
  /** soft-deleted servers whose deleted_at is older than `before` (for the reclaim task) */
  listReclaimable(before: string): Promise<Server[]>;
}

export interface ServerMetadataRepo {
  setServerMetadata(id: string, metadata: Record<string, string>, replace: boolean): Promise<Record<string, string>>;
  deleteServerMetadataKey(id: string, key: string): Promise<boolean>;
  setServerTags(id: string, tags: string[]): Promise<void>;
  addServerTag(id: string, tag: string): Promise<void>;
  deleteServerTag(id: string, tag: string): Promise<boolean>;
}
