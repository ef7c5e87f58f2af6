/**
 * createBackup (rotation) and shelve / shelveOffload / unshelve through the API with fake hosts behind the real
 * task engine, scheduler and claims: states, claims, images, 409s, microversion rules, Nova's response schemas.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { TSchema } from '@sinclair/typebox';
import { createHarness, type Harness, type Response } from '../support/harness.js';
import { bodies, violations } from '../support/nova-response-schemas.js';

const S = '/compute/v2.1/servers';
const show = async (h: Harness, id: string, token = h.tokens.admin) => (await h.req(token, 'GET', `${S}/${id}`, undefined, 'latest')).json().server;
const act = (h: Harness, id: string, body: unknown, v?: string, token = h.tokens.demo) => h.req(token, 'POST', `${S}/${id}/action`, body, v);
const image = async (h: Harness, imageId: string) => h.req(h.tokens.admin, 'GET', `/image/v2/images/${imageId}`);
const actions = async (h: Harness, id: string) => (await h.req(h.tokens.demo, 'GET', `${S}/${id}/os-instance-actions`)).json().instanceActions as Array<{ action: string; request_id: string }>;

function conforms(r: Response, schema: TSchema, what: string): void {
  const bad = violations(schema, r.json());
  assert.deepEqual(bad, [], `${what} does not match Nova's schema:\n${bad.join('\n')}\n${r.body.slice(0, 2000)}`);
}

/** the server's backups of `type`, oldest first */
async function backups(h: Harness, id: string, type: string): Promise<Array<{ id: string; name: string }>> {
  const all = await h.store.listImages({ projectId: null, isAdmin: true });
  return all.filter((i) => i.properties.image_type === 'backup' && i.properties.instance_uuid === id && i.properties.backup_type === type)
    .sort((a, b) => a.createdAt.localeCompare(b.createdAt)).map((i) => ({ id: i.id, name: i.name ?? '' }));
}

test('createBackup: three backups with rotation 2 leave the newest two; another type is untouched; rotation 0 deletes all', async () => {
  const h = await createHarness();
  const id = await h.boot(h.tokens.demo);
  const other = await act(h, id, { createBackup: { name: 'weekly-1', backup_type: 'weekly', rotation: 5 } }, '2.45');
  assert.equal(other.statusCode, 202);
  await h.idle();
  const made: string[] = [];
  for (const n of [1, 2, 3]) {
    const r = await act(h, id, { createBackup: { name: `daily-${n}`, backup_type: 'daily', rotation: '2', metadata: { k: `v${n}` } } }, '2.45');
    assert.equal(r.statusCode, 202, r.body);
    conforms(r, bodies.createImage(), 'createBackup 2.45');
    made.push(r.json().image_id);
    await h.idle();
    await new Promise((res) => setTimeout(res, 5)); // distinct creation times, as backups taken apart are
  }
  assert.deepEqual((await backups(h, id, 'daily')).map((b) => b.name), ['daily-2', 'daily-3']);
  assert.equal((await image(h, made[0]!)).statusCode, 404, 'the oldest backup was deleted');
  const newest = (await image(h, made[2]!)).json();
  assert.equal(newest.status, 'active');
  assert.equal(newest.image_type, 'backup');
  assert.equal(newest.backup_type, 'daily');
  assert.equal(newest.instance_uuid, id);
  assert.equal(newest.k, 'v3');
  assert.equal((await backups(h, id, 'weekly')).length, 1, 'rotation keeps to its backup_type');
  const acts = await actions(h, id);
  assert.equal(acts.filter((a) => a.action === 'createBackup').length, 4);
  // before 2.45: 202 with a Location header (when rotation > 0) and no body
  const old = await act(h, id, { createBackup: { name: 'weekly-2', backup_type: 'weekly', rotation: 1 } });
  assert.equal(old.statusCode, 202);
  assert.equal(old.body, '');
  assert.match(String(old.headers.location), /\/compute\/v2\.1\/images\/[0-9a-f-]{36}$/);
  await h.idle();
  assert.deepEqual((await backups(h, id, 'weekly')).map((b) => b.name), ['weekly-2']);
  const zero = await act(h, id, { createBackup: { name: 'weekly-3', backup_type: 'weekly', rotation: 0 } });
  assert.equal(zero.headers.location, undefined, 'no Location with rotation 0');
  await h.idle();
  assert.deepEqual(await backups(h, id, 'weekly'), [], 'rotation 0 deletes every backup of the type, the new one too');
  assert.equal((await show(h, id)).status, 'ACTIVE');
  await h.close();
});

test('createBackup: validation as Nova, 404 for another project, 409 in a wrong state, nothing created', async () => {
  const h = await createHarness();
  const id = await h.boot(h.tokens.demo);
  const before = (await h.store.listImages({ projectId: null, isAdmin: true })).length;
  for (const body of [
    { name: 'b', backup_type: 'daily' },
    { name: 'b', rotation: 1 },
    { backup_type: 'daily', rotation: 1 },
    { name: 'b', backup_type: 'daily', rotation: -1 },
    { name: 'b', backup_type: 'daily', rotation: '1x' },
    { name: 'b', backup_type: 'daily', rotation: '' },
    { name: 'b', backup_type: 'daily', rotation: 1.5 },
    { name: '', backup_type: 'daily', rotation: 1 },
    { name: 'b', backup_type: 7, rotation: 1 },
    { name: 'b', backup_type: 'daily', rotation: 1, metadata: { '': 'x' } },
    { name: 'b', backup_type: 'daily', rotation: 1, extra: 1 },
  ]) {
    const r = await act(h, id, { createBackup: body });
    assert.equal(r.statusCode, 400, `${JSON.stringify(body)}: ${r.body}`);
    assert.equal(r.json().badRequest.code, 400);
  }
  assert.equal((await act(h, id, { createBackup: { name: 'b', backup_type: 'daily', rotation: 1 } }, undefined, h.tokens.other)).statusCode, 404);
  await h.req(h.tokens.admin, 'POST', `${S}/${id}/action`, { 'os-resetState': { state: 'error' } });
  const r = await act(h, id, { createBackup: { name: 'b', backup_type: 'daily', rotation: 1 } });
  assert.equal(r.statusCode, 409);
  assert.equal(r.json().conflictingRequest.message, `Cannot 'createBackup' instance ${id} while it is in vm_state error`);
  assert.equal((await h.store.listImages({ projectId: null, isAdmin: true })).length, before, 'no image left behind by a refused backup');
  await h.close();
});

test('shelve (shelved_offload_time 0): SHELVED_OFFLOADED, no host, claim released, the shelved image exists; instance action and events', async () => {
  const h = await createHarness();
  const id = await h.boot(h.tokens.demo, 'web');
  const addresses = (await show(h, id)).addresses;
  assert.ok(await h.store.getAllocation(id));
  const usage = await h.store.getHostUsage('fake-host');
  assert.equal(usage.instances, 1);
  const r = await act(h, id, { shelve: null });
  assert.equal(r.statusCode, 202);
  assert.equal(r.body, '');
  const during = await show(h, id);
  assert.ok(['shelving', 'shelving_image_pending_upload', 'shelving_image_uploading', 'shelving_offloading'].includes(during['OS-EXT-STS:task_state']), during['OS-EXT-STS:task_state']);
  await h.idle();
  const s = await show(h, id);
  assert.equal(s.status, 'SHELVED_OFFLOADED');
  assert.equal(s['OS-EXT-STS:vm_state'], 'shelved_offloaded');
  assert.equal(s['OS-EXT-STS:task_state'], null);
  assert.equal(s['OS-EXT-STS:power_state'], 4);
  assert.equal(s['OS-EXT-SRV-ATTR:host'], null);
  assert.equal(s['OS-EXT-SRV-ATTR:hypervisor_hostname'], null);
  assert.deepEqual(s.addresses, addresses, 'the server keeps its addresses');
  assert.equal(await h.store.getAllocation(id), null, 'claim released');
  assert.equal((await h.store.getHostUsage('fake-host')).instances, 0);
  assert.equal(h.driver.guests.has(id), false, 'the guest was destroyed on its host');
  const shelvedImageId = (await h.store.getServer(id))!.shelvedImageId!;
  const img = (await image(h, shelvedImageId)).json();
  assert.equal(img.name, 'web-shelved');
  assert.equal(img.status, 'active');
  assert.equal(img.image_type, 'snapshot');
  assert.equal(img.instance_uuid, id);
  // the guest was powered off before its disk was snapshotted, then destroyed
  assert.deepEqual(h.driver.calls.filter((c) => c.serverId === id).map((c) => c.op), ['spawn', 'stop', 'snapshot', 'destroy']);
  const acts = await actions(h, id);
  assert.deepEqual(acts.map((a) => a.action), ['shelve', 'create']);
  const one = (await h.req(h.tokens.admin, 'GET', `${S}/${id}/os-instance-actions/${acts[0]!.request_id}`)).json().instanceAction;
  assert.equal(one.events[0].event, 'compute_shelve_instance');
  assert.equal(one.events[0].result, 'Success');
  for (const v of ['2.1', '2.16', '2.75', '2.93']) {
    for (const [token, admin] of [[h.tokens.admin, true], [h.tokens.demo, false]] as const) {
      conforms(await h.req(token, 'GET', `${S}/${id}`, undefined, v), bodies.serverShow(v, admin), `SHELVED_OFFLOADED show ${v} admin=${admin}`);
    }
  }
  await h.close();
});

test('unshelve from SHELVED_OFFLOADED: scheduled anew (best host), spawned from the shelved image, image deleted -> ACTIVE', async () => {
  const h = await createHarness();
  const id = await h.boot(h.tokens.demo, 'web');
  const addresses = (await show(h, id)).addresses;
  await act(h, id, { shelve: null });
  await h.idle();
  const shelvedImageId = (await h.store.getServer(id))!.shelvedImageId!;
  // a second, larger host now reports in: the scheduler's most-free-RAM weigher prefers it
  await h.app.novalet.compute.hosts.heartbeat('fake-host-2', { vcpus: 8, memoryMb: 65536, diskGb: 100, hostIp: '127.0.0.2' });
  await h.app.novalet.compute.placement.refresh();
  let spawnedImage: string | undefined;
  h.driver.on('spawn', async (c) => {
    spawnedImage = (c.params as { spec: { image: { id: string } } }).spec.image.id;
    h.driver.guests.set(c.serverId, { host: c.host, power: 'running' });
    return { power: 'running' };
  });
  const r = await act(h, id, { unshelve: null });
  assert.equal(r.statusCode, 202);
  assert.equal((await show(h, id))['OS-EXT-STS:task_state'] !== null, true);
  await h.idle();
  const s = await show(h, id);
  assert.equal(s.status, 'ACTIVE');
  assert.equal(s['OS-EXT-STS:power_state'], 1);
  assert.equal(s['OS-EXT-SRV-ATTR:host'], 'fake-host-2');
  assert.equal(s['OS-EXT-SRV-ATTR:hypervisor_hostname'], 'fake-host-2');
  assert.deepEqual(s.addresses, addresses, 'it boots with the same addresses');
  assert.equal(s.image.id, '70a599e0-31e7-49b7-b260-868f441e862b', 'the server still shows the image it was created from');
  assert.equal(spawnedImage, shelvedImageId, 'spawned from the shelved snapshot');
  assert.equal((await h.store.getAllocation(id))?.host, 'fake-host-2', 'claimed on its new host');
  assert.equal((await image(h, shelvedImageId)).statusCode, 404, 'the shelved image is deleted after the unshelve');
  assert.equal((await h.store.getServer(id))!.shelvedImageId, null);
  assert.deepEqual((await actions(h, id)).map((a) => a.action), ['unshelve', 'shelve', 'create']);
  await h.close();
});

test('shelve with shelved_offload_time -1: SHELVED on its host; unshelve starts it there; shelveOffload is admin-only', async () => {
  const h = await createHarness({ shelvedOffloadTime: -1 });
  const id = await h.boot(h.tokens.demo);
  await act(h, id, { shelve: {} });
  await h.idle();
  let s = await show(h, id);
  assert.equal(s.status, 'SHELVED');
  assert.equal(s['OS-EXT-STS:power_state'], 4);
  assert.equal(s['OS-EXT-SRV-ATTR:host'], 'fake-host');
  assert.ok(await h.store.getAllocation(id), 'a SHELVED server keeps its claim');
  const imageId = (await h.store.getServer(id))!.shelvedImageId!;
  // unshelve from SHELVED starts the guest where it is and deletes the snapshot
  assert.equal((await act(h, id, { unshelve: null })).statusCode, 202);
  await h.idle();
  s = await show(h, id);
  assert.equal(s.status, 'ACTIVE');
  assert.equal(s['OS-EXT-SRV-ATTR:host'], 'fake-host');
  assert.equal((await image(h, imageId)).statusCode, 404);
  assert.equal(h.driver.calls.filter((c) => c.serverId === id).at(-1)!.op, 'start');
  // shelve again, offload by hand
  await act(h, id, { shelve: null });
  await h.idle();
  const denied = await act(h, id, { shelveOffload: null });
  assert.equal(denied.statusCode, 403);
  assert.equal((await act(h, id, { shelveOffload: null }, undefined, h.tokens.admin)).statusCode, 202);
  await h.idle();
  s = await show(h, id);
  assert.equal(s.status, 'SHELVED_OFFLOADED');
  assert.equal(s['OS-EXT-SRV-ATTR:host'], null);
  assert.equal(await h.store.getAllocation(id), null);
  assert.ok((await h.store.getServer(id))!.shelvedImageId, 'the image stays for the unshelve');
  assert.deepEqual((await actions(h, id)).map((a) => a.action).slice(0, 2), ['shelveOffload', 'shelve']);
  await h.close();
});

test('shelve / shelveOffload / unshelve refused with 409 in wrong states and on locked servers; nothing changes', async () => {
  const h = await createHarness();
  const id = await h.boot(h.tokens.demo);
  const msg = (r: Response) => r.json().conflictingRequest?.message as string;
  let r = await act(h, id, { unshelve: null });
  assert.equal(r.statusCode, 409);
  assert.equal(msg(r), `Cannot 'unshelve' instance ${id} while it is in vm_state active`);
  r = await act(h, id, { shelveOffload: null }, undefined, h.tokens.admin);
  assert.equal(r.statusCode, 409);
  assert.equal(msg(r), `Cannot 'shelveOffload' instance ${id} while it is in vm_state active`);
  await h.req(h.tokens.admin, 'POST', `${S}/${id}/action`, { 'os-resetState': { state: 'error' } });
  r = await act(h, id, { shelve: null });
  assert.equal(r.statusCode, 409);
  assert.equal(msg(r), `Cannot 'shelve' instance ${id} while it is in vm_state error`);
  await h.req(h.tokens.admin, 'POST', `${S}/${id}/action`, { 'os-resetState': { state: 'active' } });
  // a second shelve while the first runs: task_state
  assert.equal((await act(h, id, { shelve: null })).statusCode, 202);
  r = await act(h, id, { shelve: null });
  assert.equal(r.statusCode, 409);
  assert.match(msg(r), new RegExp(`^Cannot 'shelve' instance ${id} while it is in (task_state shelving|vm_state shelved)`));
  await h.idle();
  r = await act(h, id, { shelve: null });
  assert.equal(msg(r), `Cannot 'shelve' instance ${id} while it is in vm_state shelved_offloaded`);
  // locked: the owner is refused, an admin is not
  await act(h, id, { lock: null });
  r = await act(h, id, { unshelve: null });
  assert.equal(r.statusCode, 409);
  assert.equal(msg(r), `Instance ${id} is locked`);
  assert.equal((await show(h, id)).status, 'SHELVED_OFFLOADED');
  assert.equal((await act(h, id, { unshelve: null }, undefined, h.tokens.admin)).statusCode, 202);
  await h.idle();
  assert.equal((await show(h, id)).status, 'ACTIVE');
  // another project's server: 404
  assert.equal((await act(h, id, { shelve: null }, undefined, h.tokens.other)).statusCode, 404);
  // the images of refused shelves were not left behind: only the one used (and deleted) by the unshelve existed
  const left = (await h.store.listImages({ projectId: null, isAdmin: true })).filter((i) => i.properties.instance_uuid === id);
  assert.deepEqual(left, []);
  await h.close();
});

test('unshelve body by microversion: ignored before 2.77, availability_zone at 2.77, host (admin) at 2.91', async () => {
  const h = await createHarness({ shelvedOffloadTime: -1 });
  const id = await h.boot(h.tokens.demo);
  await act(h, id, { shelve: null });
  await h.idle();
  // SHELVED (not offloaded): a zone or host is refused with Nova's UnshelveInstanceInvalidState
  let r = await act(h, id, { unshelve: { availability_zone: 'nova' } }, '2.77');
  assert.equal(r.statusCode, 409);
  assert.equal(r.json().conflictingRequest.message, `Specifying an availability zone when unshelving server ${id} with status "shelved" is not supported. The server status must be SHELVED_OFFLOADED.`);
  await act(h, id, { shelveOffload: null }, undefined, h.tokens.admin);
  await h.idle();
  for (const [body, v] of [
    [{}, '2.77'], [{ availability_zone: null }, '2.77'], [{ host: 'fake-host' }, '2.77'], [{ availability_zone: 'nova', x: 1 }, '2.77'],
    [{ availability_zone: 1 }, '2.91'], [{ host: null }, '2.91'], [{ foo: 'x' }, '2.91'], ['x', '2.91'],
  ] as const) {
    r = await act(h, id, { unshelve: body }, v, h.tokens.admin);
    assert.equal(r.statusCode, 400, `${JSON.stringify(body)} at ${v}: ${r.body}`);
  }
  r = await act(h, id, { unshelve: { availability_zone: 'elsewhere' } }, '2.77');
  assert.equal(r.statusCode, 400);
  assert.equal(r.json().badRequest.message, 'The requested availability zone is not available');
  assert.equal((await act(h, id, { unshelve: { host: 'fake-host' } }, '2.91')).statusCode, 403, 'host is admin-only');
  r = await act(h, id, { unshelve: { host: 'nowhere' } }, '2.91', h.tokens.admin);
  assert.equal(r.statusCode, 400);
  assert.equal(r.json().badRequest.message, 'Compute host nowhere could not be found.');
  assert.equal((await show(h, id)).status, 'SHELVED_OFFLOADED', 'refused requests changed nothing');
  // before 2.77 the body is not looked at
  await h.app.novalet.compute.hosts.heartbeat('fake-host-2', { vcpus: 8, memoryMb: 65536, diskGb: 100, hostIp: '127.0.0.2' });
  await h.app.novalet.compute.placement.refresh();
  assert.equal((await act(h, id, { unshelve: { availability_zone: 'elsewhere', anything: 1 } }, '2.76')).statusCode, 202);
  await h.idle();
  assert.equal((await show(h, id)).status, 'ACTIVE');
  // 2.91: an admin's host wins over the scheduler's choice (fake-host-2 has more free RAM)
  await act(h, id, { shelve: null });
  await h.idle();
  await act(h, id, { shelveOffload: null }, undefined, h.tokens.admin);
  await h.idle();
  assert.equal((await act(h, id, { unshelve: { availability_zone: null, host: 'fake-host' } }, '2.91', h.tokens.admin)).statusCode, 202);
  await h.idle();
  const s = await show(h, id);
  assert.equal(s.status, 'ACTIVE');
  assert.equal(s['OS-EXT-SRV-ATTR:host'], 'fake-host');
  await h.close();
});

test('a failed unshelve spawn leaves SHELVED_OFFLOADED without a host or claim, the image kept for another try', async () => {
  const h = await createHarness();
  const id = await h.boot(h.tokens.demo);
  await act(h, id, { shelve: null });
  await h.idle();
  const imageId = (await h.store.getServer(id))!.shelvedImageId!;
  h.driver.failNext('spawn', 'no room on disk');
  await act(h, id, { unshelve: null });
  await h.idle();
  const s = await show(h, id);
  assert.equal(s.status, 'SHELVED_OFFLOADED');
  assert.equal(s['OS-EXT-STS:task_state'], null);
  assert.equal(s['OS-EXT-SRV-ATTR:host'], null);
  assert.equal(await h.store.getAllocation(id), null);
  assert.equal((await image(h, imageId)).json().status, 'active');
  await act(h, id, { unshelve: null });
  await h.idle();
  assert.equal((await show(h, id)).status, 'ACTIVE');
  await h.close();
});

test('a failed shelve snapshot leaves the server as it was (task cleared), its image removed', async () => {
  const h = await createHarness();
  const id = await h.boot(h.tokens.demo);
  h.driver.failNext('snapshot', 'disk busy');
  await act(h, id, { shelve: null });
  await h.idle();
  const s = await show(h, id);
  assert.equal(s['OS-EXT-STS:vm_state'], 'active');
  assert.equal(s['OS-EXT-STS:task_state'], null);
  assert.equal(s['OS-EXT-SRV-ATTR:host'], 'fake-host');
  assert.ok(await h.store.getAllocation(id));
  const left = (await h.store.listImages({ projectId: null, isAdmin: true })).filter((i) => i.properties.instance_uuid === id);
  assert.deepEqual(left, []);
  await h.close();
});

test('deleting a SHELVED_OFFLOADED server deletes its shelved image; shelved_offload_time > 0 offloads periodically', async () => {
  const h = await createHarness({ shelvedOffloadTime: 1 });
  const id = await h.boot(h.tokens.demo);
  await act(h, id, { shelve: null });
  await h.idle();
  assert.equal((await show(h, id)).status, 'SHELVED');
  assert.equal(await h.app.novalet.compute.shelving.offloadExpired(), 0, 'not yet');
  assert.equal(await h.app.novalet.compute.shelving.offloadExpired(Date.now() + 1500), 1);
  await h.idle();
  assert.equal((await show(h, id)).status, 'SHELVED_OFFLOADED');
  const imageId = (await h.store.getServer(id))!.shelvedImageId!;
  assert.equal((await h.req(h.tokens.demo, 'DELETE', `${S}/${id}`)).statusCode, 204);
  await h.idle();
  assert.equal((await h.req(h.tokens.demo, 'GET', `${S}/${id}`)).statusCode, 404);
  assert.equal((await image(h, imageId)).statusCode, 404);
  await h.close();
});
