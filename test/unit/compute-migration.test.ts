/**
 * Resize and cold migration across hosts (tasks/defs/migration.ts) behind the real engine, scheduler and claims,
 * with two fake hosts: VERIFY_RESIZE on the target with resources held on both hosts, confirm and revert, the
 * migration records and their API views, the 400s and 409s, a failed move put back on its source, a controller
 * that dies mid-migration re-driven by another, the automatic confirm, and a delete while awaiting confirm.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHarness, type Harness } from '../support/harness.js';
import { controllerThatDies } from '../support/controller-crash.js';
import { addHostB, TWO_HOSTS, twoHosts } from '../support/two-hosts.js';

const S = '/compute/v2.1/servers';
const M = '/compute/v2.1/os-migrations';
const HOSTS = TWO_HOSTS;

const act = (h: Harness, id: string, body: unknown, version?: string, token = h.tokens.demo) => h.req(token, 'POST', `${S}/${id}/action`, body, version);
const show = async (h: Harness, id: string) => (await h.req(h.tokens.admin, 'GET', `${S}/${id}`, undefined, '2.47')).json().server;
const hostOf = async (h: Harness, id: string) => (await show(h, id))['OS-EXT-SRV-ATTR:host'] as string;
const other = (host: string) => HOSTS.find((x) => x !== host)!;
const migrations = async (h: Harness, query = '', version = '2.80') => {
  const r = await h.req(h.tokens.admin, 'GET', `${M}${query}`, undefined, version);
  assert.equal(r.statusCode, 200, r.body);
  return r.json();
};

test('resize across hosts: VERIFY_RESIZE on the target, claims held on both hosts, confirm frees the source', async () => {
  const h = await twoHosts();
  const id = await h.boot(h.tokens.demo);
  const source = await hostOf(h, id);
  const target = other(source);
  const r = await act(h, id, { resize: { flavorRef: '2' } });
  assert.equal(r.statusCode, 202, r.body);
  await h.idle();
  let s = await show(h, id);
  assert.equal(s.status, 'VERIFY_RESIZE');
  assert.equal(s['OS-EXT-SRV-ATTR:host'], target);
  assert.equal(s.flavor.original_name, 'm1.small');
  assert.equal(h.driver.guestOn(source, id), 'shutdown', 'the source keeps its stopped copy until confirm');
  assert.equal(h.driver.guestOn(target, id), 'running');
  const recv = h.driver.calls.find((c) => c.op === 'migrate_receive')!;
  assert.equal(recv.host, target);

  const [m] = (await migrations(h)).migrations;
  assert.equal(m.status, 'finished');
  assert.equal(m.migration_type, 'resize');
  assert.equal(m.source_compute, source);
  assert.equal(m.dest_compute, target);
  assert.equal(m.instance_uuid, id);
  assert.equal(m.old_instance_type_id, 1);
  assert.equal(m.new_instance_type_id, 2);
  assert.equal(m.user_id, h.ids.demoUser);
  assert.equal(m.project_id, h.ids.demoProject);

  // held on both hosts: the new flavor on the target (the server's), the old on the source (the migration's)
  assert.deepEqual(await h.store.getAllocation(id), { host: target, vcpus: 1, memoryMb: 256, diskGb: 2 });
  assert.deepEqual(await h.store.getAllocation(m.uuid), { host: source, vcpus: 1, memoryMb: 128, diskGb: 1 });
  assert.equal((await h.store.getHostUsage(source)).memoryMb, 128);
  assert.equal((await h.store.getHostUsage(target)).memoryMb, 256);

  assert.equal((await act(h, id, { confirmResize: null })).statusCode, 204);
  await h.idle();
  s = await show(h, id);
  assert.equal(s.status, 'ACTIVE');
  assert.equal(s['OS-EXT-SRV-ATTR:host'], target);
  assert.equal(h.driver.guestOn(source, id), undefined, 'the source copy is destroyed on confirm');
  assert.equal(h.driver.guestOn(target, id), 'running');
  assert.equal(await h.store.getAllocation(m.uuid), null);
  assert.deepEqual(await h.store.getHostUsage(source), { instances: 0, vcpus: 0, memoryMb: 0, diskGb: 0 });
  assert.equal((await migrations(h)).migrations[0].status, 'confirmed');
  const acts = (await h.req(h.tokens.demo, 'GET', `${S}/${id}/os-instance-actions`)).json().instanceActions.map((a: { action: string }) => a.action);
  assert.deepEqual(acts.sort(), ['confirmResize', 'create', 'resize']);
  await h.close();
});

test('revert across hosts: back on the source with the old flavor, target copy and claim gone', async () => {
  const h = await twoHosts();
  const id = await h.boot(h.tokens.demo);
  const source = await hostOf(h, id);
  const target = other(source);
  assert.equal((await act(h, id, { resize: { flavorRef: '3' } })).statusCode, 202);
  await h.idle();
  assert.equal((await show(h, id)).status, 'VERIFY_RESIZE');
  assert.equal((await act(h, id, { revertResize: null })).statusCode, 202);
  await h.idle();
  const s = await show(h, id);
  assert.equal(s.status, 'ACTIVE');
  assert.equal(s['OS-EXT-SRV-ATTR:host'], source);
  assert.equal(s.flavor.original_name, 'm1.tiny');
  assert.equal(s['OS-EXT-STS:power_state'], 1);
  assert.equal(h.driver.guestOn(target, id), undefined);
  assert.equal(h.driver.guestOn(source, id), 'running', 'the untouched source guest is started again');
  // the source's guest was started from the files it kept: no disk moved back, nothing rebuilt
  assert.equal(h.driver.calls.filter((c) => c.op === 'migrate_receive').length, 1);
  assert.ok(h.driver.calls.some((c) => c.op === 'start' && c.host === source && c.tag === 'source'));
  assert.deepEqual(await h.store.getAllocation(id), { host: source, vcpus: 1, memoryMb: 128, diskGb: 1 });
  assert.deepEqual(await h.store.getHostUsage(target), { instances: 0, vcpus: 0, memoryMb: 0, diskGb: 0 });
  const [m] = (await migrations(h)).migrations;
  assert.equal(m.status, 'reverted');
  assert.equal(await h.store.getAllocation(m.uuid), null);

  // a stopped server moves stopped and comes back stopped
  assert.equal((await act(h, id, { 'os-stop': null })).statusCode, 202);
  await h.idle();
  assert.equal((await act(h, id, { migrate: null }, undefined, h.tokens.admin)).statusCode, 202);
  await h.idle();
  assert.equal((await show(h, id)).status, 'VERIFY_RESIZE');
  assert.equal(h.driver.guestOn(target, id), 'shutdown');
  assert.equal((await act(h, id, { revertResize: null })).statusCode, 202);
  await h.idle();
  assert.equal((await show(h, id)).status, 'SHUTOFF');
  assert.equal(h.driver.guestOn(source, id), 'shutdown');
  await h.close();
});

test('cold migrate: admin only, host from 2.56, 400 for its own or an unknown host or none free, 409 when busy or in the wrong state', async () => {
  const h = await twoHosts();
  const id = await h.boot(h.tokens.demo);
  const source = await hostOf(h, id);
  const target = other(source);
  let r = await act(h, id, { migrate: null });
  assert.equal(r.statusCode, 403);
  r = await act(h, id, { migrate: { host: target } }, '2.55', h.tokens.admin);
  assert.equal(r.statusCode, 400);
  r = await act(h, id, { migrate: { host: source } }, '2.56', h.tokens.admin);
  assert.equal(r.statusCode, 400);
  assert.equal(r.json().badRequest.message, 'Cannot migrate to the host where the server exists.');
  r = await act(h, id, { migrate: { host: 'nowhere' } }, '2.56', h.tokens.admin);
  assert.equal(r.json().badRequest.message, 'Compute host nowhere could not be found.');
  assert.equal((await show(h, id)).status, 'ACTIVE', 'a refused migrate changes nothing');
  assert.equal((await migrations(h)).migrations.length, 0);

  // confirm/revert without a resize: 409 with Nova's message
  r = await act(h, id, { confirmResize: null });
  assert.equal(r.statusCode, 409);
  assert.equal(r.json().conflictingRequest.message, `Cannot 'confirmResize' instance ${id} while it is in vm_state active`);

  r = await act(h, id, { migrate: { host: target } }, '2.56', h.tokens.admin);
  assert.equal(r.statusCode, 202, r.body);
  // while it moves: every other action is refused
  const busy = await act(h, id, { resize: { flavorRef: '2' } });
  assert.equal(busy.statusCode, 409);
  assert.match(busy.json().conflictingRequest.message, /while it is in task_state resize_prep/);
  await h.idle();
  const s = await show(h, id);
  assert.equal(s.status, 'VERIFY_RESIZE');
  assert.equal(s['OS-EXT-SRV-ATTR:host'], target);
  assert.equal(s.flavor.original_name, 'm1.tiny', 'a cold migration keeps the flavor');
  const [m] = (await migrations(h)).migrations;
  assert.equal(m.migration_type, 'migration');
  assert.equal(m.old_instance_type_id, 1);
  assert.equal(m.new_instance_type_id, 1);
  r = await act(h, id, { migrate: null }, undefined, h.tokens.admin);
  assert.equal(r.statusCode, 409);
  assert.equal(r.json().conflictingRequest.message, `Cannot 'migrate' instance ${id} while it is in vm_state resized`);
  assert.equal((await act(h, id, { confirmResize: null })).statusCode, 204);
  await h.idle();

  // the other host is down: nowhere to go, answered at once as Nova's scheduler does
  await h.store.updateHost(source, { forcedDown: true });
  await h.app.novalet.compute.placement.refresh();
  r = await act(h, id, { migrate: null }, undefined, h.tokens.admin);
  assert.equal(r.statusCode, 400);
  assert.equal(r.json().badRequest.message, 'No valid host was found. No valid host found for cold migrate');
  r = await act(h, id, { resize: { flavorRef: '2' } });
  assert.equal(r.json().badRequest.message, 'No valid host was found. No valid host found for resize');
  // the server's own host down: Nova's 409
  await h.store.updateHost(source, { forcedDown: false });
  await h.store.updateHost(target, { forcedDown: true });
  r = await act(h, id, { migrate: null }, undefined, h.tokens.admin);
  assert.equal(r.statusCode, 409);
  assert.equal(r.json().conflictingRequest.message, 'Service is unavailable at this time.');
  assert.equal((await show(h, id)).status, 'ACTIVE');
  await h.close();
});

test('same-host resize only when allowed: allowResizeToSameHost keeps it on its host with one claim', async () => {
  const h = await createHarness({ allowResizeToSameHost: true });
  const id = await h.boot(h.tokens.demo);
  assert.equal((await act(h, id, { resize: { flavorRef: '2' } })).statusCode, 202);
  await h.idle();
  assert.equal((await show(h, id)).status, 'VERIFY_RESIZE');
  assert.ok(h.driver.calls.some((c) => c.op === 'resize' && c.host === 'fake-host'));
  const [m] = (await migrations(h)).migrations;
  assert.equal(m.source_compute, 'fake-host');
  assert.equal(m.dest_compute, 'fake-host');
  assert.equal(await h.store.getAllocation(m.uuid), null, 'one host: one claim, grown');
  assert.equal((await h.store.getAllocation(id))!.memoryMb, 256);
  assert.equal((await act(h, id, { revertResize: null })).statusCode, 202);
  await h.idle();
  assert.equal((await show(h, id)).flavor.original_name, 'm1.tiny');
  assert.equal((await h.store.getAllocation(id))!.memoryMb, 128);
  assert.equal((await migrations(h)).migrations[0].status, 'reverted');
  await h.close();

  const single = await createHarness({ allowResizeToSameHost: false });
  const id2 = await single.boot(single.tokens.demo);
  const r = await act(single, id2, { resize: { flavorRef: '2' } });
  assert.equal(r.statusCode, 400, 'Nova default: never the same host');
  await single.close();
});

test('a move that fails on the target is put back on its source: running, claims back, migration error', async () => {
  const h = await twoHosts();
  const id = await h.boot(h.tokens.demo);
  const source = await hostOf(h, id);
  const target = other(source);
  h.driver.failNext('migrate_receive', 'disk copy failed', 'internal', true);
  assert.equal((await act(h, id, { resize: { flavorRef: '2' } })).statusCode, 202);
  await h.idle();
  const s = await show(h, id);
  assert.equal(s.status, 'ACTIVE');
  assert.equal(s['OS-EXT-SRV-ATTR:host'], source);
  assert.equal(s.flavor.original_name, 'm1.tiny');
  assert.equal(h.driver.guestOn(source, id), 'running');
  assert.equal(h.driver.guestOn(target, id), undefined);
  assert.deepEqual(await h.store.getAllocation(id), { host: source, vcpus: 1, memoryMb: 128, diskGb: 1 });
  assert.deepEqual(await h.store.getHostUsage(target), { instances: 0, vcpus: 0, memoryMb: 0, diskGb: 0 });
  const [m] = (await migrations(h)).migrations;
  assert.equal(m.status, 'error');
  assert.equal(await h.store.getAllocation(m.uuid), null);
  await h.close();
});

test('os-migrations: views per microversion, filters, paging; /servers/{id}/migrations shows in-progress live migrations only', async () => {
  const h = await twoHosts();
  const a = await h.boot(h.tokens.demo, 'a');
  const b = await h.boot(h.tokens.demo, 'b');
  assert.equal((await act(h, a, { resize: { flavorRef: '2' } })).statusCode, 202);
  await h.idle();
  assert.equal((await act(h, b, { migrate: null }, undefined, h.tokens.admin)).statusCode, 202);
  await h.idle();
  const bHost = await hostOf(h, b);
  // a live migration in progress, as the live-migration task records it
  const live = await h.store.createMigration({
    uuid: '5c0c6bb2-1c0a-4a1e-9b3f-0d2c1c5e7f11', serverId: a, sourceCompute: 'host-b', sourceNode: 'host-b', destCompute: 'fake-host',
    destNode: 'fake-host', destHost: '127.0.0.1', oldFlavorId: '2', newFlavorId: '2', status: 'running', migrationType: 'live-migration',
    projectId: h.ids.adminProject, userId: 'admin-user',
  });
  await h.store.updateMigration(live.uuid, { memoryTotal: 1000, memoryProcessed: 400, memoryRemaining: 600, diskTotal: 0, diskProcessed: 0, diskRemaining: 0 });

  assert.equal((await h.req(h.tokens.demo, 'GET', M)).statusCode, 403);
  const v21 = (await migrations(h, '', '2.1')).migrations;
  assert.equal(v21.length, 3);
  assert.equal(v21[0].migration_type, undefined);
  assert.equal(v21[0].uuid, undefined);
  assert.match(v21[0].created_at, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}$/);
  const v223 = (await migrations(h, '', '2.23')).migrations;
  const liveView = v223.find((m: { migration_type: string }) => m.migration_type === 'live-migration');
  assert.deepEqual(liveView.links.map((l: { rel: string }) => l.rel), ['self', 'bookmark']);
  assert.ok(liveView.links[0].href.endsWith(`/v2.1/servers/${a}/migrations/${live.id}`));
  assert.ok(v223.filter((m: { links?: unknown }) => m.links === undefined).length === 2, 'links only for in-progress live migrations');
  assert.equal(v223[0].uuid, undefined);
  const v259 = (await migrations(h, '', '2.59')).migrations;
  assert.ok(v259.every((m: { uuid?: string; user_id?: string }) => typeof m.uuid === 'string' && m.user_id === undefined));

  // filters
  assert.equal((await migrations(h, `?instance_uuid=${b}`)).migrations.length, 1);
  assert.equal((await migrations(h, '?migration_type=migration')).migrations[0].instance_uuid, b);
  assert.equal((await migrations(h, '?migration_type=bogus')).migrations.length, 0);
  assert.equal((await migrations(h, '?status=running')).migrations.length, 1);
  assert.equal((await migrations(h, '?status=running&status=finished')).migrations.length, 3);
  assert.equal((await migrations(h, `?host=${bHost}`)).migrations.length, (await migrations(h)).migrations.filter((m: { source_compute: string; dest_compute: string }) => m.source_compute === bHost || m.dest_compute === bHost).length);
  assert.equal((await migrations(h, '?source_compute=nowhere')).migrations.length, 0);
  assert.equal((await migrations(h, '?user_id=admin-user')).migrations.length, 1);
  assert.equal((await migrations(h, `?project_id=${h.ids.demoProject}`, '2.80')).migrations.length, 1, 'the migrate was the admin\'s');
  assert.equal((await h.req(h.tokens.admin, 'GET', `${M}?user_id=x`, undefined, '2.79')).statusCode, 400, 'unknown from 2.59 on');
  assert.equal((await migrations(h, '?changes-since=2000-01-01T00:00:00Z', '2.59')).migrations.length, 3);
  assert.equal((await migrations(h, '?changes-before=2000-01-01T00:00:00Z', '2.66')).migrations.length, 0);
  assert.equal((await h.req(h.tokens.admin, 'GET', `${M}?changes-since=yesterday`, undefined, '2.59')).statusCode, 400);

  // paging: newest first, limit and marker from 2.59, a next link when the page is full
  const all = (await migrations(h, '', '2.59')).migrations;
  const p1 = await migrations(h, '?limit=2', '2.59');
  assert.deepEqual(p1.migrations.map((m: { uuid: string }) => m.uuid), all.slice(0, 2).map((m: { uuid: string }) => m.uuid));
  assert.match(p1.migrations_links[0].href, new RegExp(`marker=${all[1].uuid}`));
  const p2 = await migrations(h, `?limit=2&marker=${all[1].uuid}`, '2.59');
  assert.deepEqual(p2.migrations.map((m: { uuid: string }) => m.uuid), [all[2].uuid]);
  assert.equal(p2.migrations_links, undefined);
  const bad = await h.req(h.tokens.admin, 'GET', `${M}?marker=nope`, undefined, '2.59');
  assert.equal(bad.statusCode, 400);
  assert.equal(bad.json().badRequest.message, 'Marker nope could not be found.');

  // the server's in-progress live migrations (2.23), with progress
  assert.equal((await h.req(h.tokens.admin, 'GET', `${S}/${a}/migrations`, undefined, '2.22')).statusCode, 404);
  assert.equal((await h.req(h.tokens.demo, 'GET', `${S}/${a}/migrations`, undefined, '2.23')).statusCode, 403);
  const list = (await h.req(h.tokens.admin, 'GET', `${S}/${a}/migrations`, undefined, '2.80')).json().migrations;
  assert.equal(list.length, 1);
  assert.equal(list[0].memory_remaining_bytes, 600);
  assert.equal(list[0].server_uuid, a);
  assert.equal(list[0].uuid, live.uuid);
  assert.equal(list[0].user_id, 'admin-user');
  const one = await h.req(h.tokens.admin, 'GET', `${S}/${a}/migrations/${live.id}`, undefined, '2.23');
  assert.equal(one.statusCode, 200);
  assert.equal(one.json().migration.memory_total_bytes, 1000);
  assert.equal(one.json().migration.uuid, undefined);
  const cold = (await migrations(h, `?instance_uuid=${a}&migration_type=resize`)).migrations[0];
  const notLive = await h.req(h.tokens.admin, 'GET', `${S}/${a}/migrations/${cold.id}`, undefined, '2.23');
  assert.equal(notLive.statusCode, 404);
  assert.equal(notLive.json().itemNotFound.message, `Migration ${cold.id} for server ${a} is not live-migration.`);
  assert.equal((await h.req(h.tokens.admin, 'GET', `${S}/${b}/migrations`, undefined, '2.23')).json().migrations.length, 0);
  await h.store.updateMigration(live.uuid, { status: 'completed' });
  const done = await h.req(h.tokens.admin, 'GET', `${S}/${a}/migrations/${live.id}`, undefined, '2.23');
  assert.equal(done.json().itemNotFound.message, `Live migration ${live.id} for server ${a} is not in progress.`);
  await h.close();
});

test('a controller that dies mid-migration: another takes the task over and finishes it with the same request ids', async () => {
  // controller A hangs right after the target received the server (before that step's end is recorded)
  const crash = await controllerThatDies('resize', 'transfer', 'after');
  const { a } = crash;
  const id = await a.boot(a.tokens.demo);
  const source = await hostOf(a, id);
  assert.equal((await act(a, id, { resize: { flavorRef: '2' } })).statusCode, 202);
  await crash.untilCall((c) => c.op === 'migrate_receive');
  assert.equal((await show(a, id)).status, 'RESIZE');

  // controller B, same database and hosts; A never renews its lease (it is "dead")
  const b = await crash.takeOver();
  await b.idle();
  const s = await show(b, id);
  assert.equal(s.status, 'VERIFY_RESIZE');
  assert.equal(s['OS-EXT-SRV-ATTR:host'], other(source));
  const recv = a.driver.calls.filter((c) => c.op === 'migrate_receive');
  assert.equal(recv.length, 2, 're-driven once');
  assert.equal(recv[0]!.requestId, recv[1]!.requestId, 'with the same request id (the agent answers with the operation it ran)');
  assert.equal(recv[0]!.tag, recv[1]!.tag);
  assert.equal(a.driver.calls.filter((c) => c.op === 'stop').length, 1, 'steps before the recorded one are not run again');
  const [m] = (await migrations(b)).migrations;
  assert.equal(m.status, 'finished');
  assert.equal((await b.store.listMigrations({})).length, 1, 'one record');
  assert.equal((await b.store.getAllocation(m.uuid))!.host, source);
  assert.equal((await b.store.getAllocation(id))!.host, other(source));
  assert.equal((await b.store.listServerTasks(id)).length, 0);
  await crash.close();
});

test('automatic confirm after resizeConfirmWindowSeconds: one confirm task even with two controllers sweeping', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'novalet-mig-'));
  const dbPath = join(dir, 'shared.db');
  const over = { allowResizeToSameHost: false, resizeConfirmWindowSeconds: 1 };
  const a = await createHarness(over, 2, { dbPath });
  const b = await createHarness(over, 2, { dbPath, driver: a.driver });
  await addHostB(a);
  await addHostB(b);
  const id = await a.boot(a.tokens.demo);
  const source = await hostOf(a, id);
  assert.equal((await act(a, id, { resize: { flavorRef: '2' } })).statusCode, 202);
  await a.idle();
  assert.equal(await a.app.novalet.compute.resizeConfirm.sweep(), 0, 'not due yet');
  const later = Date.now() + 2000;
  const started = await Promise.all([a.app.novalet.compute.resizeConfirm.sweep(later), b.app.novalet.compute.resizeConfirm.sweep(later)]);
  assert.equal(started[0] + started[1], 1);
  await a.idle();
  await b.idle();
  assert.equal((await show(a, id)).status, 'ACTIVE');
  assert.equal(a.driver.guestOn(source, id), undefined);
  assert.equal((await migrations(a)).migrations[0].status, 'confirmed');
  const acts = (await a.req(a.tokens.demo, 'GET', `${S}/${id}/os-instance-actions`)).json().instanceActions;
  assert.equal(acts.filter((x: { action: string }) => x.action === 'confirmResize').length, 1);
  const off = await twoHosts();
  assert.equal(await off.app.novalet.compute.resizeConfirm.sweep(Date.now() + 1e9), 0, 'window 0: never (Nova\'s default)');
  await off.close();
  await a.close();
  await b.close();
  rmSync(dir, { recursive: true, force: true });
});

test('deleting a server in VERIFY_RESIZE removes it from both hosts and frees both claims', async () => {
  const h = await twoHosts();
  const id = await h.boot(h.tokens.demo);
  const source = await hostOf(h, id);
  assert.equal((await act(h, id, { resize: { flavorRef: '2' } })).statusCode, 202);
  await h.idle();
  assert.equal((await h.req(h.tokens.demo, 'DELETE', `${S}/${id}`)).statusCode, 204);
  await h.idle();
  assert.equal(h.driver.guestOn(source, id), undefined);
  assert.equal(h.driver.guestOn(other(source), id), undefined);
  for (const host of HOSTS) assert.deepEqual(await h.store.getHostUsage(host), { instances: 0, vcpus: 0, memoryMb: 0, diskGb: 0 });
  assert.equal((await migrations(h)).migrations[0].status, 'confirmed');
  await h.close();
});

test('claimMigration: a target without room changes nothing; idempotent; revertMigrationClaim undoes it once', async () => {
  const h = await twoHosts();
  const id = await h.boot(h.tokens.demo);
  const source = await hostOf(h, id);
  const target = other(source);
  const r = { vcpus: 1, memoryMb: 256, diskGb: 2 };
  assert.equal(await h.store.claimMigration(id, 'mig-1', target, r, { vcpus: 8, memoryMb: 100, diskGb: 100 }), false);
  assert.deepEqual(await h.store.getAllocation(id), { host: source, vcpus: 1, memoryMb: 128, diskGb: 1 }, 'rolled back: still the server\'s');
  assert.equal(await h.store.getAllocation('mig-1'), null);
  assert.deepEqual(await h.store.getHostUsage(target), { instances: 0, vcpus: 0, memoryMb: 0, diskGb: 0 });
  for (let i = 0; i < 2; i++) assert.equal(await h.store.claimMigration(id, 'mig-1', target, r, null), true);
  assert.equal((await h.store.getHostUsage(target)).memoryMb, 256, 'claimed once');
  assert.equal((await h.store.getAllocation('mig-1'))!.host, source);
  for (let i = 0; i < 2; i++) await h.store.revertMigrationClaim(id, 'mig-1');
  assert.deepEqual(await h.store.getAllocation(id), { host: source, vcpus: 1, memoryMb: 128, diskGb: 1 });
  assert.deepEqual(await h.store.getHostUsage(target), { instances: 0, vcpus: 0, memoryMb: 0, diskGb: 0 });
  assert.equal((await h.store.getHostUsage(source)).instances, 1);
  await h.close();
});
