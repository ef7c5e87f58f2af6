// Which disks snapshotDisks puts overlays on, and the snapshot XML it hands libvirt.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import { buildDomainXml, parseDisks } from '../../src/virt/domain-xml/index.js';
import { planSnapshot } from '../../src/virt/libvirt-hypervisor/snapshots.js';
import type { DiskSpec } from '../../src/virt/hypervisor.js';

function disks(list: DiskSpec[]): ReturnType<typeof parseDisks> {
  return parseDisks(buildDomainXml({
    uuid: '6f1c2a47-9d0e-4c1b-8a55-0b7f3e2d1c00', displayName: 'x', vcpus: 1, maxVcpus: 1, memoryMiB: 128, domainType: 'qemu',
    boot: { kind: 'disk' }, disks: list, nics: [], consoleLog: '/c', metadata: {},
  }));
}

describe('snapshot plan', () => {
  const all = disks([
    { target: 'vda', path: '/i/disk', format: 'qcow2', role: 'root' },
    { target: 'vdb', path: '/i/disk.eph0', format: 'raw', role: 'ephemeral' },
    { target: 'vdc', path: '/dev/sdx', format: 'raw', role: 'volume', sourceType: 'block' },
    { target: 'vdd', path: '/i/ro', format: 'raw', role: 'volume', readonly: true },
    { target: 'sda', path: '/i/disk.config', format: 'raw', role: 'config', device: 'cdrom', bus: 'sata' },
  ]);

  test('external qcow2 overlays next to writable file disks only; everything else snapshot=no', () => {
    const p = planSnapshot(all, 's1');
    assert.deepEqual(p.overlays, { vda: '/i/disk.s1.overlay.qcow2', vdb: '/i/disk.eph0.s1.overlay.qcow2' });
    assert.deepEqual(p.fresh, ['/i/disk.s1.overlay.qcow2', '/i/disk.eph0.s1.overlay.qcow2']);
    assert.equal(p.xml, "<domainsnapshot><name>s1</name><disks>" +
      "<disk name='vda' snapshot='external'><driver type='qcow2'/><source file='/i/disk.s1.overlay.qcow2'/></disk>" +
      "<disk name='vdb' snapshot='external'><driver type='qcow2'/><source file='/i/disk.eph0.s1.overlay.qcow2'/></disk>" +
      "<disk name='vdc' snapshot='no'/><disk name='vdd' snapshot='no'/><disk name='sda' snapshot='no'/></disks></domainsnapshot>");
  });

  test('re-driven: disks already on this snapshot\'s overlay are kept, nothing to do when all are', () => {
    const after = disks([{ target: 'vda', path: '/i/disk.s1.overlay.qcow2', format: 'qcow2', role: 'root' }]);
    assert.deepEqual(planSnapshot(after, 's1'), { xml: null, overlays: { vda: '/i/disk.s1.overlay.qcow2' }, fresh: [] });
    // a different snapshot name stacks a new overlay
    assert.deepEqual(planSnapshot(after, 's2').fresh, ['/i/disk.s1.overlay.qcow2.s2.overlay.qcow2']);
  });
});
