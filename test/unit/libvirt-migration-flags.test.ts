/**
 * The flags virDomainMigrateToURI3 gets: Nova's live flags, except that a TCG guest (`<domain type='qemu'>`) is
 * paused for the copy when the agent asks for it (QEMU 7.2's TCG loses pages written during a live copy).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DomainMigrateFlags, type LibvirtDomain } from '../../src/virt/libvirt/index.js';
import { migrate, NOVA_LIVE_FLAGS } from '../../src/virt/libvirt-hypervisor/migration.js';

/** just enough of a domain for migrate(): its XML, and the flags it was migrated with */
function domainOf(type: 'qemu' | 'kvm'): { dom: LibvirtDomain; flags: () => number } {
  let flags = -1;
  const xml = `<domain type='${type}' id='3'><name>novalet-x</name><uuid>x</uuid><devices>
    <disk type='file' device='disk'><source file='/var/lib/novalet/instances/x/disk'/><target dev='vda' bus='virtio'/></disk>
  </devices></domain>`;
  const dom = {
    getXMLDesc: async () => xml,
    migrateToURI3: async (_uri: string, _params: unknown, f: number) => { flags = f; },
  } as unknown as LibvirtDomain;
  return { dom, flags: () => flags };
}

test('a TCG guest is paused for the copy when asked; KVM guests and the default stay live', async () => {
  const cases: Array<{ type: 'qemu' | 'kvm'; pauseEmulated?: boolean; live: boolean }> = [
    { type: 'qemu', pauseEmulated: true, live: false },
    { type: 'qemu', pauseEmulated: false, live: true },
    { type: 'qemu', live: true },
    { type: 'kvm', pauseEmulated: true, live: true },
  ];
  for (const c of cases) {
    const d = domainOf(c.type);
    await migrate(d.dom, { destUri: 'qemu+tcp://10.77.0.2/system', blockMigration: true, ...(c.pauseEmulated !== undefined ? { pauseEmulated: c.pauseEmulated } : {}) });
    const f = d.flags();
    assert.equal((f & DomainMigrateFlags.LIVE) !== 0, c.live, JSON.stringify(c));
    // everything else of Nova's flags stays, and the local disk is still block-copied
    assert.equal(f & ~DomainMigrateFlags.LIVE & NOVA_LIVE_FLAGS, NOVA_LIVE_FLAGS & ~DomainMigrateFlags.LIVE, JSON.stringify(c));
    assert.ok(f & DomainMigrateFlags.NON_SHARED_INC, JSON.stringify(c));
  }
});
