/**
 * Live migration across hosts (tasks/defs/live-migration.ts, compute/live-migration-control.ts) behind the real
 * engine, scheduler and claims, with two fake hosts: the server moves with its power, resources are held on both
 * hosts until the end, progress shows in the migration record while it runs, block_migration "auto" follows the
 * storage check, abort leaves the server on its source (record cancelled), force-complete, a second migration is a
 * 409, Nova's 400s and 403s, and a controller that dies while live_migrate runs is re-driven onto the same operation.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Harness } from '../support/harness.js';
import { controllerThatDies } from '../support/controller-crash.js';
import { TWO_HOSTS, twoHosts } from '../support/two-hosts.js';
import { HostCallError } from '../../src/controller/hosts/transport.js';

const S = '/compute/v2.1/servers';
const HOSTS = TWO_HOSTS;

const act = (h: Harness, id: string, body: unknown, version = '2.30', token = h.tokens.admin) => h.req(token, 'POST', `${S}/${id}/action`, body, version);
const live = (h: Harness, id: string, o: Record<string, unknown> = {}, version = '2.30', token = h.tokens.admin) =>
  act(h, id, { 'os-migrateLive': { host: null, block_migration: 'auto', ...o } }, version, token);
const show = async (h: Harness, id: string) => (await h.req(h.tokens.admin, 'GET', `${S}/${id}`, undefined, '2.47')).json().server;
const hostOf = async (h: Harness, id: string) => (await show(h, id))['OS-EXT-SRV-ATTR:host'] as string;
const other = (host: string) => HOSTS.find((x) => x !== host)!;
const records = async (h: Harness) => (await h.req(h.tokens.admin, 'GET', '/compute/v2.1/os-migrations', undefined, '2.80')).json().migrations;
const inProgress = async (h: Harness, id: string) => {
  const r = await h.req(h.tokens.admin, 'GET', `${S}/${id}/migrations`, undefined, '2.80');
  assert.equal(r.statusCode, 200, r.body);
  return r.json().migrations;
};
async function until(what: string, cond: () => boolean | Promise<boolean>): Promise<void> {
  for (let i = 0; i < 500; i++) { if (await cond()) return; await sleep(10); }
  throw new Error(`timed out waiting for ${what}`);
}
const running = (h: Harness) => until('live_migrate running', async () => h.driver.calls.some((c) => c.op === 'live_migrate'));

/** a booted server whose live migration runs (held by the fake hosts) with its record `running` */
async function heldLiveMigration(): Promise<{ h: Harness; id: string; source: string; target: string }> {
  const h = await twoHosts();
  const id = await h.boot(h.tokens.demo);
  const source = await hostOf(h, id);
  h.driver.holdLiveMigrations = true;
  assert.equal((await live(h, id)).statusCode, 202);
  await running(h);
  await until('running record', async () => (await records(h))[0]?.status === 'running');
  return { h, id, source, target: other(source) };
}

test('live migration: the server moves with its power, claims held on both hosts until the end, progress while it runs', async () => {
  const h = await twoHosts();
  const id = await h.boot(h.tokens.demo);
  const source = await hostOf(h, id);
  const target = other(source);
  h.driver.holdLiveMigrations = true;
  const r = await live(h, id);
  assert.equal(r.statusCode, 202, r.body);
  assert.equal(r.body, '');
  await running(h);
  let s = await show(h, id);
  assert.equal(s.status, 'MIGRATING');
  assert.equal(s['OS-EXT-STS:task_state'], 'migrating');
  assert.equal(s['OS-EXT-SRV-ATTR:host'], source, 'on its source until it arrives');

  // a second one while the first runs: the task_state swap refuses it
  const second = await live(h, id);
  assert.equal(second.statusCode, 409, second.body);
  assert.match(second.json().conflictingRequest.message, /task_state migrating/);

  // held on both hosts: the server's claim on the target, the migration's on the source
  const [m0] = await records(h);
  assert.equal(m0.migration_type, 'live-migration');
  assert.equal(m0.status, 'running');
  assert.equal(m0.dest_compute, target);
  assert.equal(m0.dest_host, target === 'host-b' ? '127.0.0.2' : '127.0.0.1');
  assert.equal((await h.store.getAllocation(id))!.host, target);
  assert.equal((await h.store.getAllocation(m0.uuid))!.host, source);
  assert.equal((await h.store.getHostUsage(source)).memoryMb, 128);
  assert.equal((await h.store.getHostUsage(target)).memoryMb, 128);

  // the task records the source monitor's readings while it runs
  await until('progress recorded', async () => (await inProgress(h, id))[0]?.memory_remaining_bytes !== null);
  const [p] = await inProgress(h, id);
  assert.equal(p.status, 'running');
  assert.equal(p.memory_total_bytes, 128 << 20);
  assert.equal(p.memory_remaining_bytes, 64 << 20);
  assert.equal(p.disk_total_bytes, 0);
  const one = await h.req(h.tokens.admin, 'GET', `${S}/${id}/migrations/${p.id}`, undefined, '2.80');
  assert.equal(one.statusCode, 200, one.body);
  assert.equal(one.json().migration.memory_processed_bytes, 64 << 20);

  h.driver.completeLiveMigration(id);
  await h.idle();
  s = await show(h, id);
  assert.equal(s.status, 'ACTIVE');
  assert.equal(s['OS-EXT-STS:task_state'], null);
  assert.equal(s['OS-EXT-STS:power_state'], 1);
  assert.equal(s['OS-EXT-SRV-ATTR:host'], target);
  assert.equal(h.driver.guests.get(id)?.host, target);
  const [m] = await records(h);
  assert.equal(m.status, 'completed');
  assert.deepEqual(await inProgress(h, id), [], 'no longer in progress');
  assert.equal(await h.store.getAllocation(m.uuid), null, 'the source claim is released');
  assert.equal((await h.store.getAllocation(id))!.host, target);
  assert.equal((await h.store.getHostUsage(source)).memoryMb, 0);

  // the host calls, in the agent's order, on the right hosts; block migration since storage is not shared
  const calls = h.driver.calls.filter((c) => c.serverId === id && c.op.startsWith('live_migrate'));
  assert.deepEqual(calls.map((c) => [c.op, c.host]), [['live_migrate_prepare', target], ['live_migrate', source], ['live_migrate_finish', target]]);
  assert.equal(new Set(calls.map((c) => c.tag)).size, 3, 'a distinct tag per call');
  const acts = (await h.req(h.tokens.admin, 'GET', `${S}/${id}/os-instance-actions`)).json().instanceActions;
  assert.equal(acts[0].action, 'live-migration');
  await h.close();
});

test('block_migration auto follows the storage check; false without shared storage and true with it fail as Nova', async () => {
  const h = await twoHosts();
  const id = await h.boot(h.tokens.demo);
  const source = await hostOf(h, id);
  const prepares: boolean[] = [];
  h.driver.on('live_migrate_prepare', async (c) => {
    prepares.push((c.params as { blockMigration: boolean }).blockMigration);
    return { destUri: `qemu+tls://${c.host}/system`, paths: { instances: '/i', images: '/m' }, sharedInstancePath: h.driver.sharedStorage };
  });

  // no shared storage, block_migration false: the migration errors, the server stays where and as it was
  assert.equal((await live(h, id, { block_migration: false })).statusCode, 202);
  await h.idle();
  const s = await show(h, id);
  assert.equal(s.status, 'ACTIVE');
  assert.equal(s['OS-EXT-SRV-ATTR:host'], source);
  let [m] = await records(h);
  assert.equal(m.status, 'error');
  assert.equal((await h.store.getAllocation(id))!.host, source, 'the target claim was given back');
  assert.equal(await h.store.getAllocation(m.uuid), null);
  const ev = await h.req(h.tokens.admin, 'GET', `${S}/${id}/os-instance-actions/${(await h.req(h.tokens.admin, 'GET', `${S}/${id}/os-instance-actions`)).json().instanceActions[0].request_id}`, undefined, '2.51');
  const event = ev.json().instanceAction.events[0];
  assert.equal(event.result, 'Error');
  assert.match(event.traceback, /is not on shared storage: Shared storage live-migration requires either shared storage or boot-from-volume with no local disks\./);
  assert.deepEqual(prepares, [], 'nothing was prepared');

  // shared storage: block_migration true is refused, "auto" migrates without copying disks
  h.driver.sharedStorage = true;
  assert.equal((await live(h, id, { block_migration: true })).statusCode, 202);
  await h.idle();
  [m] = await records(h);
  assert.equal(m.status, 'error');
  assert.equal(await hostOf(h, id), source);
  assert.equal((await live(h, id)).statusCode, 202);
  await h.idle();
  assert.equal(await hostOf(h, id), other(source));
  assert.deepEqual(prepares, [false]);
  [m] = await records(h);
  assert.equal(m.status, 'completed');

  // not shared, "auto": a block migration (with strings as Nova's booleans before 2.25)
  h.driver.sharedStorage = false;
  assert.equal((await live(h, id)).statusCode, 202);
  await h.idle();
  assert.equal(await hostOf(h, id), source);
  assert.equal((await live(h, id, { block_migration: 'True', disk_over_commit: 'false' }, '2.24')).statusCode, 202);
  await h.idle();
  assert.equal(await hostOf(h, id), other(source));
  assert.deepEqual(prepares, [false, true, true]);
  await h.close();
});

test('abort: the guest stays on its source, the record is cancelled, the target forgets it', async () => {
  const { h, id, source } = await heldLiveMigration();
  const [m] = await records(h);
  const url = `${S}/${id}/migrations/${m.id}`;
  assert.equal((await h.req(h.tokens.admin, 'DELETE', url, undefined, '2.23')).statusCode, 404, 'abort is 2.24+');
  assert.equal((await h.req(h.tokens.demo, 'DELETE', url, undefined, '2.24')).statusCode, 403, 'admin only');
  const unknown = await h.req(h.tokens.admin, 'DELETE', `${S}/${id}/migrations/99999`, undefined, '2.24');
  assert.equal(unknown.statusCode, 404, unknown.body);
  assert.match(unknown.json().itemNotFound.message, /Migration 99999 not found for instance/);
  const r = await h.req(h.tokens.admin, 'DELETE', url, undefined, '2.24');
  assert.equal(r.statusCode, 202, r.body);
  await h.idle();
  const s = await show(h, id);
  assert.equal(s.status, 'ACTIVE');
  assert.equal(s['OS-EXT-STS:task_state'], null);
  assert.equal(s['OS-EXT-SRV-ATTR:host'], source);
  assert.equal(h.driver.guests.get(id)?.host, source);
  assert.equal((await records(h))[0].status, 'cancelled');
  assert.equal((await h.store.getAllocation(id))!.host, source);
  assert.equal((await h.store.getHostUsage(other(source))).memoryMb, 0, 'the target claim is given back');
  assert.ok(h.driver.calls.some((c) => c.op === 'live_migrate_rollback' && c.host === other(source)));
  assert.ok(!h.driver.calls.some((c) => c.op === 'live_migrate_finish'));
  const acts = (await h.req(h.tokens.admin, 'GET', `${S}/${id}/os-instance-actions`)).json().instanceActions.map((a: { action: string }) => a.action);
  assert.ok(acts.includes('live_migration_cancel'), acts.join());
  // nothing runs any more: Nova's 409 (task_state), then a record that is not running is a 400 (task_state aside)
  const again = await h.req(h.tokens.admin, 'DELETE', url, undefined, '2.24');
  assert.equal(again.statusCode, 409, again.body);
  await h.close();
});

test('delete during a live migration: the migration is aborted, nothing stays on either host, both claims go', async () => {
  const { h, id, source, target } = await heldLiveMigration();
  assert.equal((await h.req(h.tokens.demo, 'DELETE', `${S}/${id}`)).statusCode, 204);
  await h.idle();
  assert.equal((await h.req(h.tokens.demo, 'GET', `${S}/${id}`)).statusCode, 404);
  assert.equal(h.driver.guestOn(source, id), undefined, 'destroyed on the source');
  assert.equal(h.driver.guestOn(target, id), undefined, 'nothing left on the target');
  assert.ok(h.driver.calls.some((c) => c.op === 'destroy' && c.host === target && c.tag === 'live-migration-target'));
  assert.equal((await records(h))[0].status, 'cancelled');
  for (const host of HOSTS) assert.equal((await h.store.getHostUsage(host)).memoryMb, 0, `no claim left on ${host}`);
  await h.close();
});

test('delete during a live migration that cannot be aborted (post-copy) and arrives: the guest on the target is destroyed', async () => {
  const { h, id, source, target } = await heldLiveMigration();
  h.driver.liveMigrationAction = async () => { throw new HostCallError('invalid_state', 'the migration is in post-copy: it cannot be aborted'); };
  assert.equal((await h.req(h.tokens.demo, 'DELETE', `${S}/${id}`)).statusCode, 204);
  await sleep(50);
  h.driver.completeLiveMigration(id);
  await h.idle();
  assert.equal(h.driver.guestOn(target, id), undefined, 'the guest that arrived is destroyed');
  assert.equal(h.driver.guestOn(source, id), undefined);
  assert.ok(!h.driver.calls.some((c) => c.op === 'live_migrate_finish'), 'the cancelled task never finished it');
  for (const host of HOSTS) assert.equal((await h.store.getHostUsage(host)).memoryMb, 0, `no claim left on ${host}`);
  await h.close();
});

test('abort of a queued migration (2.65) stops it before it reaches the source host', async () => {
  const h = await twoHosts();
  const id = await h.boot(h.tokens.demo);
  const source = await hostOf(h, id);
  // the prepare hangs until released: the record is 'preparing'
  let release!: () => void;
  const gate = new Promise<void>((r) => { release = r; });
  h.driver.on('live_migrate_prepare', async (c) => { await gate; return { destUri: `qemu+tls://${c.host}/system`, paths: { instances: '/i', images: '/m' }, sharedInstancePath: false }; });
  assert.equal((await live(h, id)).statusCode, 202);
  await until('preparing', async () => (await records(h))[0]?.status === 'preparing');
  const [m] = await records(h);
  const old = await h.req(h.tokens.admin, 'DELETE', `${S}/${id}/migrations/${m.id}`, undefined, '2.64');
  assert.equal(old.statusCode, 400, old.body);
  assert.match(old.json().badRequest.message, /is preparing\. Cannot abort live migration while the migration is in this state\./);
  assert.equal((await h.req(h.tokens.admin, 'DELETE', `${S}/${id}/migrations/${m.id}`, undefined, '2.65')).statusCode, 202);
  release();
  await h.idle();
  assert.equal(await hostOf(h, id), source);
  assert.equal((await records(h))[0].status, 'cancelled');
  assert.ok(!h.driver.calls.some((c) => c.op === 'live_migrate'), 'the source never started it');
  assert.ok(h.driver.calls.some((c) => c.op === 'live_migrate_rollback'));
  assert.equal((await show(h, id)).status, 'ACTIVE');
  await h.close();
});

test('force-complete: the held migration completes; 409 when nothing migrates, 400 for a bad body', async () => {
  const h = await twoHosts();
  const id = await h.boot(h.tokens.demo);
  const source = await hostOf(h, id);
  const fc = (mid: number | string, version = '2.22', body: unknown = { force_complete: null }, token = h.tokens.admin) =>
    h.req(token, 'POST', `${S}/${id}/migrations/${mid}/action`, body, version);
  assert.equal((await fc(1)).statusCode, 409, 'not migrating');
  h.driver.holdLiveMigrations = true;
  assert.equal((await live(h, id)).statusCode, 202);
  await running(h);
  await until('running record', async () => (await records(h))[0]?.status === 'running');
  const [m] = await records(h);
  assert.equal((await fc(m.id, '2.21')).statusCode, 404, 'force-complete is 2.22+');
  assert.equal((await fc(m.id, '2.22', { force_complete: 1 })).statusCode, 400);
  assert.equal((await fc(m.id, '2.22', undefined, h.tokens.demo)).statusCode, 403);
  const missing = await fc(424242);
  assert.equal(missing.statusCode, 400, missing.body);
  const r = await fc(m.id);
  assert.equal(r.statusCode, 202, r.body);
  await h.idle();
  assert.equal(await hostOf(h, id), other(source));
  assert.equal((await records(h))[0].status, 'completed');
  const acts = (await h.req(h.tokens.admin, 'GET', `${S}/${id}/os-instance-actions`)).json().instanceActions.map((a: { action: string }) => a.action);
  assert.ok(acts.includes('live_migration_force_complete'), acts.join());
  await h.close();
});

test('a paused server live-migrates and arrives paused', async () => {
  const h = await twoHosts();
  const id = await h.boot(h.tokens.demo);
  const source = await hostOf(h, id);
  assert.equal((await act(h, id, { pause: null }, '2.1', h.tokens.demo)).statusCode, 202);
  await h.idle();
  assert.equal((await live(h, id, { host: other(source) })).statusCode, 202);
  await h.idle();
  const s = await show(h, id);
  assert.equal(s.status, 'PAUSED');
  assert.equal(s['OS-EXT-STS:power_state'], 3);
  assert.equal(s['OS-EXT-SRV-ATTR:host'], other(source));
  await h.close();
});

test('os-migrateLive: Nova\'s 400s and 403s, and force takes a host the scheduler would refuse', async () => {
  const h = await twoHosts();
  const id = await h.boot(h.tokens.demo);
  const source = await hostOf(h, id);
  const bad = async (o: Record<string, unknown>, version: string, re: RegExp) => {
    const r = await live(h, id, o, version);
    assert.equal(r.statusCode, 400, `${JSON.stringify(o)} ${version}: ${r.body}`);
    assert.match(r.json().badRequest.message, re);
  };
  await bad({ host: 'nowhere' }, '2.30', /Compute host nowhere could not be found\./);
  await bad({ host: source }, '2.30', new RegExp(`Unable to migrate instance \\(${id}\\) to current host \\(${source}\\)\\.`));
  await bad({}, '2.24', /'auto' is not of type 'boolean'/);
  await bad({ force: true }, '2.29', /'force' was unexpected/);
  await bad({ force: true }, '2.68', /'force' was unexpected/);
  await bad({ disk_over_commit: false }, '2.25', /'disk_over_commit' was unexpected/);
  await bad({ block_migration: 'maybe' }, '2.30', /block_migration/);
  assert.equal((await live(h, id, {}, '2.30', h.tokens.demo)).statusCode, 403);
  assert.equal((await h.store.listMigrations({})).length, 0, 'nothing started');

  // the target is full: the scheduler refuses it, force (2.30) takes it anyway
  await h.app.novalet.compute.hosts.heartbeat(other(source), { vcpus: 8, memoryMb: 64, diskGb: 100, hostIp: '127.0.0.9' });
  await h.app.novalet.compute.placement.refresh();
  const r = await live(h, id, { host: other(source) });
  assert.equal(r.statusCode, 400, r.body);
  assert.match(r.json().badRequest.message, /No valid host was found/);
  assert.equal((await live(h, id, { host: other(source), force: true })).statusCode, 202);
  await h.idle();
  assert.equal(await hostOf(h, id), other(source));
  await h.close();
});

test('a controller that dies while live_migrate runs: another re-drives the step onto the same operation', async () => {
  // controller A hangs once its live_migrate call returns (it never records the step's end)
  const crash = await controllerThatDies('live_migrate', 'migrate', 'after');
  const { a } = crash;
  const id = await a.boot(a.tokens.demo);
  const source = await hostOf(a, id);
  a.driver.holdLiveMigrations = true;
  assert.equal((await live(a, id)).statusCode, 202);
  await running(a);

  // controller B, same database and hosts; A never renews its lease (it is "dead") while the migration runs
  const b = await crash.takeOver();
  await until('re-driven call', () => a.driver.calls.filter((c) => c.op === 'live_migrate').length === 2);
  assert.equal((await show(b, id)).status, 'MIGRATING', 'the re-driven call waits for the running migration');
  a.driver.completeLiveMigration(id);
  await b.idle();
  const s = await show(b, id);
  assert.equal(s.status, 'ACTIVE');
  assert.equal(s['OS-EXT-SRV-ATTR:host'], other(source));
  const calls = a.driver.calls.filter((c) => c.op === 'live_migrate');
  assert.equal(calls[0]!.requestId, calls[1]!.requestId, 'the same request id');
  assert.equal(calls[0]!.tag, calls[1]!.tag);
  assert.equal(a.driver.calls.filter((c) => c.op === 'live_migrate_prepare').length, 1, 'steps before the recorded one are not run again');
  assert.equal(a.driver.calls.filter((c) => c.op === 'live_migrate_finish').length, 1);
  const [m] = await b.store.listMigrations({});
  assert.equal(m!.status, 'completed');
  assert.equal((await b.store.listMigrations({})).length, 1, 'one record');
  assert.equal(await b.store.getAllocation(m!.uuid), null);
  assert.equal((await b.store.listServerTasks(id)).length, 0);
  await crash.close();
});

test('live_migrate with an unknown outcome: the source\'s monitor decides (arrived: completed; not: rolled back)', async () => {
  const { HostCallError } = await import('../../src/controller/hosts/transport.js');
  const h = await twoHosts();
  const id = await h.boot(h.tokens.demo);
  const source = await hostOf(h, id);
  // the migration happens, then the wait for its answer gives up
  const fake = h.driver as unknown as { runLiveMigration(c: unknown): Promise<unknown> };
  h.driver.on('live_migrate', async (c) => { await fake.runLiveMigration(c); throw new HostCallError('unavailable', 'agent unreachable', true, false); });
  assert.equal((await live(h, id)).statusCode, 202);
  await h.idle();
  assert.equal(await hostOf(h, id), other(source));
  assert.equal((await records(h))[0].status, 'completed');
  assert.ok(!h.driver.calls.some((c) => c.op === 'live_migrate_rollback'));

  // nothing happened before the wait gave up: the last reading is the earlier (succeeded) migration of another request
  h.driver.on('live_migrate', async () => { throw new HostCallError('unavailable', 'agent unreachable', true, false); });
  assert.equal((await live(h, id)).statusCode, 202);
  await h.idle();
  assert.equal(await hostOf(h, id), other(source));
  assert.equal((await records(h))[0].status, 'error');
  assert.ok(h.driver.calls.some((c) => c.op === 'live_migrate_rollback'));
  await h.close();
});

test('the controller\'s liveMigration config is the policy every live_migrate call carries', async () => {
  const h = await twoHosts({ liveMigration: { bandwidthMiBs: 8, permitPostCopy: true, maxDowntimeMs: 300 } });
  const id = await h.boot(h.tokens.demo);
  const sent: Array<Record<string, unknown>> = [];
  const fake = h.driver as unknown as { runLiveMigration(c: unknown): Promise<Record<string, unknown>> };
  h.driver.on('live_migrate', async (c) => { sent.push(c.params as Record<string, unknown>); return fake.runLiveMigration(c); });
  assert.equal((await live(h, id)).statusCode, 202);
  await h.idle();
  assert.equal(sent.length, 1);
  assert.equal(sent[0]!.bandwidthMiBs, 8);
  assert.equal(sent[0]!.permitPostCopy, true);
  assert.equal(sent[0]!.maxDowntimeMs, 300);
  assert.match(String(sent[0]!.destUri), /^qemu\+tls:\/\//);
  assert.equal(sent[0]!.blockMigration, true);
  await h.close();
});
