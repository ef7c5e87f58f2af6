/** PostgreSQL repository of server metadata and tags: child tables, each write mirrored on the server row. */
import type { ServerMetadataRepo } from '../repos/servers.js';
import { now } from '../sqlite/columns.js';
import { PgRepository } from './repository.js';
import { syncChildren } from './server-children.js';

export class PgServerMetadata extends PgRepository implements ServerMetadataRepo {
  async setServerMetadata(id: string, metadata: Record<string, string>, replace: boolean): Promise<Record<string, string>> {
    return this.db.tx(async (q) => {
      if (replace) await q.query('DELETE FROM server_metadata WHERE server_id = ?', [id]);
      for (const [k, v] of Object.entries(metadata)) {
        await q.query('INSERT INTO server_metadata (server_id, key, value) VALUES (?, ?, ?) ON CONFLICT (server_id, key) DO UPDATE SET value = excluded.value', [id, k, v]);
      }
      await q.query('UPDATE servers SET updated_at = ? WHERE id = ?', [now(), id]);
      await syncChildren(q, id);
      const out: Record<string, string> = {};
      for (const r of (await q.query('SELECT key, value FROM server_metadata WHERE server_id = ? ORDER BY key COLLATE "C"', [id])).rows) out[r.key as string] = r.value as string;
      return out;
    });
  }
  async deleteServerMetadataKey(id: string, key: string): Promise<boolean> {
    return this.db.tx(async (q) => {
      const gone = (await q.query('DELETE FROM server_metadata WHERE server_id = ? AND key = ?', [id, key])).rowCount === 1;
      if (gone) await syncChildren(q, id);
      return gone;
    });
  }
  async setServerTags(id: string, tags: string[]): Promise<void> {
    await this.db.tx(async (q) => {
      await q.query('DELETE FROM server_tags WHERE server_id = ?', [id]);
      for (const t of tags) await q.query('INSERT INTO server_tags (server_id, tag) VALUES (?, ?) ON CONFLICT DO NOTHING', [id, t]);
      await q.query('UPDATE servers SET updated_at = ? WHERE id = ?', [now(), id]);
      await syncChildren(q, id);
    });
  }
  async addServerTag(id: string, tag: string): Promise<void> {
    await this.db.tx(async (q) => {
      if ((await q.query('INSERT INTO server_tags (server_id, tag) VALUES (?, ?) ON CONFLICT DO NOTHING', [id, tag])).rowCount === 1) await syncChildren(q, id);
    });
  }
  async deleteServerTag(id: string, tag: string): Promise<boolean> {
    return this.db.tx(async (q) => {
      const gone = (await q.query('DELETE FROM server_tags WHERE server_id = ? AND tag = ?', [id, tag])).rowCount === 1;
      if (gone) await syncChildren(q, id);
      return gone;
    });
  }
}
