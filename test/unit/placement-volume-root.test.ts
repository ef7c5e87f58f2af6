/**
 * Placement of a server booted from a volume (Nova: the DISK_GB claim leaves out root_gb for a volume-backed
 * instance; ephemeral and swap, local disks, are still claimed): on a host with 100 GiB of disk, a flavor with a
 * 150 GiB root disk, 2 GiB ephemeral and 1.5 GiB swap boots from a volume (claim 2 + 2 GiB) but not from the image
 * (No valid host); the claim follows a resize of the volume-backed server; an image-backed server claims root +
 * ephemeral + swap.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHarness } from '../support/harness.js';
import { claimOf, heldFlavor, serverClaimOf } from '../../src/store/index.js';

const S = '/compute/v2.1/servers';

test('claims: root_gb left out for a volume-backed server only; swap in GiB rounded up', () => {
  const f = { vcpus: 1, ram: 512, disk: 150, ephemeral: 2, swap: 1536 };
  assert.deepEqual(claimOf(f), { vcpus: 1, memoryMb: 512, diskGb: 154 });
  assert.deepEqual(serverClaimOf({ imageRef: '', flavor: f }), { vcpus: 1, memoryMb: 512, diskGb: 4 });
  assert.deepEqual(serverClaimOf({ imageRef: 'img', flavor: f }), { vcpus: 1, memoryMb: 512, diskGb: 154 });
  assert.equal(heldFlavor({ imageRef: '' }, f).disk, 0);
  assert.equal(f.disk, 150, 'the flavor itself is not changed');
});

test('a volume-booted server is placed and claimed without the flavor root disk; an image-booted one needs it', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'novalet-place-bfv-'));
  const h = await createHarness({ volumes: { dir } });
  try {
    const idle = async () => { await h.idle(); await h.app.novalet.compute.volumes.idle(); await h.idle(); };
    const flavor = async (id: string, disk: number) => {
      const r = await h.req(h.tokens.admin, 'POST', '/compute/v2.1/flavors', { flavor: { name: `f${id}`, id, ram: 256, vcpus: 1, disk, 'OS-FLV-EXT-DATA:ephemeral': 2, swap: 1536 } });
      assert.equal(r.statusCode, 200, r.body);
    };
    await flavor('big', 150);
    await flavor('bigger', 160);
    const image = (await h.store.listImages({ projectId: null, isAdmin: true }))[0]!.id;
    const status = async (id: string) => (await h.req(h.tokens.admin, 'GET', `${S}/${id}`, undefined, '2.47')).json().server;

    const made = await h.app.inject({ method: 'POST', url: `/volume/v3/${h.ids.demoProject}/volumes`, headers: { 'x-auth-token': h.tokens.demo }, payload: { volume: { size: 1 } } });
    assert.equal(made.statusCode, 202, made.body);
    const vol = made.json().volume.id as string;
    await idle();
    const bootable = await h.app.inject({ method: 'POST', url: `/volume/v3/${h.ids.demoProject}/volumes/${vol}/action`, headers: { 'x-auth-token': h.tokens.demo }, payload: { 'os-set_bootable': { bootable: true } } });
    assert.ok(bootable.statusCode < 300, bootable.body);
    let r = await h.req(h.tokens.demo, 'POST', S, { server: { name: 'bfv', flavorRef: 'big', networks: 'none', block_device_mapping_v2: [
      { uuid: vol, boot_index: 0, source_type: 'volume', destination_type: 'volume' },
    ] } }, '2.37');
    assert.equal(r.statusCode, 202, r.body);
    const bfv = r.json().server.id as string;
    await idle();
    assert.equal((await status(bfv)).status, 'ACTIVE', JSON.stringify((await status(bfv)).fault));
    const held = await h.store.getAllocation(bfv);
    assert.deepEqual({ host: held?.host, diskGb: held?.diskGb }, { host: 'fake-host', diskGb: 4 }, 'ephemeral 2 + swap 2, no root');

    r = await h.req(h.tokens.demo, 'POST', S, { server: { name: 'img', imageRef: image, flavorRef: 'big', networks: 'none' } }, '2.37');
    assert.equal(r.statusCode, 202, r.body);
    const img = r.json().server.id as string;
    await idle();
    const s = await status(img);
    assert.equal(s.status, 'ERROR');
    assert.match(s.fault.message, /No valid host/);
    assert.equal(await h.store.getAllocation(img), null);

    // a resize of the volume-backed server: the new flavor's root is not claimed either
    r = await h.req(h.tokens.demo, 'POST', `${S}/${bfv}/action`, { resize: { flavorRef: 'bigger' } });
    assert.equal(r.statusCode, 202, r.body);
    await idle();
    assert.equal((await status(bfv)).status, 'VERIFY_RESIZE', JSON.stringify((await status(bfv)).fault));
    assert.equal((await h.store.getAllocation(bfv))?.diskGb, 4);

    // an image-backed server that fits claims root + ephemeral + swap
    r = await h.req(h.tokens.demo, 'POST', S, { server: { name: 'small', imageRef: image, flavorRef: '1', networks: 'none' } }, '2.37');
    const small = r.json().server.id as string;
    await idle();
    const f1 = (await h.req(h.tokens.admin, 'GET', '/compute/v2.1/flavors/1')).json().flavor;
    assert.equal((await h.store.getAllocation(small))?.diskGb, f1.disk + f1['OS-FLV-EXT-DATA:ephemeral'] + Math.ceil(f1.swap === '' ? 0 : f1.swap / 1024));
  } finally {
    await h.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
