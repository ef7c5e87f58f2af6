/**
 * `novalet db migrate|check|backup` on both stores: check reads without migrating and says what is pending or
 * missing (exit 1), migrate applies the migrations once, backup copies a live database (SQLite online backup; pg_dump
 * where installed) and never overwrites a file; bad arguments are usage errors (exit 2) that touch nothing.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import Database from 'better-sqlite3';
import pg from 'pg';
import { dbCommand } from '../../src/cli/db-command.js';
import { openStore } from '../../src/store/index.js';
import { freshPostgresDatabase, postgresBase } from '../support/postgres.js';

async function run(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = []; const err: string[] = [];
  const code = await dbCommand(argv, (l) => out.push(l), (l) => err.push(l));
  return { code, out: out.join('\n'), err: err.join('\n') };
}

async function addFlavor(location: string, name: string): Promise<void> {
  const s = await openStore(location);
  try {
    await s.createFlavor({ id: name, name, vcpus: 1, ram: 64, disk: 1, ephemeral: 0, swap: 0, rxtxFactor: 1, isPublic: true, disabled: false, description: null, extraSpecs: {}, createdAt: new Date().toISOString() });
  } finally { await s.close(); }
}

async function flavorNames(location: string): Promise<string[]> {
  const s = await openStore(location);
  try { return (await s.listFlavors({ includePrivate: true })).map((f) => f.name); } finally { await s.close(); }
}

test('usage errors change nothing', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'novalet-db-'));
  try {
    const db = join(dir, 'c.db');
    assert.equal((await run()).code, 2);
    assert.equal((await run('frob', '--store', db)).code, 2);
    assert.equal((await run('check', '--store', db, '--bogus', 'x')).code, 2);
    assert.equal((await run('backup', '--store', db)).code, 2, 'backup needs a file');
    assert.equal((await run('migrate', 'extra', '--store', db)).code, 2);
    assert.equal((await run('check', '--store', db, '-f', 'yaml')).code, 2);
    assert.match((await run('check', '--store', 'postgres://host')).err, /must name the database/);
    assert.equal(existsSync(db), false);
    const missing = await run('check', '--store', db);
    assert.deepEqual([missing.code, missing.err], [1, `no database at ${db}`]);
    assert.equal(existsSync(db), false, 'check creates nothing');
  } finally { rmSync(dir, { recursive: true, force: true }); }
});

test('SQLite: migrate, check (version, parity), online backup', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'novalet-db-'));
  try {
    const db = join(dir, 'controller.db');
    new Database(db).close(); // an empty file: version 0
    const before = await run('check', '--data-dir', dir);
    assert.equal(before.code, 1);
    assert.match(before.out, /schema version: 0 \(this novalet: (\d+)\)\n\1 migration\(s\) pending/);
    const m = await run('migrate', '--data-dir', dir);
    assert.equal(m.code, 0, m.err);
    assert.match(m.out, /migrated from schema version 0 to \d+/);
    assert.match((await run('migrate', '--data-dir', dir)).out, /nothing to do/);
    const ok = await run('check', '--store', db, '-f', 'json');
    const r = JSON.parse(ok.out) as { version: number; latest: number; ok: boolean; missing: string[] };
    assert.deepEqual([ok.code, r.ok, r.version === r.latest, r.missing], [0, true, true, []]);
    // a hand-edited database: a dropped table is missing (not usable), an added column is reported
    const raw = new Database(db);
    raw.exec('DROP TABLE keypairs; ALTER TABLE flavors ADD COLUMN local_hack TEXT');
    raw.close();
    const broken = await run('check', '--store', db);
    assert.equal(broken.code, 1);
    assert.match(broken.out, /missing: keypairs\nnot made by the migrations: flavors\.local_hack\nNOT OK/);
    // backup of a live database (a store open and written meanwhile)
    const db2 = join(dir, 'live.db');
    await addFlavor(db2, 'before-backup');
    const writer = await openStore(db2);
    try {
      const b = await run('backup', join(dir, 'copy.db'), '--store', db2);
      assert.equal(b.code, 0, b.err);
    } finally { await writer.close(); }
    assert.ok((await flavorNames(join(dir, 'copy.db'))).includes('before-backup'));
    const again = await run('backup', join(dir, 'copy.db'), '--store', db2);
    assert.deepEqual([again.code, again.err], [1, `${join(dir, 'copy.db')} exists: a backup never overwrites a file`]);
  } finally { rmSync(dir, { recursive: true, force: true }); }
});

const pgBase = postgresBase();
test('PostgreSQL: migrate, check, pg_dump backup restored with pg_restore', { skip: 'skip' in pgBase ? pgBase.skip : false }, async () => {
  const base = (pgBase as { url: string }).url;
  const db = await freshPostgresDatabase(base);
  const restored = await freshPostgresDatabase(base);
  const dir = mkdtempSync(join(tmpdir(), 'novalet-db-'));
  try {
    assert.match((await run('check', '--store', db.url)).out, /schema version: 0 .*\n\d+ migration\(s\) pending/);
    assert.equal((await run('migrate', '--store', db.url)).code, 0);
    assert.equal((await run('check', '--store', db.url)).code, 0);
    await addFlavor(db.url, 'pg-flavor');
    const file = join(dir, 'dump');
    const b = await run('backup', file, '--store', db.url);
    assert.equal(b.code, 0, b.err);
    assert.ok(statSync(file).size > 1000);
    execFileSync('pg_restore', ['--no-owner', '--dbname', restored.url, file]);
    assert.equal((await run('check', '--store', restored.url)).code, 0, 'the restored database is complete');
    assert.ok((await flavorNames(restored.url)).includes('pg-flavor'));
    // the schema ledger lost a table: not usable
    const c = new pg.Client({ connectionString: db.url }); await c.connect();
    await c.query('DROP TABLE keypairs'); await c.end();
    assert.match((await run('check', '--store', db.url)).out, /missing: keypairs/);
    const noTool = await dbCommandWithPgDump(db.url, join(dir, 'dump2'));
    assert.match(noTool, /is not installed/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
    await db.drop(); await restored.drop();
  }
});

async function dbCommandWithPgDump(url: string, file: string): Promise<string> {
  const { backupStore } = await import('../../src/store/admin.js');
  return backupStore(url, file, '/nonexistent/pg_dump').then(() => 'ok', (e: Error) => e.message);
}
