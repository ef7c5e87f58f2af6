/** SQLite repository of server metadata and tags: child tables, each write mirrored on the server row. */
import type { ServerMetadataRepo } from '../repos/servers.js';
import { now, type Row } from './columns.js';
import { SqliteRepository } from './repository.js';
import { syncChildren } from './server-children.js';

export class SqliteServerMetadata extends SqliteRepository implements ServerMetadataRepo {
  async setServerMetadata(id: string, metadata: Record<string, string>, replace: boolean): Promise<Record<string, string>> {
    this.db.transaction(() => {
      if (replace) this.db.prepare('DELETE FROM server_metadata WHERE server_id = ?').run(id);
      const st = this.db.prepare('INSERT OR REPLACE INTO server_metadata (server_id, key, value) VALUES (?, ?, ?)');
      for (const [k, v] of Object.entries(metadata)) st.run(id, k, v);
      this.db.prepare('UPDATE servers SET updated_at = ? WHERE id = ?').run(now(), id);
      syncChildren(this.cached, id);
    })();
    const out: Record<string, string> = {};
    for (const r of this.db.prepare('SELECT key, value FROM server_metadata WHERE server_id = ? ORDER BY key').all(id) as Row[]) out[r.key as string] = r.value as string;
    return out;
  }
  async deleteServerMetadataKey(id: string, key: string): Promise<boolean> {
    return this.db.transaction(() => {
      const gone = this.db.prepare('DELETE FROM server_metadata WHERE server_id = ? AND key = ?').run(id, key).changes === 1;
      if (gone) syncChildren(this.cached, id);
      return gone;
    })();
  }
  async setServerTags(id: string, tags: string[]): Promise<void> {
    this.db.transaction(() => {
      this.db.prepare('DELETE FROM server_tags WHERE server_id = ?').run(id);
      const st = this.db.prepare('INSERT OR IGNORE INTO server_tags (server_id, tag) VALUES (?, ?)');
      for (const t of tags) st.run(id, t);
      this.db.prepare('UPDATE servers SET updated_at = ? WHERE id = ?').run(now(), id);
      syncChildren(this.cached, id);
    })();
  }
  async addServerTag(id: string, tag: string): Promise<void> {
    this.db.transaction(() => {
      if (this.db.prepare('INSERT OR IGNORE INTO server_tags (server_id, tag) VALUES (?, ?)').run(id, tag).changes === 1) syncChildren(this.cached, id);
    })();
  }
  async deleteServerTag(id: string, tag: string): Promise<boolean> {
    return this.db.transaction(() => {
      const gone = this.db.prepare('DELETE FROM server_tags WHERE server_id = ? AND tag = ?').run(id, tag).changes === 1;
      if (gone) syncChildren(this.cached, id);
      return gone;
    })();
  }
}
