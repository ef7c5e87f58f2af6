/** Server actions end to end through the API with the fake driver: transitions, instance actions, races. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHarness, type Harness } from '../support/harness.js';

const S = '/compute/v2.1/servers';
const status = async (h: Harness, id: string, token = h.tokens.demo) => (await h.req(token, 'GET', `${S}/${id}`)).json().server;
const act = (h: Harness, id: string, body: unknown, v?: string, token = h.tokens.demo) => h.req(token, 'POST', `${S}/${id}/action`, body, v);

test('create: BUILD then ACTIVE with host, addresses, instance action "create"', async () => {
  const h = await createHarness({}, 30);
  const r = await h.req(h.tokens.demo, 'POST', S, { server: { name: 'web', imageRef: '70a599e0-31e7-49b7-b260-868f441e862b', flavorRef: '1', metadata: { role: 'web' }, networks: [{ uuid: '3cb9bc59-5699-4588-a4b1-b87f96708bc6' }] } });
  assert.equal(r.statusCode, 202);
  const id = r.json().server.id;
  assert.ok(r.json().server.adminPass);
  assert.equal((await status(h, id)).status, 'BUILD');
  await h.idle();
  const s = await status(h, id);
  assert.equal(s.status, 'ACTIVE');
  assert.equal(s['OS-EXT-STS:power_state'], 1);
  assert.equal(s.addresses.private[0]['OS-EXT-IPS:type'], 'fixed');
  assert.deepEqual(s.metadata, { role: 'web' });
  assert.equal(s['OS-EXT-SRV-ATTR:host'], undefined, 'host hidden from non-admins');
  const acts = (await h.req(h.tokens.demo, 'GET', `${S}/${id}/os-instance-actions`)).json().instanceActions;
  assert.equal(acts.length, 1);
  assert.equal(acts[0].action, 'create');
  assert.equal(acts[0].request_id, r.headers['x-openstack-request-id']);
  // members see events from 2.51
  const one = (await h.req(h.tokens.demo, 'GET', `${S}/${id}/os-instance-actions/${acts[0].request_id}`, undefined, '2.51')).json().instanceAction;
  assert.equal(one.events[0].event, 'compute__do_build_and_run_instance');
  assert.equal(one.events[0].result, 'Success');
  await h.close();
});

test('min_count/max_count create several servers with one reservation id', async () => {
  const h = await createHarness();
  const r = await h.req(h.tokens.demo, 'POST', S, { server: { name: 'multi', imageRef: '70a599e0-31e7-49b7-b260-868f441e862b', flavorRef: '1', min_count: 2, max_count: 3, return_reservation_id: true } });
  assert.equal(r.statusCode, 202);
  const rid = r.json().reservation_id;
  await h.idle();
  const list = (await h.req(h.tokens.demo, 'GET', `${S}?reservation_id=${rid}`)).json().servers;
  assert.deepEqual(list.map((s: { name: string }) => s.name).sort(), ['multi-1', 'multi-2', 'multi-3']);
  await h.close();
});

test('power actions: stop/start/pause/unpause/suspend/resume/reboot with Nova statuses', async () => {
  const h = await createHarness();
  const id = await h.boot(h.tokens.demo);
  const steps: Array<[unknown, string, number]> = [
    [{ 'os-stop': null }, 'SHUTOFF', 4], [{ 'os-start': {} }, 'ACTIVE', 1], [{ pause: null }, 'PAUSED', 3],
    [{ unpause: null }, 'ACTIVE', 1], [{ suspend: null }, 'SUSPENDED', 7], [{ resume: null }, 'ACTIVE', 1],
    [{ reboot: { type: 'SOFT' } }, 'ACTIVE', 1], [{ reboot: { type: 'HARD' } }, 'ACTIVE', 1],
  ];
  for (const [body, st, power] of steps) {
    const r = await act(h, id, body);
    assert.equal(r.statusCode, 202, `${JSON.stringify(body)}: ${r.body}`);
    assert.equal(r.body, '');
    await h.idle();
    const s = await status(h, id);
    assert.equal(s.status, st, JSON.stringify(body));
    assert.equal(s['OS-EXT-STS:power_state'], power);
    assert.equal(s['OS-EXT-STS:task_state'], null);
  }
  const names = (await h.req(h.tokens.demo, 'GET', `${S}/${id}/os-instance-actions`)).json().instanceActions.map((a: { action: string }) => a.action);
  assert.deepEqual(names.sort(), ['create', 'pause', 'reboot', 'reboot', 'resume', 'start', 'stop', 'suspend', 'unpause'].sort());
  await h.close();
});

test('resize -> VERIFY_RESIZE -> confirm (204) / revert (202)', async () => {
  const h = await createHarness();
  const id = await h.boot(h.tokens.demo);
  assert.equal((await act(h, id, { resize: { flavorRef: '2' } })).statusCode, 202);
  await h.idle();
  let s = await status(h, id);
  assert.equal(s.status, 'VERIFY_RESIZE');
  assert.equal(s.flavor.id, '2');
  assert.equal((await act(h, id, { confirmResize: null })).statusCode, 204);
  await h.idle();
  s = await status(h, id);
  assert.equal(s.status, 'ACTIVE');
  assert.equal((await act(h, id, { resize: { flavorRef: '3' } })).statusCode, 202);
  await h.idle();
  assert.equal((await act(h, id, { revertResize: null })).statusCode, 202);
  await h.idle();
  s = await status(h, id);
  assert.equal(s.status, 'ACTIVE');
  assert.equal(s.flavor.id, '2');
  await h.close();
});

test('createImage: Location before 2.45, image_id from 2.45; image becomes active; the user\'s metadata wins', async () => {
  const h = await createHarness();
  const id = await h.boot(h.tokens.demo);
  let r = await act(h, id, { createImage: { name: 'snap1' } });
  assert.equal(r.statusCode, 202);
  const location = String(r.headers.location);
  assert.match(location, /\/image\/v2\/images\/[0-9a-f-]{36}$/);
  await h.idle();
  const image = async (imageId: string) => (await h.req(h.tokens.demo, 'GET', `/image/v2/images/${imageId}`)).json();
  assert.equal((await image(location.split('/').pop()!)).image_type, 'snapshot');
  // Nova: the metadata sent takes precedence over image_type and the other properties it sets
  r = await act(h, id, { createImage: { name: 'snap2', metadata: { k: 'v', image_type: 'backup' } } }, '2.45');
  await h.idle();
  const img = await image(r.json().image_id);
  assert.equal(img.status, 'active');
  assert.equal(img.k, 'v');
  assert.equal(img.image_type, 'backup');
  assert.equal(img.instance_uuid, id);
  await h.close();
});

test('rebuild returns the server with adminPass; rename and description via PUT', async () => {
  const h = await createHarness();
  const id = await h.boot(h.tokens.demo);
  const r = await act(h, id, { rebuild: { imageRef: '70a599e0-31e7-49b7-b260-868f441e862b', name: 's1', adminPass: 'x', description: null } }, '2.90');
  assert.equal(r.statusCode, 202);
  assert.equal(r.json().server.adminPass, 'x');
  assert.equal(r.json().server.status, 'REBUILD');
  await h.idle();
  assert.equal((await status(h, id)).status, 'ACTIVE');
  const u = await h.req(h.tokens.demo, 'PUT', `${S}/${id}`, { server: { name: 's1new', description: 'hello' } }, '2.19');
  assert.equal(u.statusCode, 200);
  assert.equal(u.json().server.name, 's1new');
  assert.equal(u.json().server.description, 'hello');
  await h.close();
});

test('admin actions: resetState, migrate / live-migrate no valid host, evacuate refused while host up', async () => {
  const h = await createHarness();
  const id = await h.boot(h.tokens.demo);
  assert.equal((await act(h, id, { 'os-resetState': { state: 'error' } }, undefined, h.tokens.admin)).statusCode, 202);
  assert.equal((await status(h, id)).status, 'ERROR');
  assert.equal((await act(h, id, { 'os-resetState': { state: 'active' } }, undefined, h.tokens.admin)).statusCode, 202);
  let r = await act(h, id, { migrate: null }, undefined, h.tokens.admin);
  assert.equal(r.statusCode, 400);
  assert.match(r.json().badRequest.message, /^No valid host was found/);
  r = await act(h, id, { 'os-migrateLive': { host: null, block_migration: 'auto' } }, '2.30', h.tokens.admin);
  assert.match(r.json().badRequest.message, /^No valid host was found/);
  r = await act(h, id, { 'os-migrateLive': { host: null, block_migration: false, disk_over_commit: false } }, undefined, h.tokens.admin);
  assert.equal(r.statusCode, 400);
  r = await act(h, id, { evacuate: {} }, '2.14', h.tokens.admin);
  assert.equal(r.json().badRequest.message, 'Compute service of fake-host is still in use.');
  assert.equal((await status(h, id)).status, 'ACTIVE');
  await h.close();
});

test('50 concurrent conflicting actions on one server: exactly one wins, the rest 409', async () => {
  const h = await createHarness({}, 20);
  const id = await h.boot(h.tokens.demo);
  const bodies = [{ 'os-stop': null }, { pause: null }, { suspend: null }, { reboot: { type: 'SOFT' } }, { lock: null }];
  const results = await Promise.all(Array.from({ length: 50 }, (_, i) => act(h, id, bodies[i % 4])));
  const won = results.filter((r) => r.statusCode === 202);
  const lost = results.filter((r) => r.statusCode === 409);
  assert.equal(won.length, 1);
  assert.equal(lost.length, 49);
  for (const r of lost) assert.match(r.json().conflictingRequest.message, /^Cannot '\w+' instance .* while it is in task_state/);
  await h.idle();
  const acts = (await h.req(h.tokens.demo, 'GET', `${S}/${id}/os-instance-actions`)).json().instanceActions;
  assert.equal(acts.length, 2, 'create + the one winner');
  await h.close();
});

test('concurrency across servers: 50 clients, 10 servers, one winner per server, no lost update', async () => {
  const h = await createHarness({}, 10);
  const ids: string[] = [];
  for (let i = 0; i < 10; i++) ids.push(await h.boot(h.tokens.demo, `c${i}`));
  const results = await Promise.all(Array.from({ length: 50 }, (_, i) => act(h, ids[i % 10]!, i % 2 ? { 'os-stop': null } : { pause: null })));
  assert.equal(results.filter((r) => r.statusCode === 202).length, 10);
  await h.idle();
  for (const id of ids) {
    const s = await status(h, id);
    assert.ok(s.status === 'SHUTOFF' || s.status === 'PAUSED');
    const acts = (await h.req(h.tokens.demo, 'GET', `${S}/${id}/os-instance-actions`)).json().instanceActions;
    assert.equal(acts.length, 2);
    assert.equal(acts[0].action, s.status === 'SHUTOFF' ? 'stop' : 'pause');
  }
  await h.close();
});

test('driver failure: task cleared, fault recorded, event Error; spawn failure -> ERROR', async () => {
  const h = await createHarness();
  const id = await h.boot(h.tokens.demo);
  h.driver.failNext('pause', 'qemu said no');
  assert.equal((await act(h, id, { pause: null })).statusCode, 202);
  await h.idle();
  let s = await status(h, id);
  assert.equal(s.status, 'ACTIVE');
  assert.equal(s['OS-EXT-STS:task_state'], null);
  const acts = (await h.req(h.tokens.admin, 'GET', `${S}/${id}/os-instance-actions`)).json().instanceActions;
  const pause = (await h.req(h.tokens.admin, 'GET', `${S}/${id}/os-instance-actions/${acts[0].request_id}`)).json().instanceAction;
  assert.equal(pause.events[0].result, 'Error');
  assert.match(pause.events[0].traceback, /qemu said no/);
  h.driver.failNext('spawn', 'no disk');
  const id2 = await h.boot(h.tokens.demo, 'bad');
  s = await status(h, id2);
  assert.equal(s.status, 'ERROR');
  assert.equal(s.fault.message, 'no disk');
  await h.close();
});

test('delete: immediate without reclaim interval; soft delete, restore, forceDelete and reclaim with one', async () => {
  let h = await createHarness();
  let id = await h.boot(h.tokens.demo);
  assert.equal((await h.req(h.tokens.demo, 'DELETE', `${S}/${id}`)).statusCode, 204);
  await h.idle();
  assert.equal((await h.req(h.tokens.demo, 'GET', `${S}/${id}`)).statusCode, 404);
  const del = (await h.req(h.tokens.admin, 'GET', `${S}/detail?all_tenants=1&deleted=true`)).json().servers;
  assert.equal(del[0].status, 'DELETED');
  await h.close();

  h = await createHarness({ reclaimIntervalSeconds: 3600 });
  id = await h.boot(h.tokens.demo);
  assert.equal((await h.req(h.tokens.demo, 'DELETE', `${S}/${id}`)).statusCode, 204);
  await h.idle();
  let s = await status(h, id);
  assert.equal(s.status, 'SOFT_DELETED');
  assert.equal(s['OS-EXT-STS:power_state'], 4);
  assert.equal((await act(h, id, { restore: null })).statusCode, 202);
  await h.idle();
  assert.equal((await status(h, id)).status, 'ACTIVE');
  assert.equal((await act(h, id, { restore: null })).statusCode, 409);
  await h.req(h.tokens.demo, 'DELETE', `${S}/${id}`);
  await h.idle();
  assert.equal((await act(h, id, { forceDelete: null })).statusCode, 202);
  await h.idle();
  assert.equal((await h.req(h.tokens.demo, 'GET', `${S}/${id}`)).statusCode, 404);
  // periodic reclaim: only servers older than the interval
  const id2 = await h.boot(h.tokens.demo, 's2');
  await h.req(h.tokens.demo, 'DELETE', `${S}/${id2}`);
  await h.idle();
  assert.equal(await h.app.novalet.compute.servers.reclaim(), 0);
  assert.equal(await h.app.novalet.compute.servers.reclaim(Date.now() + 3601_000), 1);
  await h.idle();
  assert.equal((await h.req(h.tokens.demo, 'GET', `${S}/${id2}`)).statusCode, 404);
  s = (await h.req(h.tokens.admin, 'GET', `${S}/detail?all_tenants=1&deleted=true`)).json().servers;
  assert.equal(s.length, 2);
  await h.close();
});

test('delete wins over a running task; its completion does not resurrect the server', async () => {
  const h = await createHarness({}, 40);
  const id = await h.boot(h.tokens.demo);
  assert.equal((await act(h, id, { 'os-stop': null })).statusCode, 202);
  assert.equal((await h.req(h.tokens.demo, 'DELETE', `${S}/${id}`)).statusCode, 204);
  await h.idle();
  assert.equal((await h.req(h.tokens.demo, 'GET', `${S}/${id}`)).statusCode, 404);
  await h.close();
});

test('metadata and tags', async () => {
  const h = await createHarness();
  const id = await h.boot(h.tokens.demo);
  let r = await h.req(h.tokens.demo, 'POST', `${S}/${id}/metadata`, { metadata: { a: '1', b: '2' } });
  assert.deepEqual(r.json().metadata, { a: '1', b: '2' });
  r = await h.req(h.tokens.demo, 'PUT', `${S}/${id}/metadata`, { metadata: { c: '3' } });
  assert.deepEqual(r.json().metadata, { c: '3' });
  r = await h.req(h.tokens.demo, 'PUT', `${S}/${id}/metadata/d`, { meta: { d: '4' } });
  assert.deepEqual(r.json().meta, { d: '4' });
  assert.equal((await h.req(h.tokens.demo, 'DELETE', `${S}/${id}/metadata/c`)).statusCode, 204);
  assert.equal((await h.req(h.tokens.demo, 'GET', `${S}/${id}/metadata/c`)).statusCode, 404);
  assert.equal((await h.req(h.tokens.demo, 'PUT', `${S}/${id}/tags/blue`, undefined, '2.26')).statusCode, 201);
  r = await h.req(h.tokens.demo, 'PUT', `${S}/${id}/tags`, { tags: ['red', 'green'] }, '2.26');
  assert.deepEqual(r.json().tags.sort(), ['green', 'red']);
  assert.equal((await h.req(h.tokens.demo, 'GET', `${S}/${id}/tags/red`, undefined, '2.26')).statusCode, 204);
  assert.deepEqual((await h.req(h.tokens.demo, 'GET', `${S}/${id}`, undefined, '2.26')).json().server.tags.sort(), ['green', 'red']);
  r = await h.req(h.tokens.demo, 'POST', S, { server: { name: 't', imageRef: '70a599e0-31e7-49b7-b260-868f441e862b', flavorRef: '1', networks: 'none', tags: ['x'] } }, '2.52');
  assert.equal(r.statusCode, 202);
  await h.close();
});

test('controller restart: build and power tasks re-driven under their request id, delete re-driven, others cleared', async () => {
  const h = await createHarness({}, 5);
  const a = await h.boot(h.tokens.demo, 'a');
  const b = await h.boot(h.tokens.demo, 'b');
  const c = await h.boot(h.tokens.demo, 'c');
  const d = await h.boot(h.tokens.demo, 'd');
  const e = await h.boot(h.tokens.demo, 'e');
  // simulate a crash mid-task: task states and open actions as a dead process would have left them
  const openAction = async (id: string, name: string, requestId: string) => h.store.createInstanceAction({
    serverId: id, action: name, requestId, userId: h.ids.demoUser, projectId: h.ids.demoProject, startTime: new Date().toISOString(), message: null });
  await h.store.updateServer(a, { vmState: 'building', taskState: 'scheduling' });
  await openAction(a, 'create', 'req-build-a');
  await h.store.updateServer(b, { taskState: 'deleting' });
  await h.store.updateServer(c, { taskState: 'powering-off' });
  await openAction(c, 'stop', 'req-stop-c');
  await h.store.updateServer(d, { taskState: 'resize_prep' });
  await h.store.updateServer(e, { vmState: 'building', taskState: 'scheduling' });
  await h.store.failOpenActions(e, new Date().toISOString(), 'x');
  h.driver.calls.length = 0;
  const rep = await h.app.novalet.compute.recover();
  assert.deepEqual(rep.redriven.sort(), [a, c].sort());
  assert.deepEqual(rep.redrivenDeletes, [b]);
  assert.deepEqual(rep.cleared, [d]);
  assert.deepEqual(rep.errored, [e]);
  await h.idle();
  // the driver saw the original request ids again (the agent dedupes on them)
  assert.deepEqual(h.driver.calls.filter((x) => x.serverId === a).map((x) => [x.op, x.requestId]), [['spawn', 'req-build-a']]);
  assert.deepEqual(h.driver.calls.filter((x) => x.serverId === c).map((x) => [x.op, x.requestId]), [['stop', 'req-stop-c']]);
  assert.equal((await status(h, a)).status, 'ACTIVE');
  assert.equal((await status(h, c)).status, 'SHUTOFF');
  assert.equal((await h.req(h.tokens.demo, 'GET', `${S}/${b}`)).statusCode, 404);
  assert.equal((await status(h, d))['OS-EXT-STS:task_state'], null);
  assert.equal((await status(h, e)).status, 'ERROR');
  const actions = (await h.req(h.tokens.demo, 'GET', `${S}/${c}/os-instance-actions`)).json().instanceActions;
  assert.ok(actions.some((x: { request_id: string; message: string | null }) => x.request_id === 'req-stop-c' && x.message === null), 'the re-driven action finished without error');
  assert.equal((await act(h, d, { 'os-stop': null })).statusCode, 202);
  await h.close();
});

test('createImage: bytes a driver leaves at images.filePath(id) are adopted (size, checksum) and downloadable', async () => {
  const h = await createHarness();
  const { writeFile } = await import('node:fs/promises');
  const { mkdirSync } = await import('node:fs');
  // a host that writes the snapshot's bytes where the transport told it to
  h.driver.on('snapshot', async (c) => {
    mkdirSync(h.cfg.imageDir, { recursive: true });
    await writeFile(h.app.novalet.images.filePath((c.params as { imageId: string }).imageId), Buffer.from('disk bytes'));
    return { sizeBytes: 10 };
  });
  const id = await h.boot(h.tokens.demo);
  const r = await act(h, id, { createImage: { name: 'snap' } }, '2.45');
  await h.idle();
  const img = (await h.req(h.tokens.demo, 'GET', `/image/v2/images/${r.json().image_id}`)).json();
  assert.equal(img.status, 'active');
  assert.equal(img.size, 10);
  const { createHash } = await import('node:crypto');
  assert.equal(img.checksum, createHash('md5').update('disk bytes').digest('hex'));
  const dl = await h.app.inject({ method: 'GET', url: `/image/v2/images/${img.id}/file`, headers: { 'x-auth-token': h.tokens.demo } });
  assert.equal(dl.body, 'disk bytes');
  await h.close();
});
