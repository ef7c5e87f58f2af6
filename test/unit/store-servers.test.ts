import { MIGRATIONS } from '../../src/store/sqlite/migrations.js';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { SqliteStore, type NewServer } from '../../src/store/index.js';
import { databaseOf } from '../../src/store/sqlite/sqlite-store.js';

function newServer(over: Partial<NewServer> = {}): NewServer {
  const id = over.id ?? randomUUID();
  return {
    id, name: 's', projectId: 'p1', userId: 'u1', imageRef: 'img1',
    flavor: { id: '1', name: 'm1.tiny', vcpus: 1, ram: 512, disk: 1, ephemeral: 0, swap: 0, extraSpecs: {} },
    oldFlavor: null, vmState: 'active', taskState: null, powerState: 1, host: 'h1', node: 'h1', availabilityZone: 'nova',
    keyName: null, keyData: null, userData: null, accessIPv4: '', accessIPv6: '', configDrive: '', diskConfig: 'MANUAL',
    description: null, locked: false, lockedReason: null, lockedBy: null, reservationId: 'r-1', launchIndex: 0,
    hostname: 's', kernelId: '', ramdiskId: '', rootDeviceName: '/dev/vda', progress: 0, addresses: [],
    requestedNetworks: null, securityGroups: ['default'], blockDeviceMapping: [], metadata: {}, tags: [], fault: null,
    createdAt: new Date().toISOString(), launchedAt: null, ...over,
  };
}

test('CAS: 50 concurrent conflicting task_state swaps, exactly one wins', async () => {
  const st = new SqliteStore(':memory:');
  const s = await st.createServer(newServer());
  const results = await Promise.all(Array.from({ length: 50 }, (_, i) =>
    st.updateServerIf(s.id, { taskState: null, vmState: ['active'] }, { taskState: i % 2 ? 'pausing' : 'powering-off' })));
  assert.equal(results.filter(Boolean).length, 1);
  const after = await st.getServer(s.id);
  assert.ok(after!.taskState === 'pausing' || after!.taskState === 'powering-off');
  await st.close();
});

test('CAS respects vm_state and lock and recomputes status', async () => {
  const st = new SqliteStore(':memory:');
  const s = await st.createServer(newServer({ vmState: 'stopped', powerState: 4 }));
  assert.equal(s.status, 'SHUTOFF');
  assert.equal(await st.updateServerIf(s.id, { taskState: null, vmState: ['active'] }, { taskState: 'pausing' }), false);
  assert.equal(await st.updateServerIf(s.id, { taskState: null, vmState: ['stopped'], locked: false }, { taskState: 'powering-on' }), true);
  assert.equal((await st.getServer(s.id))!.status, 'SHUTOFF');
  assert.equal(await st.updateServerIf(s.id, { taskState: 'powering-on' }, { taskState: null, vmState: 'active', powerState: 1 }), true);
  assert.equal((await st.getServer(s.id))!.status, 'ACTIVE');
  await st.updateServer(s.id, { locked: true });
  assert.equal(await st.updateServerIf(s.id, { taskState: null, locked: false }, { taskState: 'pausing' }), false);
  await st.close();
});

test('list: filters, sort, keyset paging over every page', async () => {
  const st = new SqliteStore(':memory:');
  const base = Date.parse('2026-01-01T00:00:00Z');
  for (let i = 0; i < 25; i++) {
    await st.createServer(newServer({
      name: `web-${i}`, projectId: i % 5 === 0 ? 'p2' : 'p1', vmState: i % 3 === 0 ? 'stopped' : 'active',
      createdAt: new Date(base + Math.floor(i / 2) * 1000).toISOString(), // pairs share a timestamp: tie-break on id
      addresses: [{ network: 'private', addr: `10.0.0.${i}`, version: 4, mac: 'fa:16:3e:00:00:01', type: 'fixed' }],
      tags: i % 2 ? ['odd'] : ['even'], flavor: { id: i % 2 ? '2' : '1', name: 'x', vcpus: 1, ram: 1, disk: 1, ephemeral: 0, swap: 0, extraSpecs: {} },
    }));
  }
  assert.equal((await st.listServers({ projectId: 'p1' })).length, 20);
  assert.equal((await st.listServers({ nameRegex: '^web-1' })).length, 11);
  assert.equal((await st.listServers({ statuses: ['SHUTOFF'] })).length, 9);
  assert.equal((await st.listServers({ flavorId: '2' })).length, 12);
  assert.equal((await st.listServers({ ipRegex: '10\\.0\\.0\\.2\\b' })).length, 1);
  assert.equal((await st.listServers({ tags: ['odd'] })).length, 12);
  assert.equal((await st.listServers({ notTagsAny: ['odd'] })).length, 13);
  const all = await st.listServers({});
  for (const sort of [undefined, [{ key: 'display_name' as const, dir: 'asc' as const }], [{ key: 'created_at' as const, dir: 'asc' as const }], [{ key: 'vm_state' as const, dir: 'desc' as const }, { key: 'display_name' as const, dir: 'asc' as const }]]) {
    const full = await st.listServers({ sort });
    const seen: string[] = [];
    let marker: string | undefined;
    for (;;) {
      const page = await st.listServers({ sort, limit: 4, marker });
      seen.push(...page.map((s) => s.id));
      if (page.length < 4) break;
      marker = page[page.length - 1]!.id;
    }
    assert.deepEqual(seen, full.map((s) => s.id));
  }
  assert.equal(all.length, 25);
  const names = (await st.listServers({ sort: [{ key: 'display_name', dir: 'asc' }] })).map((s) => s.name);
  assert.deepEqual(names, [...names].sort());
  await st.close();
});

test('soft delete / deleted listing / changes-since', async () => {
  const st = new SqliteStore(':memory:');
  const a = await st.createServer(newServer({ name: 'a' }));
  const t0 = new Date().toISOString();
  await st.markServerDeleted(a.id, new Date().toISOString());
  assert.equal(await st.getServer(a.id), null);
  assert.equal((await st.getServer(a.id, { includeDeleted: true }))!.status, 'DELETED');
  assert.equal((await st.listServers({ deleted: 'only' })).length, 1);
  assert.equal((await st.listServers({ changesSince: t0, deleted: 'include' })).length, 1);
  await st.close();
});

test('migrations are versioned; quota usage sums flavor columns, changes with resize', async () => {
  const st = new SqliteStore(':memory:');
  assert.equal(databaseOf(st).pragma('user_version', { simple: true }), MIGRATIONS.length);
  assert.ok(MIGRATIONS.length >= 4);
  const a = await st.createServer(newServer());
  await st.createServer(newServer({ flavor: { id: '2', name: 'm1.small', vcpus: 2, ram: 2048, disk: 1, ephemeral: 0, swap: 0, extraSpecs: {} } }));
  assert.deepEqual(await st.getQuotaUsage('p1', 'u1'), { instances: 2, cores: 3, ram: 2560, keyPairs: 0 });
  await st.updateServer(a.id, { flavor: { id: '3', name: 'big', vcpus: 4, ram: 4096, disk: 1, ephemeral: 0, swap: 0, extraSpecs: {} } });
  assert.deepEqual(await st.getQuotaUsage('p1', 'u1'), { instances: 2, cores: 6, ram: 6144, keyPairs: 0 });
  await st.markServerDeleted(a.id, new Date().toISOString());
  assert.equal((await st.getQuotaUsage('p1', 'u1')).instances, 1);
  await st.close();
});

test('a file database survives reopen (WAL) and does not re-run migrations', async () => {
  const { mkdtempSync, rmSync } = await import('node:fs');
  const { join } = await import('node:path');
  const { tmpdir } = await import('node:os');
  const dir = mkdtempSync(join(tmpdir(), 'novalet-store-'));
  const path = join(dir, 'c.db');
  let st = new SqliteStore(path);
  assert.equal(databaseOf(st).pragma('journal_mode', { simple: true }), 'wal');
  const s = await st.createServer(newServer({ name: 'keep' }));
  await st.close();
  st = new SqliteStore(path);
  assert.equal((await st.getServer(s.id))!.name, 'keep');
  await st.close();
  rmSync(dir, { recursive: true, force: true });
});

test('metadata and tags: every write shows in list pages and shows; a pre-5 database is backfilled', async () => {
  const st = new SqliteStore(':memory:');
  const a = await st.createServer(newServer({ name: 'a', metadata: { b: '2', a: '1' }, tags: ['y', 'x'] }));
  const b = await st.createServer(newServer({ name: 'b' }));
  const view = async (id: string) => {
    const listed = (await st.listServers({})).find((s) => s.id === id)!;
    const shown = (await st.getServer(id))!;
    assert.deepEqual([listed.metadata, listed.tags], [shown.metadata, shown.tags]);
    return { md: listed.metadata, tags: listed.tags };
  };
  assert.deepEqual(await view(a.id), { md: { a: '1', b: '2' }, tags: ['x', 'y'] });
  assert.deepEqual(Object.keys((await view(a.id)).md), ['a', 'b']);
  await st.setServerMetadata(a.id, { c: '3' }, false);
  assert.equal(await st.deleteServerMetadataKey(a.id, 'a'), true);
  assert.equal(await st.deleteServerMetadataKey(a.id, 'nope'), false);
  await st.addServerTag(a.id, 'z');
  assert.equal(await st.deleteServerTag(a.id, 'x'), true);
  assert.deepEqual(await view(a.id), { md: { b: '2', c: '3' }, tags: ['y', 'z'] });
  await st.setServerMetadata(a.id, { only: 'this' }, true);
  await st.setServerTags(a.id, ['t1']);
  assert.deepEqual(await view(a.id), { md: { only: 'this' }, tags: ['t1'] });
  assert.deepEqual(await view(b.id), { md: {}, tags: [] });
  // a database written before migration 5 has the child rows only: the migration fills the row columns
  databaseOf(st).prepare("UPDATE servers SET metadata = '{}', tags = '[]'").run();
  databaseOf(st).exec(MIGRATIONS[4]!.replace(/ALTER TABLE[^;]+;/g, ''));
  assert.deepEqual(await view(a.id), { md: { only: 'this' }, tags: ['t1'] });
  await st.close();
});

test('viewFieldsOnly lists the same servers, field by field, as a full read (but keyData, requestedNetworks, oldFlavor)', async () => {
  const st = new SqliteStore(':memory:');
  const made = [
    await st.createServer(newServer({ name: 'plain' })),
    await st.createServer(newServer({
      name: 'rich "quoted" \\ name', metadata: { k: 'v', 'ü': '"x"' }, tags: ['b', 'a'], userData: 'I2Nsb3VkLWNvbmZpZw==',
      keyName: 'k1', keyData: 'ssh-ed25519 AAAA k1', description: 'd', locked: true, lockedReason: 'why', lockedBy: 'owner',
      addresses: [{ network: 'private', addr: '10.0.0.5', version: 4, mac: 'fa:16:3e:00:00:05', type: 'fixed' }],
      requestedNetworks: [{ uuid: 'net-1' }] as never, blockDeviceMapping: [{ boot_index: 0, destination_type: 'volume' }],
      oldFlavor: { id: '2', name: 'm1.small', vcpus: 1, ram: 2048, disk: 20, ephemeral: 0, swap: 0, extraSpecs: { a: 'b' } },
      taskState: 'rebooting', host: null, node: null, availabilityZone: null, launchedAt: new Date().toISOString(),
    })),
    await st.createServer(newServer({ name: 'broken', vmState: 'error', powerState: 0, fault: { code: 500, message: 'boom', details: 'tb', created: new Date().toISOString() } })),
  ];
  await st.updateServer(made[2]!.id, { deleted: true, deletedAt: new Date().toISOString(), terminatedAt: new Date().toISOString() });
  for (const deleted of ['exclude', 'include'] as const) {
    const full = await st.listServers({ deleted });
    const view = await st.listServers({ deleted, viewFieldsOnly: true });
    assert.equal(view.length, deleted === 'include' ? 3 : 2);
    assert.deepEqual(view, full.map((s) => ({ ...s, keyData: null, requestedNetworks: null, oldFlavor: null })));
  }
  await st.close();
});

test('revision: every write to a server raises it (every store write, metadata, tags, a raw UPDATE); a refused CAS does not', async () => {
  const st = new SqliteStore(':memory:');
  const a = await st.createServer(newServer({ name: 'a' }));
  const b = await st.createServer(newServer({ name: 'b' }));
  assert.equal(typeof a.revision, 'number');
  const rev = async () => (await st.getServer(a.id, { includeDeleted: true }))!.revision;
  const steps: Array<[string, () => Promise<unknown>, boolean]> = [
    ['updateServer', () => st.updateServer(a.id, { name: 'a2' }), true],
    ['updateServerIf, won', () => st.updateServerIf(a.id, { taskState: null }, { taskState: 'pausing' }), true],
    ['updateServerIf, refused', () => st.updateServerIf(a.id, { taskState: null }, { taskState: 'rebooting' }), false],
    ['setServerMetadata', () => st.setServerMetadata(a.id, { k: 'v' }, false), true],
    ['deleteServerMetadataKey', () => st.deleteServerMetadataKey(a.id, 'k'), true],
    ['addServerTag', () => st.addServerTag(a.id, 't'), true],
    ['deleteServerTag', () => st.deleteServerTag(a.id, 't'), true],
    ['setServerTags', () => st.setServerTags(a.id, ['x']), true],
    ['raw UPDATE', async () => databaseOf(st).prepare('UPDATE servers SET progress = 7 WHERE id = ?').run(a.id), true],
    ['markServerDeleted', () => st.markServerDeleted(a.id, new Date().toISOString()), true],
  ];
  for (const [what, write, raises] of steps) {
    const before = await rev();
    await write();
    const after = await rev();
    if (raises) assert.ok(after > before, what); else assert.equal(after, before, what);
  }
  assert.equal((await st.getServer(b.id))!.revision, b.revision, 'other rows untouched');
  // revisions list the same servers in the same order as the rows, ids filter included
  const q = { deleted: 'include' as const, sort: [{ key: 'display_name' as const, dir: 'asc' as const }] };
  assert.deepEqual(await st.listServerRevisions(q), (await st.listServers(q)).map((s) => ({ id: s.id, revision: s.revision })));
  assert.deepEqual((await st.listServers({ ids: [b.id, randomUUID()] })).map((s) => s.name), ['b']);
  assert.deepEqual(await st.listServers({ ids: [] }), []);
  await st.close();
});
