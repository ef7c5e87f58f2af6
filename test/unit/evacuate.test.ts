/**
 * Evacuation (tasks/defs/evacuate.ts) and fencing of the returning host (host-monitor/fencing.ts) behind the real
 * engine, scheduler and claims with two fake hosts: Nova's 400s (source up, own host) and 404 (unknown host), the
 * microversion forms (onSharedStorage and adminPass before 2.14, force 2.29..2.67), the rebuild on the other host
 * with the server's addresses and volumes, the migration record and instance action, the fence that destroys the
 * stale copy and completes the record, a failed evacuation, and a controller that dies mid-evacuation.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHarness, type Harness } from '../support/harness.js';
import { controllerThatDies } from '../support/controller-crash.js';
import { databaseOf } from '../../src/store/sqlite/sqlite-store.js';
import { addHostB, attachNewVolume, evacuateToOther, hostOf, twoHosts, otherHost } from '../support/two-hosts.js';
import { freshPostgresDatabase, postgresBase } from '../support/postgres.js';

const S = '/compute/v2.1/servers';
const other = otherHost;
const act = (h: Harness, id: string, body: unknown, version = '2.53') => h.req(h.tokens.admin, 'POST', `${S}/${id}/action`, body, version);
const show = async (h: Harness, id: string) => (await h.req(h.tokens.admin, 'GET', `${S}/${id}`, undefined, '2.47')).json().server;

/** the host stops sending heartbeats (its last one 2 minutes ago: down after service_down_time 60 s) */
async function powerLoss(h: Harness, host: string): Promise<void> {
  await h.store.updateHost(host, { lastSeenAt: new Date(Date.now() - 120_000).toISOString() });
  await h.app.novalet.compute.hosts.list();
}

test('evacuate is refused while the source is up; own host 400; unknown host 404; not admin 403', async () => {
  const h = await twoHosts();
  const id = await h.boot(h.tokens.demo);
  const source = await hostOf(h, id);
  let r = await act(h, id, { evacuate: {} });
  assert.equal(r.statusCode, 400);
  assert.equal(r.json().badRequest.message, `Compute service of ${source} is still in use.`);
  assert.equal((await h.store.listMigrations({})).length, 0, 'a refused evacuation writes no record');
  r = await h.req(h.tokens.demo, 'POST', `${S}/${id}/action`, { evacuate: {} }, '2.53');
  assert.equal(r.statusCode, 403);
  // Nova checks the target host before the source's service
  r = await act(h, id, { evacuate: { host: source } });
  assert.equal(r.json().badRequest.message, "The target host can't be the same one.");
  await powerLoss(h, source);
  r = await act(h, id, { evacuate: { host: source } });
  assert.equal(r.statusCode, 400);
  assert.equal(r.json().badRequest.message, "The target host can't be the same one.");
  r = await act(h, id, { evacuate: { host: 'nowhere' } });
  assert.equal(r.statusCode, 404);
  assert.equal(r.json().itemNotFound.message, 'Compute host nowhere not found.');
  // forced down (2.11) counts as down even with fresh heartbeats
  const h2 = await twoHosts();
  const id2 = await h2.boot(h2.tokens.demo);
  const src2 = await hostOf(h2, id2);
  const svc = (await h2.req(h2.tokens.admin, 'GET', `/compute/v2.1/os-services?host=${src2}`, undefined, '2.53')).json().services[0];
  r = await h2.req(h2.tokens.admin, 'PUT', `/compute/v2.1/os-services/${svc.id}`, { forced_down: true }, '2.53');
  assert.equal(r.statusCode, 200, r.body);
  assert.equal(r.json().service.state, 'down');
  assert.equal(r.json().service.forced_down, true);
  assert.equal((await act(h2, id2, { evacuate: {} })).statusCode, 200);
  await h2.idle();
  assert.equal(await hostOf(h2, id2), other(src2));
  await h.close();
  await h2.close();
});

test('evacuate from a dead host: ACTIVE on the other host with its addresses; record, action, claims; fencing on return', async () => {
  const h = await twoHosts();
  const id = await h.boot(h.tokens.demo);
  const source = await hostOf(h, id);
  const target = other(source);
  const before = (await show(h, id)).addresses;
  await powerLoss(h, source);
  const r = await act(h, id, { evacuate: {} });
  assert.equal(r.statusCode, 200, r.body);
  assert.equal(r.body, '', 'no body from 2.14');
  await h.idle();
  const s = await show(h, id);
  assert.equal(s.status, 'ACTIVE');
  assert.equal(s['OS-EXT-SRV-ATTR:host'], target);
  assert.deepEqual(s.addresses, before, 'same ports, same addresses');
  const spawn = h.driver.calls.filter((c) => c.op === 'spawn' && c.serverId === id);
  assert.equal(spawn.at(-1)!.host, target);
  assert.equal(spawn.at(-1)!.tag, 'evacuate');
  const [m] = await h.store.listMigrations({ serverId: id });
  assert.equal(m!.migrationType, 'evacuation');
  assert.equal(m!.status, 'done');
  assert.equal(m!.sourceCompute, source);
  assert.equal(m!.destCompute, target);
  const api = (await h.req(h.tokens.admin, 'GET', `/compute/v2.1/os-migrations?migration_type=evacuation`, undefined, '2.80')).json().migrations;
  assert.equal(api.length, 1);
  assert.equal(api[0].migration_type, 'evacuation');
  const acts = (await h.req(h.tokens.demo, 'GET', `${S}/${id}/os-instance-actions`)).json().instanceActions.map((a: { action: string }) => a.action);
  assert.ok(acts.includes('evacuate'));
  // the server's claim is on the target; the record holds the source's until the source is fenced
  assert.equal((await h.store.getAllocation(id))!.host, target);
  assert.equal((await h.store.getAllocation(m!.uuid))!.host, source);
  // the fake source still "has" its guest (it was never told): the stale copy
  assert.equal(h.driver.guestOn(source, id), 'running');

  // the host comes back: fencing destroys the stale copy before the host may count as up
  assert.equal(await h.app.novalet.compute.fencer.fence(source), true);
  assert.equal(h.driver.guestOn(source, id), undefined, 'stale copy destroyed');
  assert.equal(h.driver.guestOn(target, id), 'running');
  const destroy = h.driver.calls.filter((c) => c.op === 'destroy' && c.host === source);
  assert.equal(destroy.length, 1);
  assert.equal(destroy[0]!.requestId, `req-fence-${m!.uuid}`);
  assert.equal(h.driver.calls.filter((c) => c.host === source && ['start', 'spawn', 'reboot', 'resume', 'unpause'].includes(c.op) && c.requestId.startsWith('req-fence')).length, 0, 'never started');
  assert.equal((await h.store.getMigration(m!.uuid))!.status, 'completed');
  assert.equal(await h.store.getAllocation(m!.uuid), null, 'the source claim is given back');
  assert.equal((await h.store.getHostUsage(source)).instances, 0);
  // nothing left to fence: a second fence makes no call
  const n = h.driver.calls.length;
  assert.equal(await h.app.novalet.compute.fencer.fence(source), true);
  assert.equal(h.driver.calls.length, n);
  await h.close();
});

test('before 2.14: onSharedStorage required, adminPass answered; a password on a kept disk is 400; force only 2.29..2.67', async () => {
  const h = await twoHosts();
  const id = await h.boot(h.tokens.demo);
  await powerLoss(h, await hostOf(h, id));
  let r = await act(h, id, { evacuate: {} }, '2.13');
  assert.equal(r.statusCode, 400);
  r = await act(h, id, { evacuate: { onSharedStorage: true, adminPass: 'x' } }, '2.13');
  assert.equal(r.statusCode, 400);
  assert.equal(r.json().badRequest.message, "admin password can't be changed on existing disk");
  r = await act(h, id, { evacuate: { onSharedStorage: false, force: true } }, '2.13');
  assert.equal(r.statusCode, 400);
  r = await act(h, id, { evacuate: { onSharedStorage: true } }, '2.14');
  assert.equal(r.statusCode, 400);
  r = await act(h, id, { evacuate: { onSharedStorage: 'False', adminPass: 'secret-pw' } }, '2.13');
  assert.equal(r.statusCode, 200, r.body);
  assert.deepEqual(r.json(), { adminPass: 'secret-pw' });
  await h.idle();
  assert.equal((await show(h, id)).status, 'ACTIVE');
  await h.close();
});

test('adminPass reaches the agent with the spawn or rebuild (config drive), kept on the task row only while it runs; none on a kept disk', async () => {
  const h = await twoHosts();
  const spawned = (id: string, tag?: string) => h.driver.calls.filter((c) => c.serverId === id && c.op === 'spawn' && c.tag === tag).map((c) => c.adminPass);
  // create: the password given, or the one answered
  const id = await h.boot(h.tokens.demo, 'pw', { adminPass: 'create-S3cret' });
  assert.deepEqual(spawned(id), ['create-S3cret']);
  // rebuild: the new one, on the rebuild call, the same the API answers
  let r = await h.req(h.tokens.demo, 'POST', `${S}/${id}/action`, { rebuild: { imageRef: (await show(h, id)).image.id, adminPass: 'rebuild-S3cret' } });
  assert.equal(r.statusCode, 202, r.body);
  assert.equal(r.json().server.adminPass, 'rebuild-S3cret');
  await h.idle();
  assert.deepEqual(h.driver.calls.filter((c) => c.serverId === id && c.op === 'rebuild').map((c) => c.adminPass), ['rebuild-S3cret']);
  // evacuate (2.14+, no onSharedStorage): the one given; without one, a new one (Nova generates it) all the same
  const source = await hostOf(h, id);
  await powerLoss(h, source);
  const rows: string[] = [];
  h.driver.on('spawn', async (c) => {
    rows.push(JSON.stringify(await h.store.listServerTasks(c.serverId)));
    return { power: 'running' } as never;
  });
  r = await act(h, id, { evacuate: { adminPass: 'evac-S3cret' } }, '2.29');
  assert.equal(r.statusCode, 200, r.body);
  await h.idle();
  assert.deepEqual(spawned(id, 'evacuate'), ['evac-S3cret']);
  assert.match(rows[0]!, /evac-S3cret/, 'on the task row while the task runs (a re-drive sends it again)');
  assert.deepEqual(await h.store.listServerTasks(id), [], 'the row goes when the task ends');
  // before 2.14 with onSharedStorage true: the disk is kept, no password
  const h2 = await twoHosts();
  const id2 = await h2.boot(h2.tokens.demo);
  await powerLoss(h2, await hostOf(h2, id2));
  assert.equal((await act(h2, id2, { evacuate: { onSharedStorage: true } }, '2.13')).statusCode, 200);
  await h2.idle();
  const calls = h2.driver.calls.filter((c) => c.serverId === id2 && c.op === 'spawn' && c.tag === 'evacuate');
  assert.equal(calls.length, 1);
  assert.equal(calls[0]!.adminPass, undefined);
  await h.close();
  await h2.close();
});

test('a stopped server is evacuated stopped; a failed spawn leaves ERROR on the old host, the record failed, claims back', async () => {
  const h = await twoHosts();
  const a = await h.boot(h.tokens.demo, 'a');
  const source = await hostOf(h, a);
  assert.equal((await h.req(h.tokens.demo, 'POST', `${S}/${a}/action`, { 'os-stop': null })).statusCode, 202);
  await h.idle();
  await powerLoss(h, source);
  assert.equal((await act(h, a, { evacuate: {} })).statusCode, 200);
  await h.idle();
  let s = await show(h, a);
  assert.equal(s.status, 'SHUTOFF');
  assert.equal(s['OS-EXT-SRV-ATTR:host'], other(source));

  await addHostB(h); // host-b reports again (fake-host stays dead)
  const h2 = await twoHosts();
  const b = await h2.boot(h2.tokens.demo, 'b');
  const src = await hostOf(h2, b);
  await powerLoss(h2, src);
  h2.driver.failNext('spawn');
  assert.equal((await act(h2, b, { evacuate: {} })).statusCode, 200);
  await h2.idle();
  s = await show(h2, b);
  assert.equal(s.status, 'ERROR');
  assert.equal(s['OS-EXT-SRV-ATTR:host'], src);
  const [m] = await h2.store.listMigrations({ serverId: b });
  assert.equal(m!.status, 'failed');
  assert.equal((await h2.store.getAllocation(b))!.host, src);
  assert.equal(await h2.store.getAllocation(m!.uuid), null);
  // a failed evacuation is not fenced (the server still belongs to its host); it can be evacuated again from ERROR
  assert.equal((await h2.app.novalet.compute.fencer.pending(src)).length, 0);
  assert.equal((await act(h2, b, { evacuate: {} })).statusCode, 200);
  await h2.idle();
  assert.equal((await show(h2, b)).status, 'ACTIVE');
  await h.close();
  await h2.close();
});

test('a controller that dies mid-evacuation: another re-drives it with the same request ids, one copy runs', async () => {
  const crash = await controllerThatDies('evacuate', 'spawn', 'after');
  const { a } = crash;
  const id = await a.boot(a.tokens.demo);
  const source = await hostOf(a, id);
  await powerLoss(a, source);
  assert.equal((await act(a, id, { evacuate: {} })).statusCode, 200);
  await crash.untilCall((c) => c.op === 'spawn' && c.tag === 'evacuate');
  assert.equal((await show(a, id)).status, 'REBUILD');

  const b = await crash.takeOver();
  await b.idle();
  const s = await show(b, id);
  assert.equal(s.status, 'ACTIVE');
  assert.equal(s['OS-EXT-SRV-ATTR:host'], other(source));
  const spawns = a.driver.calls.filter((c) => c.op === 'spawn' && c.tag === 'evacuate');
  assert.equal(spawns.length, 2, 're-driven once');
  assert.equal(spawns[0]!.requestId, spawns[1]!.requestId, 'same request id: the agent answers with the operation it ran');
  assert.equal(spawns[0]!.host, spawns[1]!.host, 'same target');
  const copies = [...a.driver.placed.entries()].filter(([k, power]) => k.endsWith(`/${id}`) && power === 'running' && !k.startsWith(`${source}/`));
  assert.equal(copies.length, 1, 'one copy runs on a live host');
  assert.equal((await b.store.listMigrations({ serverId: id })).length, 1, 'one record');
  assert.equal((await b.store.listMigrations({ serverId: id }))[0]!.status, 'done');
  await crash.close();
});

test('fencing on shared instance storage keeps the files (destroy keepFiles); a failed destroy keeps the host down', async () => {
  const h = await twoHosts();
  const id = await h.boot(h.tokens.demo);
  const source = await hostOf(h, id);
  await powerLoss(h, source);
  assert.equal((await act(h, id, { evacuate: {} })).statusCode, 200);
  await h.idle();
  h.driver.sharedStorage = true;
  const seen: unknown[] = [];
  h.driver.failNext('destroy', 'libvirt said no', 'internal');
  assert.equal(await h.app.novalet.compute.fencer.fence(source), false, 'not fenced: the host stays down');
  const [m] = await h.store.listMigrations({ serverId: id });
  assert.equal(m!.status, 'done', 'still to fence');
  h.driver.on('destroy', async (c) => { seen.push(c.params); h.driver.placed.delete(`${c.host}/${c.serverId}`); return {}; });
  assert.equal(await h.app.novalet.compute.fencer.fence(source), true);
  assert.deepEqual(seen, [{ keepFiles: true }]);
  assert.equal((await h.store.getMigration(m!.uuid))!.status, 'completed');
  await h.close();
});

test('a server with an attached volume keeps it: the spawn on the target has the volume as a disk given by path', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'novalet-evac-vol-'));
  const h = await twoHosts({ volumes: { dir } });
  try {
    const id = await h.boot(h.tokens.demo);
    const source = await hostOf(h, id);
    const { volumeId: vol, device } = await attachNewVolume(h, id);
    let spec: { disks?: Array<{ target: string; path?: string; volumeId?: string }> } | undefined;
    h.driver.on('spawn', async (c) => { spec = (c.params as { spec: typeof spec }).spec; h.driver.placed.set(`${c.host}/${c.serverId}`, 'running'); return { power: 'running' }; });
    await powerLoss(h, source);
    await evacuateToOther(h, id, source);
    const s = await show(h, id);
    assert.deepEqual(s['os-extended-volumes:volumes_attached'].map((v: { id: string }) => v.id), [vol], 'still attached');
    const disk = spec?.disks?.find((d) => d.volumeId === vol);
    assert.ok(disk, JSON.stringify(spec?.disks));
    assert.equal(disk.target, device.replace('/dev/', ''));
    assert.ok(disk.path?.startsWith(dir), disk.path);
    const [att] = await h.store.listAttachments({ serverId: id });
    assert.equal(att!.hostName, other(source), 'the attachment names the new host');
    assert.equal(att!.status, 'attached');
  } finally {
    await h.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

const pgBase = postgresBase();
test('on PostgreSQL: evacuate, record, claims, fence', { skip: 'skip' in pgBase ? pgBase.skip : false }, async () => {
  const db = await freshPostgresDatabase((pgBase as { url: string }).url);
  const h = await createHarness({ allowResizeToSameHost: false }, 2, { storeUrl: db.url });
  try {
    await h.app.novalet.compute.hosts.heartbeat('host-b', { vcpus: 8, memoryMb: 16384, diskGb: 100, hostIp: '127.0.0.2' });
    await h.app.novalet.compute.placement.refresh();
    const id = await h.boot(h.tokens.demo);
    const source = (await h.req(h.tokens.admin, 'GET', `${S}/${id}`, undefined, '2.47')).json().server['OS-EXT-SRV-ATTR:host'] as string;
    await h.store.updateHost(source, { lastSeenAt: new Date(Date.now() - 120_000).toISOString() });
    await evacuateToOther(h, id, source);
    const [m] = await h.store.listMigrations({ serverId: id });
    assert.equal(m!.status, 'done');
    assert.equal((await h.app.novalet.compute.fencer.pending(source)).length, 1);
    assert.equal(await h.app.novalet.compute.fencer.fence(source), true);
    assert.equal((await h.store.getMigration(m!.uuid))!.status, 'completed');
    assert.equal(await h.store.getAllocation(m!.uuid), null);
    await h.app.novalet.compute.hostFailure.monitor.check();
    assert.ok((await h.store.listHostTransitions({ host: source })).some((t) => t.state === 'down'));
  } finally {
    await h.close();
    await db.drop();
  }
});

test('fencing an `accepted` record without its task: young = guest destroyed, files kept; a minute old = closed, guest left alone', async () => {
  const h = await twoHosts();
  const id = await h.boot(h.tokens.demo);
  const source = await hostOf(h, id);
  const s = (await h.store.getServer(id))!;
  const rec = (uuid: string) => h.store.createMigration({
    uuid, serverId: id, sourceCompute: source, sourceNode: source, destCompute: null, destNode: null, destHost: null,
    oldFlavorId: s.flavor.id, newFlavorId: s.flavor.id, status: 'accepted', migrationType: 'evacuation', projectId: s.projectId, userId: s.userId,
  });
  const seen: unknown[] = [];
  h.driver.on('destroy', async (c) => { seen.push(c.params); return {}; });
  await rec('11111111-1111-4111-8111-111111111111');
  assert.equal(await h.app.novalet.compute.fencer.fence(source), true);
  assert.deepEqual(seen, [{ keepFiles: true }]);
  assert.equal((await h.store.getMigration('11111111-1111-4111-8111-111111111111'))!.status, 'accepted', 'its task may still begin');

  await h.store.updateMigration('11111111-1111-4111-8111-111111111111', { status: 'error' });
  await rec('22222222-2222-4222-8222-222222222222');
  databaseOf(h.store).prepare('UPDATE migrations SET created_at = ? WHERE uuid = ?').run(new Date(Date.now() - 120_000).toISOString(), '22222222-2222-4222-8222-222222222222');
  seen.length = 0;
  assert.equal(await h.app.novalet.compute.fencer.fence(source), true);
  assert.deepEqual(seen, [], 'nothing destroyed');
  assert.equal((await h.store.getMigration('22222222-2222-4222-8222-222222222222'))!.status, 'error');
  assert.deepEqual([...(await h.app.novalet.compute.fencer.hostsToFence())], []);
  await h.close();
});
