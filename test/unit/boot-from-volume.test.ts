/**
 * Boot from volume on fake hosts with the real `file` backend: the spawn's spec boots the volume (rootVolume, no
 * image), the volume is in-use on /dev/vda on the server's host, the view shows no image; a volume in use is a 400 at
 * create with nothing built; delete with delete_on_termination false gives the volume back; a volume that fails to
 * be made (here: the image's bytes are missing) fails the build with the volume in error and nothing on disk.
 */
import test from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHarness } from '../support/harness.js';
import type { HostCall } from '../../src/controller/hosts/transport.js';
import type { ServerSpec } from '../../src/rpc/protocol/server-spec.js';

test('boot from volume: spec, attachment, view, refusals, delete, a failed volume', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'novalet-bfv-'));
  const h = await createHarness({ volumes: { dir } });
  const demo = h.ids.demoProject;
  const S = '/compute/v2.1/servers';
  const vreq = (method: string, path: string, payload?: unknown) => h.app.inject({ method: method as 'GET', url: `/volume/v3/${demo}/${path}`, headers: { 'x-auth-token': h.tokens.demo }, ...(payload !== undefined ? { payload: payload as object } : {}) });
  const idle = async () => { await h.idle(); await h.app.novalet.compute.volumes.idle(); await h.idle(); };
  const specs: ServerSpec[] = [];
  const fake = h.driver as unknown as { apply(c: HostCall): Promise<Record<string, unknown>> };
  h.driver.on('spawn', async (c) => { specs.push((c.params as { spec: ServerSpec }).spec); return fake.apply(c); });
  try {
    const vol = (await vreq('POST', 'volumes', { volume: { size: 1, name: 'root' } })).json().volume.id as string;
    await idle();
    assert.equal((await vreq('POST', `volumes/${vol}/action`, { 'os-set_bootable': { bootable: true } })).statusCode, 200);
    const bdm = [{ uuid: vol, boot_index: '0', source_type: 'volume', destination_type: 'volume' }];
    let r = await h.req(h.tokens.demo, 'POST', S, { server: { name: 'b1', imageRef: '', flavorRef: '1', block_device_mapping_v2: bdm } });
    assert.equal(r.statusCode, 202, r.body);
    const id = r.json().server.id as string;
    await idle();
    const s = (await h.req(h.tokens.demo, 'GET', `${S}/${id}`, undefined, '2.79')).json().server;
    assert.equal(s.status, 'ACTIVE', JSON.stringify(s.fault));
    assert.equal(s.image, '');
    assert.deepEqual(s['os-extended-volumes:volumes_attached'], [{ id: vol, delete_on_termination: false }]);
    const spec = specs.at(-1)!;
    assert.equal(spec.image, undefined);
    assert.deepEqual(spec.rootVolume, { path: join(dir, `volume-${vol}`), format: 'qcow2', volumeId: vol, sourceType: 'file' });
    let v = (await vreq('GET', `volumes/${vol}`)).json().volume;
    assert.equal(v.status, 'in-use');
    assert.deepEqual(v.attachments.map((a: { device: string; host_name: string }) => [a.device, a.host_name]), [['/dev/vda', 'fake-host']]);
    // the root volume: not detachable; in use: no second server, nothing built
    assert.equal((await h.req(h.tokens.demo, 'DELETE', `${S}/${id}/os-volume_attachments/${vol}`)).statusCode, 400);
    r = await h.req(h.tokens.demo, 'POST', S, { server: { name: 'b2', flavorRef: '1', block_device_mapping_v2: bdm } });
    assert.equal(r.statusCode, 400, r.body);
    assert.equal((await h.req(h.tokens.demo, 'GET', `${S}?name=b2`)).json().servers.length, 0);
    // delete (delete_on_termination false): the volume is available again, its file kept
    assert.equal((await h.req(h.tokens.demo, 'DELETE', `${S}/${id}`)).statusCode, 204);
    await idle();
    v = (await vreq('GET', `volumes/${vol}`)).json().volume;
    assert.equal(v.status, 'available');
    assert.ok(existsSync(join(dir, `volume-${vol}`)));

    // novaclient's --block-device-mapping vdb=vol:volume:1:false on an image server: the volume is the build's vdb
    r = await h.req(h.tokens.demo, 'POST', S, { server: { name: 'b4', imageRef: (await h.store.listImages({ projectId: null, isAdmin: true }))[0]!.id, flavorRef: '1', block_device_mapping_v2: [
      { device_name: 'vdb', uuid: vol, source_type: 'volume', destination_type: 'volume', volume_size: '1', delete_on_termination: 'false' }] } });
    assert.equal(r.statusCode, 202, r.body);
    await idle();
    const b4 = r.json().server.id as string;
    assert.equal((await h.req(h.tokens.demo, 'GET', `${S}/${b4}`)).json().server.status, 'ACTIVE');
    assert.ok(specs.at(-1)!.image);
    assert.deepEqual(specs.at(-1)!.disks?.map((d) => [d.target, d.volumeId]), [['vdb', vol]]);
    assert.deepEqual((await vreq('GET', `volumes/${vol}`)).json().volume.attachments.map((a: { device: string }) => a.device), ['/dev/vdb']);
    assert.equal((await h.req(h.tokens.demo, 'DELETE', `${S}/${b4}/os-volume_attachments/${vol}`)).statusCode, 202);
    await idle();
    assert.equal((await vreq('GET', `volumes/${vol}`)).json().volume.status, 'available');

    // a volume to make from an image whose bytes are missing: the build fails, the volume is in error, no bytes
    const imageId = (await h.store.listImages({ projectId: null, isAdmin: true }))[0]!.id;
    const img = h.app.novalet.compute.images.filePath(imageId);
    assert.ok(!existsSync(img), 'the harness image has no bytes');
    r = await h.req(h.tokens.demo, 'POST', S, { server: { name: 'b3', flavorRef: '1', block_device_mapping_v2: [
      { uuid: imageId, boot_index: 0, source_type: 'image', destination_type: 'volume', volume_size: 1 }] } });
    assert.equal(r.statusCode, 202, r.body);
    await idle();
    const s3 = (await h.req(h.tokens.demo, 'GET', `${S}/${r.json().server.id}`)).json().server;
    assert.equal(s3.status, 'ERROR');
    const made = (await vreq('GET', 'volumes/detail')).json().volumes.filter((x: { id: string }) => x.id !== vol);
    assert.deepEqual(made.map((x: { status: string; attachments: unknown[] }) => [x.status, x.attachments.length]), [['error', 0]]);
    assert.deepEqual(readdirSync(dir), [`volume-${vol}`]);
  } finally {
    await h.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
