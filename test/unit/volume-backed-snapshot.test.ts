/**
 * createImage of a server booted from a volume, as Nova's snapshot_volume_backed: a forced Cinder snapshot of each
 * attached volume ("snapshot for <name>"), and an active 0-byte image whose block_device_mapping (JSON) maps each
 * snapshot back to a volume with its device, boot index and size, bdm_v2 True, root_device_name /dev/vda, the
 * user's metadata; no host is asked for a snapshot, the server stays ACTIVE. An image-backed server's createImage
 * is unchanged (the host's snapshot).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { createHarness } from '../support/harness.js';

const S = '/compute/v2.1/servers';
const AMI = '5f0c3a55-9d0e-4d8b-a6a3-1c2b3d4e5f60';

test('createImage of a volume-booted server: volume snapshots and a 0-byte image with their block device mapping', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'novalet-bfv-snap-'));
  const h = await createHarness({ volumes: { dir } });
  try {
    const demo = h.ids.demoProject;
    const vreq = (method: string, path: string, payload?: unknown) => h.app.inject({ method: method as 'GET', url: `/volume/v3/${demo}/${path}`, headers: { 'x-auth-token': h.tokens.demo }, ...(payload !== undefined ? { payload: payload as object } : {}) });
    const idle = async () => { await h.idle(); await h.app.novalet.compute.volumes.idle(); await h.idle(); };
    // the root volume from an AMI-style image (its kernel and ramdisk boot the server; bytes written for the harness)
    const base = (await h.store.listImages({ projectId: null, isAdmin: true })).find((i) => i.diskFormat === 'qcow2')!;
    await h.store.createImage({ ...base, id: AMI, name: 'ami', properties: { kernel_id: base.id, ramdisk_id: base.id } });
    await execa('qemu-img', ['create', '-q', '-f', 'qcow2', h.app.novalet.compute.images.filePath(AMI), '1M']);
    const root = (await vreq('POST', 'volumes', { volume: { size: 1, name: 'root', imageRef: AMI } })).json().volume.id as string;
    const data = (await vreq('POST', 'volumes', { volume: { size: 2, name: 'data' } })).json().volume.id as string;
    await idle();
    assert.ok((await vreq('POST', `volumes/${root}/action`, { 'os-set_bootable': { bootable: true } })).statusCode < 300);
    let r = await h.req(h.tokens.demo, 'POST', S, { server: { name: 'b1', flavorRef: '1', networks: 'none', block_device_mapping_v2: [
      { uuid: root, boot_index: 0, source_type: 'volume', destination_type: 'volume', delete_on_termination: true },
    ] } }, '2.37');
    assert.equal(r.statusCode, 202, r.body);
    const id = r.json().server.id as string;
    await idle();
    r = await h.req(h.tokens.demo, 'POST', `${S}/${id}/os-volume_attachments`, { volumeAttachment: { volumeId: data, tag: 'db' } }, '2.79');
    assert.equal(r.statusCode, 200, r.body);
    await idle();
    const before = h.driver.calls.length;

    r = await h.req(h.tokens.demo, 'POST', `${S}/${id}/action`, { createImage: { name: 'snap1', metadata: { purpose: 'test' } } }, '2.45');
    assert.equal(r.statusCode, 202, r.body);
    const imageId = r.json().image_id as string;
    await idle();
    assert.deepEqual(h.driver.calls.slice(before).map((c) => c.op), [], 'no host call');
    assert.equal((await h.req(h.tokens.demo, 'GET', `${S}/${id}`)).json().server.status, 'ACTIVE');

    const img = (await h.app.inject({ method: 'GET', url: `/image/v2/images/${imageId}`, headers: { 'x-auth-token': h.tokens.demo } })).json();
    assert.equal(img.status, 'active');
    assert.equal(img.size, 0);
    assert.equal(img.purpose, 'test');
    assert.equal(img.image_type, 'snapshot');
    assert.equal(img.instance_uuid, id);
    assert.equal(img.root_device_name, '/dev/vda');
    assert.equal(img.bdm_v2, 'True');
    const mapping = JSON.parse(img.block_device_mapping) as Array<Record<string, unknown>>;
    const snaps = (await vreq('GET', 'snapshots/detail')).json().snapshots as Array<{ id: string; volume_id: string; name: string; status: string }>;
    assert.equal(snaps.length, 2);
    for (const s of snaps) {
      assert.equal(s.name, 'snapshot for snap1');
      assert.equal(s.status, 'available');
    }
    const snapOf = (vol: string) => snaps.find((s) => s.volume_id === vol)!.id;
    assert.deepEqual(mapping.map((m) => [m.source_type, m.destination_type, m.snapshot_id, m.boot_index, m.device_name, m.volume_size, m.delete_on_termination, m.tag]), [
      ['snapshot', 'volume', snapOf(root), 0, '/dev/vda', 1, true, null],
      ['snapshot', 'volume', snapOf(data), null, '/dev/vdb', 2, false, 'db'],
    ]);

    // booting from the snapshot image (as `openstack server create --image snap1`): new volumes from its snapshots,
    // the root at /dev/vda, the data volume with its tag; the snapshots' volumes are not touched
    r = await h.req(h.tokens.demo, 'POST', S, { server: { name: 'from-snap', imageRef: imageId, flavorRef: '1', networks: 'none' } }, '2.37');
    assert.equal(r.statusCode, 202, r.body);
    const fromSnap = r.json().server.id as string;
    await idle();
    const fs = (await h.req(h.tokens.demo, 'GET', `${S}/${fromSnap}`, undefined, '2.79')).json().server;
    assert.equal(fs.status, 'ACTIVE', JSON.stringify(fs.fault));
    assert.equal(fs.image, '', 'volume-backed');
    const asAdmin = (await h.req(h.tokens.admin, 'GET', `${S}/${fromSnap}`, undefined, '2.3')).json().server;
    assert.deepEqual([asAdmin['OS-EXT-SRV-ATTR:kernel_id'], asAdmin['OS-EXT-SRV-ATTR:ramdisk_id']], [base.id, base.id], 'boots as the original did');
    const attached = fs['os-extended-volumes:volumes_attached'] as Array<{ id: string; delete_on_termination: boolean }>;
    assert.equal(attached.length, 2);
    const vols = await Promise.all(attached.map(async (a) => (await vreq('GET', `volumes/${a.id}`)).json().volume));
    const bySnap = new Map(vols.map((v) => [v.snapshot_id as string, v]));
    assert.equal(bySnap.get(snapOf(root))?.attachments[0]?.device, '/dev/vda');
    assert.equal(bySnap.get(snapOf(root))?.size, 1);
    assert.equal(bySnap.get(snapOf(data))?.size, 2);
    assert.ok(vols.every((v) => v.id !== root && v.id !== data && v.status === 'in-use'), JSON.stringify(vols.map((v) => [v.id, v.status])));
    assert.deepEqual(attached.map((a) => a.delete_on_termination).sort(), [false, true], 'as the mapping said');
    // a request's mapping of the same device replaces the image's (Nova's merge): no data volume from the snapshot
    r = await h.req(h.tokens.demo, 'POST', S, { server: { name: 'override', imageRef: imageId, flavorRef: '1', networks: 'none', block_device_mapping_v2: [
      { source_type: 'blank', destination_type: 'volume', volume_size: 1, device_name: '/dev/vdb', delete_on_termination: true },
    ] } }, '2.37');
    assert.equal(r.statusCode, 202, r.body);
    await idle();
    const ov = (await h.req(h.tokens.demo, 'GET', `${S}/${r.json().server.id}`, undefined, '2.79')).json().server;
    assert.equal(ov.status, 'ACTIVE', JSON.stringify(ov.fault));
    const ovVols = await Promise.all((ov['os-extended-volumes:volumes_attached'] as Array<{ id: string }>).map(async (a) => (await vreq('GET', `volumes/${a.id}`)).json().volume));
    assert.deepEqual(ovVols.map((v) => [v.snapshot_id ?? null, v.size]).sort(), [[null, 1], [snapOf(root), 1]].sort());

    // an image-backed server: the host takes the snapshot (unchanged)
    const image = (await h.store.listImages({ projectId: null, isAdmin: true })).find((x) => x.id !== imageId)!.id;
    r = await h.req(h.tokens.demo, 'POST', S, { server: { name: 'i1', imageRef: image, flavorRef: '1', networks: 'none' } }, '2.37');
    const i1 = r.json().server.id as string;
    await idle();
    const mark = h.driver.calls.length;
    r = await h.req(h.tokens.demo, 'POST', `${S}/${i1}/action`, { createImage: { name: 'snap2' } }, '2.45');
    assert.equal(r.statusCode, 202, r.body);
    await idle();
    assert.ok(h.driver.calls.slice(mark).some((c) => c.serverId === i1), 'the host was asked');
    const img2 = (await h.app.inject({ method: 'GET', url: `/image/v2/images/${r.json().image_id}`, headers: { 'x-auth-token': h.tokens.demo } })).json();
    assert.equal(img2.block_device_mapping, undefined);
  } finally {
    await h.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
