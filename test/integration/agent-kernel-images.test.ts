/**
 * AMI-style images on real QEMU: the test guest's own kernel and initramfs given as images (id + source, like
 * Nova's kernel_id / ramdisk_id) instead of host paths. The agent caches them like base images and the guest
 * boots from the cached copies (READY on its console).
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ConsoleLog, guestArtifacts } from '../support/guest.js';
import { isRoot, ROOT_URI, virsh } from '../support/virsh.js';
import { domainNameFor } from '../../src/virt/hypervisor.js';
import { randomUUID, suiteAgent } from './agent-process.js';

describe('agent on real QEMU: kernel and ramdisk as images', { skip: !isRoot() && 'needs root (libvirtd + QEMU)' }, () => {
  const uuid = randomUUID();
  const agent = suiteAgent([uuid]);

  it('boots the guest from the cached kernel and ramdisk images', async () => {
    const a = guestArtifacts();
    const boot = { kind: 'kernel' as const, kernel: { id: 'it-aki', source: a.kernel }, ramdisk: { id: 'it-ari', source: a.initrd }, cmdline: a.cmdline };
    const r = await agent.client.submit('spawn', uuid, { spec: agent.guestSpec(uuid, { boot }) });
    const op = await agent.waitOp(r.operation);
    assert.equal(op.state, 'succeeded', `${JSON.stringify(op.error)}\n${agent.log.slice(-2000)}`);
    const xml = await virsh(ROOT_URI, ['dumpxml', domainNameFor(uuid)]);
    assert.match(xml, new RegExp(`<kernel>${agent.dataDir}/images/it-aki</kernel>`));
    assert.match(xml, new RegExp(`<initrd>${agent.dataDir}/images/it-ari</initrd>`));
    await new ConsoleLog(agent.consoleLog(uuid)).waitForReady({ timeoutMs: 90_000 });
    const d = await agent.client.submit('destroy', uuid, {});
    assert.equal((await agent.waitOp(d.operation)).state, 'succeeded');
  });
});
