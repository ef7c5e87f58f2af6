/**
 * The Block Storage API and os-volume_attachments on fake hosts, with the real `file` backend (qemu-img on a
 * temporary directory): Cinder's shapes and codes, project scoping, the status machine, quotas, snapshots,
 * attach/detach as server tasks, detach on delete with delete_on_termination, and a backend failure that leaves
 * the volume in error with nothing on disk.
 */
import test from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { createHarness, type Harness } from '../support/harness.js';
import { FileBackend } from '../../src/controller/volumes/backends/file.js';

async function setup(): Promise<{ h: Harness; dir: string; vreq: (token: string, method: string, path: string, payload?: unknown, version?: string) => Promise<any> }> {
  const dir = mkdtempSync(join(tmpdir(), 'novalet-vol-'));
  const h = await createHarness({ volumes: { dir } });
  const vreq = async (token: string, method: string, path: string, payload?: unknown, version?: string) => {
    const headers: Record<string, string> = { 'x-auth-token': token };
    if (version) headers['openstack-api-version'] = `volume ${version}`;
    return h.app.inject({ method: method as 'GET', url: `/volume/v3/${path}`, headers, ...(payload !== undefined ? { payload: payload as object } : {}) });
  };
  return { h, dir, vreq };
}

const idle = async (h: Harness) => { await h.idle(); await h.app.novalet.compute.volumes.idle(); await h.idle(); };

async function virtualSize(path: string): Promise<number> {
  return (JSON.parse((await execa('qemu-img', ['info', '--output=json', '-U', path])).stdout) as { 'virtual-size': number })['virtual-size'];
}

test('volumes: create, show, list, update, extend, delete; Cinder shapes, scoping and errors', async () => {
  const { h, dir, vreq } = await setup();
  const demo = h.ids.demoProject;
  try {
    let r = await h.app.inject({ method: 'GET', url: '/volume/' });
    assert.equal(r.statusCode, 300);
    assert.equal(r.json().versions[0].id, 'v3.0');
    // the project in the URL must be the token's
    r = await vreq(h.tokens.demo, 'GET', `${h.ids.otherProject}/volumes`);
    assert.equal(r.statusCode, 400);
    assert.deepEqual(Object.keys(r.json()), ['badRequest']);
    r = await vreq(h.tokens.demo, 'POST', `${demo}/volumes`, { volume: { size: 0 } });
    assert.equal(r.statusCode, 400, r.body);
    r = await vreq(h.tokens.demo, 'POST', `${demo}/volumes`, { nothing: {} });
    assert.equal(r.statusCode, 400);
    assert.match(r.json().badRequest.message, /Missing required element 'volume'/);
    r = await vreq(h.tokens.reader, 'POST', `${demo}/volumes`, { volume: { size: 1 } });
    assert.equal(r.statusCode, 403);

    r = await vreq(h.tokens.demo, 'POST', `${demo}/volumes`, { volume: { size: 1, name: 'v1', description: 'd' } });
    assert.equal(r.statusCode, 202, r.body);
    const v = r.json().volume;
    assert.equal(v.status, 'creating');
    assert.equal(v.size, 1);
    assert.equal(v.volume_type, '__DEFAULT__');
    assert.equal(v.bootable, 'false');
    assert.deepEqual(v.attachments, []);
    await idle(h);
    r = await vreq(h.tokens.demo, 'GET', `${demo}/volumes/${v.id}`);
    assert.equal(r.json().volume.status, 'available');
    assert.equal(await virtualSize(join(dir, `volume-${v.id}`)), 1024 ** 3);
    // another project's volume is not found
    r = await vreq(h.tokens.other, 'GET', `${h.ids.otherProject}/volumes/${v.id}`);
    assert.equal(r.statusCode, 404);
    assert.equal(r.json().itemNotFound.message, `Volume ${v.id} could not be found.`);
    assert.equal((await vreq(h.tokens.other, 'GET', `${h.ids.otherProject}/volumes/detail`)).json().volumes.length, 0);
    r = await vreq(h.tokens.demo, 'GET', `${demo}/volumes`);
    assert.deepEqual(Object.keys(r.json().volumes[0]).sort(), ['id', 'links', 'name']);
    assert.equal((await vreq(h.tokens.demo, 'GET', `${demo}/volumes/detail?name=v1`)).json().volumes.length, 1);
    assert.equal((await vreq(h.tokens.demo, 'GET', `${demo}/volumes/detail?status=error`)).json().volumes.length, 0);
    r = await vreq(h.tokens.demo, 'PUT', `${demo}/volumes/${v.id}`, { volume: { name: 'renamed' } });
    assert.equal(r.statusCode, 200);
    assert.equal(r.json().volume.name, 'renamed');

    // extend: only bigger, then the file grows
    r = await vreq(h.tokens.demo, 'POST', `${demo}/volumes/${v.id}/action`, { 'os-extend': { new_size: 1 } });
    assert.equal(r.statusCode, 400);
    r = await vreq(h.tokens.demo, 'POST', `${demo}/volumes/${v.id}/action`, { 'os-extend': { new_size: 2 } });
    assert.equal(r.statusCode, 202, r.body);
    await idle(h);
    assert.equal((await vreq(h.tokens.demo, 'GET', `${demo}/volumes/${v.id}`)).json().volume.size, 2);
    assert.equal(await virtualSize(join(dir, `volume-${v.id}`)), 2 * 1024 ** 3);

    // limits and quotas count it; a volume over the gigabytes quota is 413
    r = await vreq(h.tokens.demo, 'GET', `${demo}/limits`);
    assert.equal(r.json().limits.absolute.totalVolumesUsed, 1);
    assert.equal(r.json().limits.absolute.totalGigabytesUsed, 2);
    r = await vreq(h.tokens.demo, 'GET', `${demo}/os-quota-sets/${demo}?usage=True`);
    assert.deepEqual(r.json().quota_set.volumes, { limit: 10, in_use: 1, reserved: 0, allocated: 0 });
    assert.equal((await vreq(h.tokens.demo, 'PUT', `${demo}/os-quota-sets/${demo}`, { quota_set: { gigabytes: 3 } })).statusCode, 403);
    const admin = h.ids.adminProject;
    assert.equal((await vreq(h.tokens.admin, 'PUT', `${admin}/os-quota-sets/${demo}`, { quota_set: { gigabytes: 3 } })).statusCode, 200);
    r = await vreq(h.tokens.demo, 'POST', `${demo}/volumes`, { volume: { size: 2 } });
    assert.equal(r.statusCode, 413, r.body);
    assert.match(r.json().overLimit.message, /gigabytes quota/);

    // reset status is for admins
    assert.equal((await vreq(h.tokens.demo, 'POST', `${demo}/volumes/${v.id}/action`, { 'os-reset_status': { status: 'error' } })).statusCode, 403);
    r = await vreq(h.tokens.admin, 'POST', `${admin}/volumes/${v.id}/action`, { 'os-reset_status': { status: 'error' } });
    assert.equal(r.statusCode, 202, r.body);
    assert.equal((await vreq(h.tokens.demo, 'GET', `${demo}/volumes/${v.id}`)).json().volume.status, 'error');
    assert.equal((await vreq(h.tokens.admin, 'POST', `${admin}/volumes/${v.id}/action`, { 'os-reset_status': { status: 'bogus' } })).statusCode, 400);

    // delete: 202, then the row and the file are gone
    r = await vreq(h.tokens.demo, 'DELETE', `${demo}/volumes/${v.id}`);
    assert.equal(r.statusCode, 202, r.body);
    await idle(h);
    assert.equal((await vreq(h.tokens.demo, 'GET', `${demo}/volumes/${v.id}`)).statusCode, 404);
    assert.deepEqual(readdirSync(dir), []);
  } finally {
    await h.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('volumes: a backend failure during create leaves the volume in error and nothing on disk', async () => {
  const { h, dir, vreq } = await setup();
  const demo = h.ids.demoProject;
  try {
    h.app.novalet.compute.volumes.setBackend('file', new FileBackend(dir, 'qcow2', '/bin/false'));
    const r = await vreq(h.tokens.demo, 'POST', `${demo}/volumes`, { volume: { size: 1 } });
    assert.equal(r.statusCode, 202);
    await idle(h);
    const v = (await vreq(h.tokens.demo, 'GET', `${demo}/volumes/${r.json().volume.id}`)).json().volume;
    assert.equal(v.status, 'error');
    assert.deepEqual(readdirSync(dir), []);
    // an error volume can be deleted
    h.app.novalet.compute.volumes.setBackend('file', new FileBackend(dir));
    assert.equal((await vreq(h.tokens.demo, 'DELETE', `${demo}/volumes/${v.id}`)).statusCode, 202);
    await idle(h);
    assert.equal((await vreq(h.tokens.demo, 'GET', `${demo}/volumes/${v.id}`)).statusCode, 404);
  } finally {
    await h.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('volumes: snapshots, volume from snapshot and from volume, types with a backend, delete with snapshots', async () => {
  const { h, dir, vreq } = await setup();
  const demo = h.ids.demoProject;
  const admin = h.ids.adminProject;
  try {
    let r = await vreq(h.tokens.admin, 'POST', `${admin}/types`, { volume_type: { name: 'fast', extra_specs: { volume_backend_name: 'file' } } });
    assert.equal(r.statusCode, 200, r.body);
    assert.equal((await vreq(h.tokens.demo, 'POST', `${demo}/types`, { volume_type: { name: 'x' } })).statusCode, 403);
    assert.equal((await vreq(h.tokens.demo, 'GET', `${demo}/types`)).json().volume_types.length, 2);
    r = await vreq(h.tokens.demo, 'POST', `${demo}/volumes`, { volume: { size: 1, volume_type: 'fast' } });
    assert.equal(r.statusCode, 202, r.body);
    assert.equal(r.json().volume.volume_type, 'fast');
    const vid = r.json().volume.id;
    await idle(h);
    r = await vreq(h.tokens.demo, 'POST', `${demo}/snapshots`, { snapshot: { volume_id: vid, name: 's1' } });
    assert.equal(r.statusCode, 202, r.body);
    const sid = r.json().snapshot.id;
    await idle(h);
    assert.equal((await vreq(h.tokens.demo, 'GET', `${demo}/snapshots/${sid}`)).json().snapshot.status, 'available');
    assert.equal((await vreq(h.tokens.other, 'GET', `${h.ids.otherProject}/snapshots/${sid}`)).statusCode, 404);
    r = await vreq(h.tokens.demo, 'POST', `${demo}/volumes`, { volume: { snapshot_id: sid } });
    assert.equal(r.statusCode, 202, r.body);
    const fromSnap = r.json().volume.id;
    r = await vreq(h.tokens.demo, 'POST', `${demo}/volumes`, { volume: { source_volid: vid, size: 2 } });
    assert.equal(r.statusCode, 202, r.body);
    const fromVol = r.json().volume.id;
    await idle(h);
    for (const id of [fromSnap, fromVol]) assert.equal((await vreq(h.tokens.demo, 'GET', `${demo}/volumes/${id}`)).json().volume.status, 'available');
    assert.equal(await virtualSize(join(dir, `volume-${fromVol}`)), 2 * 1024 ** 3);
    // a volume with snapshots is not deleted (400) unless cascade
    r = await vreq(h.tokens.demo, 'DELETE', `${demo}/volumes/${vid}`);
    assert.equal(r.statusCode, 400);
    assert.match(r.json().badRequest.message, /dependent snapshots/);
    assert.equal((await vreq(h.tokens.admin, 'DELETE', `${admin}/types/fast`)).statusCode, 400);
    assert.equal((await vreq(h.tokens.demo, 'DELETE', `${demo}/volumes/${vid}?cascade=true`)).statusCode, 202);
    for (const id of [fromSnap, fromVol]) assert.equal((await vreq(h.tokens.demo, 'DELETE', `${demo}/volumes/${id}`)).statusCode, 202);
    await idle(h);
    assert.equal((await vreq(h.tokens.demo, 'GET', `${demo}/snapshots/detail`)).json().snapshots.length, 0);
    assert.deepEqual(readdirSync(dir), []);
  } finally {
    await h.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('os-volume_attachments: attach, the view, errors as Nova, detach, detach on delete with delete_on_termination', async () => {
  const { h, dir, vreq } = await setup();
  const demo = h.ids.demoProject;
  const S = '/compute/v2.1/servers';
  try {
    const s1 = await h.boot(h.tokens.demo, 's1');
    const s2 = await h.boot(h.tokens.demo, 's2');
    const mk = async () => {
      const r = await vreq(h.tokens.demo, 'POST', `${demo}/volumes`, { volume: { size: 1 } });
      assert.equal(r.statusCode, 202, r.body);
      await idle(h);
      return r.json().volume.id as string;
    };
    const vol = await mk();
    const rev0 = (await h.store.getServer(s1))!.revision;
    let r = await h.req(h.tokens.demo, 'POST', `${S}/${s1}/os-volume_attachments`, { volumeAttachment: { volumeId: vol, tag: 'data' } }, '2.79');
    assert.equal(r.statusCode, 200, r.body);
    assert.deepEqual(r.json().volumeAttachment, { device: '/dev/vdb', serverId: s1, volumeId: vol, id: vol, tag: 'data', delete_on_termination: false });
    await idle(h);
    const call = h.driver.calls.find((c) => c.op === 'attach_disk' && c.serverId === s1);
    assert.ok(call, 'attach_disk was called on the host');
    let v = (await vreq(h.tokens.demo, 'GET', `${demo}/volumes/${vol}`)).json().volume;
    assert.equal(v.status, 'in-use');
    assert.equal(v.attachments.length, 1);
    assert.equal(v.attachments[0].server_id, s1);
    assert.equal(v.attachments[0].device, '/dev/vdb');
    const srv = (await h.req(h.tokens.demo, 'GET', `${S}/${s1}`, undefined, '2.79')).json().server;
    assert.deepEqual(srv['os-extended-volumes:volumes_attached'], [{ id: vol, delete_on_termination: false }]);
    assert.ok((await h.store.getServer(s1))!.revision > rev0, 'the attach raised the server revision');
    r = await h.req(h.tokens.demo, 'GET', `${S}/${s1}/os-volume_attachments`);
    assert.equal(r.json().volumeAttachments.length, 1);
    assert.equal((await h.req(h.tokens.demo, 'GET', `${S}/${s1}/os-volume_attachments/${vol}`)).statusCode, 200);
    // the project of another: its server and its view of the volume are 404
    assert.equal((await h.req(h.tokens.other, 'GET', `${S}/${s1}/os-volume_attachments`)).statusCode, 404);

    // attaching a volume in use: 400; deleting it: 400; a device in use: 400
    r = await h.req(h.tokens.demo, 'POST', `${S}/${s2}/os-volume_attachments`, { volumeAttachment: { volumeId: vol } });
    assert.equal(r.statusCode, 400, r.body);
    assert.match(r.json().badRequest.message, /Invalid volume/);
    r = await vreq(h.tokens.demo, 'DELETE', `${demo}/volumes/${vol}`);
    assert.equal(r.statusCode, 400);
    const vol2 = await mk();
    r = await h.req(h.tokens.demo, 'POST', `${S}/${s1}/os-volume_attachments`, { volumeAttachment: { volumeId: vol2, device: '/dev/vdb' } });
    assert.equal(r.statusCode, 400);
    assert.equal((await vreq(h.tokens.demo, 'GET', `${demo}/volumes/${vol2}`)).json().volume.status, 'available', 'a refused attach gives the volume back');
    // detaching a volume that is not attached: 404; an unknown volume: 404
    r = await h.req(h.tokens.demo, 'DELETE', `${S}/${s1}/os-volume_attachments/${vol2}`);
    assert.equal(r.statusCode, 404);
    r = await h.req(h.tokens.demo, 'DELETE', `${S}/${s1}/os-volume_attachments/6c1bc1e8-59b4-4b56-9c5a-0b4e0d8b6a11`);
    assert.equal(r.statusCode, 404);

    // a host failure during attach: the volume is available again, the server unchanged
    h.driver.failNext('attach_disk', 'boom', 'internal');
    r = await h.req(h.tokens.demo, 'POST', `${S}/${s2}/os-volume_attachments`, { volumeAttachment: { volumeId: vol2 } });
    assert.equal(r.statusCode, 200, r.body);
    await idle(h);
    assert.equal((await vreq(h.tokens.demo, 'GET', `${demo}/volumes/${vol2}`)).json().volume.status, 'available');
    assert.equal((await h.req(h.tokens.demo, 'GET', `${S}/${s2}/os-volume_attachments`)).json().volumeAttachments.length, 0);

    // detach: 202, then available, and attachable to the second server
    r = await h.req(h.tokens.demo, 'DELETE', `${S}/${s1}/os-volume_attachments/${vol}`);
    assert.equal(r.statusCode, 202, r.body);
    await idle(h);
    assert.ok(h.driver.calls.some((c) => c.op === 'detach_disk' && c.serverId === s1));
    v = (await vreq(h.tokens.demo, 'GET', `${demo}/volumes/${vol}`)).json().volume;
    assert.equal(v.status, 'available');
    assert.deepEqual((await h.req(h.tokens.demo, 'GET', `${S}/${s1}`)).json().server['os-extended-volumes:volumes_attached'], []);
    // the host holds the attach until released: a second attach to the server meanwhile is a 409
    let release = () => {};
    const held = new Promise<void>((res) => { release = res; });
    h.driver.on('attach_disk', async () => { await held; return {}; });
    r = await h.req(h.tokens.demo, 'POST', `${S}/${s2}/os-volume_attachments`, { volumeAttachment: { volumeId: vol, delete_on_termination: true } }, '2.79');
    assert.equal(r.statusCode, 200, r.body);
    assert.ok(['reserved', 'attaching'].includes((await vreq(h.tokens.demo, 'GET', `${demo}/volumes/${vol}`)).json().volume.status));
    r = await h.req(h.tokens.demo, 'POST', `${S}/${s2}/os-volume_attachments`, { volumeAttachment: { volumeId: vol2 } }, '2.79');
    assert.equal(r.statusCode, 409, 'one operation per server at a time');
    assert.equal((await vreq(h.tokens.demo, 'GET', `${demo}/volumes/${vol2}`)).json().volume.status, 'available');
    release();
    await idle(h);
    r = await h.req(h.tokens.demo, 'POST', `${S}/${s2}/os-volume_attachments`, { volumeAttachment: { volumeId: vol2 } }, '2.79');
    assert.equal(r.statusCode, 200, r.body);
    assert.equal(r.json().volumeAttachment.device, '/dev/vdc');
    await idle(h);

    // a stopped server takes a volume too (the host changes its definition); a suspended one does not (409)
    const s3 = await h.boot(h.tokens.demo, 's3');
    assert.equal((await h.req(h.tokens.demo, 'POST', `${S}/${s3}/action`, { 'os-stop': null })).statusCode, 202);
    await idle(h);
    const vol3 = await mk();
    r = await h.req(h.tokens.demo, 'POST', `${S}/${s3}/os-volume_attachments`, { volumeAttachment: { volumeId: vol3 } });
    assert.equal(r.statusCode, 200, r.body);
    await idle(h);
    assert.equal((await vreq(h.tokens.demo, 'GET', `${demo}/volumes/${vol3}`)).json().volume.status, 'in-use');
    assert.equal((await h.req(h.tokens.demo, 'DELETE', `${S}/${s3}/os-volume_attachments/${vol3}`)).statusCode, 202);
    await idle(h);
    assert.equal((await vreq(h.tokens.demo, 'GET', `${demo}/volumes/${vol3}`)).json().volume.status, 'available');
    assert.equal((await h.req(h.tokens.demo, 'POST', `${S}/${s3}/action`, { 'os-start': null })).statusCode, 202);
    await idle(h);
    assert.equal((await h.req(h.tokens.demo, 'POST', `${S}/${s3}/action`, { suspend: null })).statusCode, 202);
    await idle(h);
    r = await h.req(h.tokens.demo, 'POST', `${S}/${s3}/os-volume_attachments`, { volumeAttachment: { volumeId: vol3 } });
    assert.equal(r.statusCode, 409, r.body);
    assert.equal((await vreq(h.tokens.demo, 'GET', `${demo}/volumes/${vol3}`)).json().volume.status, 'available');

    // deleting the server detaches both: the one marked delete_on_termination goes, the other is available
    assert.equal((await h.req(h.tokens.demo, 'DELETE', `${S}/${s2}`)).statusCode, 204);
    await idle(h);
    assert.equal((await vreq(h.tokens.demo, 'GET', `${demo}/volumes/${vol}`)).statusCode, 404);
    assert.equal((await vreq(h.tokens.demo, 'GET', `${demo}/volumes/${vol2}`)).json().volume.status, 'available');
    assert.equal(existsSync(join(dir, `volume-${vol}`)), false);
    // attachments API (3.27)
    assert.equal((await vreq(h.tokens.demo, 'GET', `${demo}/attachments`)).statusCode, 404);
    assert.equal((await vreq(h.tokens.demo, 'GET', `${demo}/attachments`, undefined, '3.27')).json().attachments.length, 0);
  } finally {
    await h.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('volumes: after a restart, a create that was running is an error (partial bytes gone), a delete is driven again', async () => {
  const { h, dir, vreq } = await setup();
  const demo = h.ids.demoProject;
  try {
    const mk = async () => (await vreq(h.tokens.demo, 'POST', `${demo}/volumes`, { volume: { size: 1 } })).json().volume.id as string;
    const deleting = await mk();
    await idle(h);
    const store = h.store;
    await store.updateVolume(deleting, { status: 'deleting' });
    // a create interrupted half way: the row says creating, a temporary file is on disk
    const creating = await mk();
    await idle(h);
    await store.updateVolume(creating, { status: 'creating', location: null });
    const { rmSync: rm, writeFileSync } = await import('node:fs');
    rm(join(dir, `volume-${creating}`));
    writeFileSync(join(dir, `volume-${creating}.tmp`), 'partial');
    await h.app.novalet.compute.volumes.recover();
    await idle(h);
    assert.equal((await vreq(h.tokens.demo, 'GET', `${demo}/volumes/${creating}`)).json().volume.status, 'error');
    assert.equal((await vreq(h.tokens.demo, 'GET', `${demo}/volumes/${deleting}`)).statusCode, 404);
    assert.deepEqual(readdirSync(dir), []);
  } finally {
    await h.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('file backend: a volume held open by QEMU (a running guest\'s write lock) can still be snapshotted and cloned; the copies keep its image', async () => {
  const { h, dir, vreq } = await setup();
  const demo = h.ids.demoProject;
  let holder: ReturnType<typeof execa> | undefined;
  try {
    // a volume made from an image (bytes written for the harness's image)
    const image = (await h.store.listImages({ projectId: null, isAdmin: true })).find((i) => i.diskFormat === 'qcow2')!;
    await execa('qemu-img', ['create', '-q', '-f', 'qcow2', h.app.novalet.compute.images.filePath(image.id), '1M']);
    let r = await vreq(h.tokens.demo, 'POST', `${demo}/volumes`, { volume: { size: 1, imageRef: image.id } });
    assert.equal(r.statusCode, 202, r.body);
    const id = r.json().volume.id as string;
    await idle(h);
    assert.equal((await vreq(h.tokens.demo, 'GET', `${demo}/volumes/${id}`)).json().volume.status, 'available');
    const path = join(dir, `volume-${id}`);
    await execa('qemu-io', ['-f', 'qcow2', '-c', 'write -P 0x5a 0 64k', path]);
    // qemu-io stays open on the volume (interactive, stdin open), holding its write lock as a guest's QEMU does
    holder = execa('qemu-io', ['-f', 'qcow2', path], { stdin: 'pipe', reject: false });
    await new Promise((res) => setTimeout(res, 300));
    const locked = await execa('qemu-img', ['info', path], { reject: false });
    assert.match(locked.stderr, /lock/, 'the test holds the lock');
    r = await vreq(h.tokens.demo, 'POST', `${demo}/snapshots`, { snapshot: { volume_id: id, force: true, name: 'live' } });
    assert.equal(r.statusCode, 202, r.body);
    const snap = r.json().snapshot.id as string;
    await idle(h);
    assert.equal((await vreq(h.tokens.demo, 'GET', `${demo}/snapshots/${snap}`)).json().snapshot.status, 'available');
    r = await vreq(h.tokens.demo, 'POST', `${demo}/volumes`, { volume: { size: 1, snapshot_id: snap } });
    const copy = r.json().volume.id as string;
    await idle(h);
    assert.equal((await vreq(h.tokens.demo, 'GET', `${demo}/volumes/${copy}`)).json().volume.status, 'available');
    r = await vreq(h.tokens.demo, 'POST', `${demo}/volumes`, { volume: { size: 1, source_volid: id } });
    const clone = r.json().volume.id as string;
    await idle(h);
    assert.equal((await vreq(h.tokens.demo, 'GET', `${demo}/volumes/${clone}`)).json().volume.status, 'available');
    for (const v of [copy, clone]) {
      // Cinder's volume_glance_metadata goes along: a server booted from the copy boots as from the original
      const shown = (await vreq(h.tokens.demo, 'GET', `${demo}/volumes/${v}`)).json().volume;
      assert.equal(shown.volume_image_metadata?.image_id, image.id);
      assert.equal(shown.bootable, 'true');
      const read = await execa('qemu-io', ['-f', 'qcow2', '-c', 'read -P 0x5a 0 64k', join(dir, `volume-${v}`)]);
      assert.match(read.stdout, /read 65536\/65536 bytes/, 'the bytes written before');
    }
  } finally {
    holder?.kill();
    await holder;
    await h.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
