/** The copy of a server's child rows (metadata, tags) kept on its row, so that a list page is one query. */
import type { Queryable } from './db.js';
import { METADATA_JSON, TAGS_JSON } from './migrations.js';

/** Rewrites the row's metadata/tags JSON from the child tables; every write to those tables calls it. */
export async function syncChildren(q: Queryable, id: string): Promise<void> {
  await q.query(`UPDATE servers SET metadata = ${METADATA_JSON}, tags = ${TAGS_JSON} WHERE id = ?`, [id]);
}
