/** block_device_mapping_v2 of POST /servers as Nova checks it, with the shapes the stock clients send. */
import { describe, it, test } from 'node:test';
import assert from 'node:assert/strict';
import { imageDefinedBdms, mergeImageBdms, parseBlockDevices } from '../../src/controller/compute/block-devices.js';
import { chooseDevices } from '../../src/controller/volumes/boot-volumes.js';
import { ApiError } from '../../src/controller/errors.js';

const bad = (fn: () => unknown, re: RegExp) => assert.throws(fn, (e: unknown) => e instanceof ApiError && e.status === 400 && re.test(e.message));

describe('block_device_mapping_v2', () => {
  it('openstack server create --volume X: the volume boots the server, no image', () => {
    const p = parseBlockDevices([{ uuid: 'v1', boot_index: '0', source_type: 'volume', destination_type: 'volume' }], '');
    assert.equal(p.imageRef, null);
    assert.deepEqual(p.volumes.map((v) => [v.sourceType, v.uuid, v.bootIndex, v.deleteOnTermination]), [['volume', 'v1', 0, false]]);
    assert.equal(p.normalized[0]!.boot_index, 0);
  });

  it('--boot-from-volume 2: a 2 GiB volume from the image; delete_on_termination defaults to false', () => {
    const p = parseBlockDevices([{ uuid: 'img', boot_index: '0', source_type: 'image', destination_type: 'volume', volume_size: 2 }], '');
    assert.equal(p.imageRef, null);
    assert.equal(p.volumes[0]!.volumeSize, 2);
    assert.equal(p.volumes[0]!.deleteOnTermination, false);
  });

  it('novaclient --block-device-mapping vdb=vol1:volume:1:false: image root plus a data volume (strings normalised)', () => {
    const p = parseBlockDevices([
      { uuid: 'img', source_type: 'image', destination_type: 'local', boot_index: 0, delete_on_termination: true },
      { device_name: 'vdb', uuid: 'v1', source_type: 'volume', destination_type: 'volume', volume_size: '1', delete_on_termination: 'false' },
    ], 'img');
    assert.equal(p.imageRef, 'img');
    assert.deepEqual(p.volumes.map((v) => [v.uuid, v.bootIndex, v.volumeSize, v.deleteOnTermination, v.deviceName]), [['v1', null, 1, false, 'vdb']]);
    assert.deepEqual(chooseDevices(p.volumes, { ephemeral: false, swap: false }), ['/dev/vdb']);
  });

  it('devices: root vda, asked names when free, else the next free past ephemeral and swap', () => {
    const p = parseBlockDevices([
      { uuid: 'a', boot_index: 0, source_type: 'volume', destination_type: 'volume' },
      { uuid: 'b', boot_index: 1, source_type: 'volume', destination_type: 'volume', device_name: '/dev/vdb' },
      { uuid: 'c', boot_index: -1, source_type: 'blank', destination_type: 'volume', volume_size: 1 },
    ], '');
    assert.deepEqual(chooseDevices(p.volumes, { ephemeral: true, swap: true }), ['/dev/vda', '/dev/vdd', '/dev/vde']);
  });

  it('refused as Nova refuses them', () => {
    bad(() => parseBlockDevices([{ uuid: 'img', boot_index: 0, source_type: 'image', destination_type: 'volume' }], ''), /non-zero size/);
    bad(() => parseBlockDevices([{ boot_index: 0, source_type: 'volume', destination_type: 'volume' }], ''), /Missing uuid/);
    bad(() => parseBlockDevices([{ uuid: 'v', boot_index: 1, source_type: 'volume', destination_type: 'volume' }], ''), /Boot sequence/);
    bad(() => parseBlockDevices([
      { uuid: 'img', source_type: 'image', destination_type: 'local', boot_index: 0 },
      { uuid: 'v', boot_index: 0, source_type: 'volume', destination_type: 'volume' },
    ], ''), /Boot sequence/);
    bad(() => parseBlockDevices([{ uuid: 'v', boot_index: 'x', source_type: 'volume', destination_type: 'volume' }], ''), /boot_index/);
  });
});

test('image-defined mappings: read from a bdm_v2 image only, malformed lists ignored; the request overrides by device', () => {
  const mapping = [
    { source_type: 'snapshot', destination_type: 'volume', snapshot_id: 's-root', volume_id: null, boot_index: 0, device_name: '/dev/vda', volume_size: 1, delete_on_termination: true, no_device: null },
    { source_type: 'snapshot', destination_type: 'volume', snapshot_id: 's-data', boot_index: null, device_name: '/dev/vdb', volume_size: 2, tag: 'db' },
    { no_device: true, device_name: '/dev/vdc' },
  ];
  const props = { bdm_v2: 'True', block_device_mapping: JSON.stringify(mapping) };
  const fromImage = imageDefinedBdms(props);
  assert.deepEqual(fromImage, [
    { source_type: 'snapshot', destination_type: 'volume', uuid: 's-root', boot_index: 0, device_name: '/dev/vda', volume_size: 1, delete_on_termination: true },
    { source_type: 'snapshot', destination_type: 'volume', uuid: 's-data', device_name: '/dev/vdb', volume_size: 2, tag: 'db' },
  ]);
  for (const bad of [{ block_device_mapping: JSON.stringify(mapping) }, { bdm_v2: 'True', block_device_mapping: '{not json' }, { bdm_v2: 'True', block_device_mapping: '{"a":1}' }, {}]) {
    assert.deepEqual(imageDefinedBdms(bad as Record<string, string>), []);
  }
  // the client's image -> root rendering of imageRef goes; a request's /dev/vdb replaces the image's
  const merged = mergeImageBdms(fromImage, [
    { source_type: 'image', destination_type: 'local', uuid: 'img', boot_index: 0 },
    { source_type: 'blank', destination_type: 'volume', volume_size: 1, device_name: '/dev/vdb' },
  ]);
  assert.deepEqual(merged.map((b) => `${String(b.source_type)}:${String(b.device_name)}`), ['blank:/dev/vdb', 'snapshot:/dev/vda']);
  const parsed = parseBlockDevices(merged, 'img');
  assert.equal(parsed.imageRef, null, 'booted from the root volume');
  assert.deepEqual(parsed.volumes.map((v) => [v.sourceType, v.uuid, v.bootIndex]), [['snapshot', 's-root', 0], ['blank', null, null]]);
});
