/** The copy of a server's child rows (metadata, tags) kept on its row, so that a list page is one query. */
import type { StatementCache } from '../../sqlite/index.js';
import { METADATA_JSON, TAGS_JSON } from './migrations.js';

/** Rewrites the row's metadata/tags JSON from the child tables; every write to those tables calls it. */
export function syncChildren(cached: StatementCache, id: string): void {
  cached(`UPDATE servers SET metadata = ${METADATA_JSON}, tags = ${TAGS_JSON} WHERE id = ?`).run(id);
}
