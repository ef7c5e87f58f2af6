import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { migrate, numbered, openSqlite, statementCache, tableLedger, userVersionLedger, type Migration } from '../../src/sqlite/index.js';
import { Journal } from '../../src/agent/journal/journal.js';
import { MIGRATIONS as JOURNAL_MIGRATIONS } from '../../src/agent/journal/migrations.js';
import { SqliteStore } from '../../src/store/index.js';
import { MIGRATIONS as STORE_MIGRATIONS } from '../../src/store/sqlite/migrations.js';
import { databaseOf } from '../../src/store/sqlite/sqlite-store.js';
import { tmpDir } from './agent-doubles.js';

const THREE: Migration[] = [
  { version: 2, name: 'b', sql: 'ALTER TABLE t ADD COLUMN b INTEGER' },
  { version: 1, name: 'a', sql: 'CREATE TABLE t (a INTEGER)' },
  { version: 3, name: 'c', sql: "INSERT INTO t (a, b) VALUES (1, 2)" },
];
const columns = (db: ReturnType<typeof openSqlite>) => (db.prepare('PRAGMA table_info(t)').all() as { name: string }[]).map((c) => c.name);

test('sqlite helper: the shared pragmas; createDir makes the directory', () => {
  const t = tmpDir('novalet-sqlite-');
  try {
    const db = openSqlite(join(t.dir, 'sub', 'x.db'), { createDir: true });
    assert.equal(db.pragma('journal_mode', { simple: true }), 'wal');
    assert.equal(db.pragma('synchronous', { simple: true }), 1);
    assert.equal(db.pragma('foreign_keys', { simple: true }), 1);
    assert.equal(db.pragma('busy_timeout', { simple: true }), 5000);
    db.close();
    assert.throws(() => openSqlite(join(t.dir, 'missing', 'x.db')));
  } finally { t.cleanup(); }
});

test('sqlite helper: the statement cache prepares a text once, and is bounded', () => {
  const db = openSqlite(':memory:');
  const cached = statementCache(db, 2);
  const a = cached('SELECT 1');
  assert.equal(cached('SELECT 1'), a);
  assert.notEqual(cached('SELECT 2'), a);
  cached('SELECT 3'); // full: cleared, so SELECT 1 is prepared again
  assert.notEqual(cached('SELECT 1'), a);
  db.close();
});

for (const [style, ledger] of [['user_version', userVersionLedger], ['table', tableLedger('schema_migrations')]] as const) {
  test(`sqlite helper: migrations (${style} ledger) run once each, in version order, and resume where a database stopped`, () => {
    const db = openSqlite(':memory:');
    migrate(db, THREE.slice(0, 2), { ledger });
    assert.equal(ledger.version(db), 2);
    assert.deepEqual(columns(db), ['a', 'b']);
    migrate(db, THREE, { ledger });
    migrate(db, THREE, { ledger });
    assert.equal(ledger.version(db), 3);
    assert.deepEqual(db.prepare('SELECT a, b FROM t').all(), [{ a: 1, b: 2 }]);
    db.close();
  });
}

test('sqlite helper: a failing migration leaves no trace; a newer database is refused only when asked', () => {
  const db = openSqlite(':memory:');
  assert.throws(() => migrate(db, [...THREE, { version: 4, name: 'bad', sql: 'CREATE TABLE u (x); SELECT nope' }], { ledger: userVersionLedger }));
  assert.equal(userVersionLedger.version(db), 3);
  assert.equal(db.prepare("SELECT 1 FROM sqlite_master WHERE name = 'u'").get(), undefined);
  const first = [THREE[1]!];
  migrate(db, first, { ledger: userVersionLedger });
  assert.throws(() => migrate(db, first, { ledger: userVersionLedger, newer: (f, k) => new Error(`at ${f}, know ${k}`) }), /at 3, know 1/);
  assert.deepEqual(numbered(['A', 'B']).map((m) => [m.version, m.sql]), [[1, 'A'], [2, 'B']]);
  db.close();
});

test('upgrade: a journal written by the old opener (schema_migrations) opens, and gets the newer migrations', () => {
  const t = tmpDir('novalet-sqlite-');
  try {
    const path = join(t.dir, 'journal.sqlite');
    // what the agent before the shared helper wrote: its own ledger table, then migration 1 only
    const old = openSqlite(path);
    old.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
    version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)`);
    old.exec(JOURNAL_MIGRATIONS[0]!.sql);
    old.prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)').run(1, JOURNAL_MIGRATIONS[0]!.name, '2026-01-01T00:00:00.000Z');
    old.prepare(`INSERT INTO operations (id, request_id, server_uuid, kind, params, state, created_at, updated_at)
      VALUES ('op-1', 'req-1', 's-1', 'spawn', '{}', 'succeeded', '2026-01-01', '2026-01-01')`).run();
    old.close();
    const j = Journal.open(path);
    assert.equal(j.schemaVersion(), JOURNAL_MIGRATIONS.at(-1)!.version);
    assert.equal(j.getOperationByRequestId('req-1')!.id, 'op-1');
    assert.deepEqual((j.db.prepare('SELECT version FROM schema_migrations ORDER BY version').all() as { version: number }[]).map((r) => r.version),
      JOURNAL_MIGRATIONS.map((m) => m.version));
    j.close();
  } finally { t.cleanup(); }
});

test('upgrade: a controller database written by the old opener (user_version 4) opens, and gets the newer migrations', async () => {
  const t = tmpDir('novalet-sqlite-');
  try {
    const path = join(t.dir, 'controller.db');
    // what the controller before the shared helper wrote: each migration then PRAGMA user_version, stopped at 4
    const old = openSqlite(path);
    for (let v = 0; v < 4; v++) { old.exec(STORE_MIGRATIONS[v]!); old.pragma(`user_version = ${v + 1}`); }
    old.prepare("INSERT INTO settings (key, value) VALUES ('secret', 'kept')").run();
    old.close();
    const st = new SqliteStore(path);
    assert.equal(databaseOf(st).pragma('user_version', { simple: true }), STORE_MIGRATIONS.length);
    assert.equal(await st.getSetting('secret'), 'kept');
    await st.close();
  } finally { t.cleanup(); }
});
