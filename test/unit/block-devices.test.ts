/** block_device_mapping_v2 of POST /servers as Nova checks it, with the shapes the stock clients send. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseBlockDevices } from '../../src/controller/compute/block-devices.js';
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
