/** The host monitor's records (migration 14) in both stores: append, newest first, per host, limit. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SqliteStore, openStore, type Store } from '../../src/store/index.js';
import { freshPostgresDatabase, postgresBase } from '../support/postgres.js';

const pgBase = postgresBase();

async function exercise(store: Store): Promise<void> {
  await store.recordHostTransition({ host: 'a', state: 'up', reason: 'heartbeat', at: '2026-12-06T07:00:00.000Z' });
  await store.recordHostTransition({ host: 'b', state: 'up', reason: 'heartbeat', at: '2026-12-06T07:00:01.000Z' });
  await store.recordHostTransition({ host: 'a', state: 'down', reason: 'no heartbeat for 61 s', at: '2026-12-06T07:01:00.000Z' });
  await store.recordHostTransition({ host: 'a', state: 'up', reason: null, at: '2026-12-06T07:02:00.000Z' });
  const all = await store.listHostTransitions();
  assert.deepEqual(all.map((t) => `${t.host}:${t.state}`), ['a:up', 'a:down', 'b:up', 'a:up']);
  const a = await store.listHostTransitions({ host: 'a', limit: 2 });
  assert.deepEqual(a.map((t) => ({ state: t.state, reason: t.reason, at: t.at })), [
    { state: 'up', reason: null, at: '2026-12-06T07:02:00.000Z' },
    { state: 'down', reason: 'no heartbeat for 61 s', at: '2026-12-06T07:01:00.000Z' },
  ]);
  assert.equal(typeof a[0]!.id, 'number');
  assert.deepEqual(await store.listHostTransitions({ host: 'nowhere' }), []);
}

test('host transitions: sqlite', async () => {
  const store = new SqliteStore(':memory:');
  await exercise(store);
  await store.close();
});

test('host transitions: postgres', { skip: 'skip' in pgBase ? pgBase.skip : false }, async () => {
  const db = await freshPostgresDatabase((pgBase as { url: string }).url);
  const store = await openStore(db.url);
  try { await exercise(store); } finally { await store.close(); await db.drop(); }
});
