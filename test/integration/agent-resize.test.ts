/**
 * The rest of the operations through the real agent on real QEMU: NIC hot-plug on an isolated network (the
 * guest gets DHCP), hard reboot, cold resize (guest reboots with the new memory; revert restores it, confirm
 * keeps it), rebuild from another image (new root disk, new boot) — each checked in libvirt and on the console.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ConsoleLog } from '../support/guest.js';
import { destroyAndUndefine, ensureGuestBuilt, ensureRootLibvirtd, isRoot, ROOT_URI, uniqueName, virsh } from '../support/virsh.js';
import { domainNameFor } from '../../src/virt/hypervisor.js';
import * as qemuImg from '../../src/virt/qemu-img.js';
import { AgentProcess, randomUUID } from './agent-process.js';

describe('agent on real QEMU: NIC, hard reboot, resize, rebuild', { skip: !isRoot() && 'needs root (libvirtd + QEMU)' }, () => {
  const agent = new AgentProcess();
  const uuid = randomUUID();
  const network = uniqueName('anet');
  const bridge = `nva${process.pid % 100000}`;
  let con: ConsoleLog;
  let boot = '';

  const run = async (kind: string, params: unknown = {}) => {
    const r = await agent.client.submit(kind as never, uuid, params as never);
    const op = await agent.waitOp(r.operation);
    assert.equal(op.state, 'succeeded', `${kind}: ${JSON.stringify(op.error)}\n${agent.log.slice(-2000)}`);
    return op;
  };
  const maxMemKiB = async () => Number(/Max memory:\s+(\d+) KiB/.exec(await virsh(ROOT_URI, ['dominfo', domainNameFor(uuid)]))?.[1]);
  const newBoot = async (mark: number) => {
    const r = await con.waitForReady({ since: mark, timeoutMs: 90_000 });
    assert.notEqual(r.boot, boot);
    boot = r.boot;
  };

  before(async () => {
    await ensureRootLibvirtd();
    await ensureGuestBuilt();
    await agent.makeImage();
    const netFile = join(agent.dir, 'net.xml');
    writeFileSync(netFile, `<network><name>${network}</name><bridge name='${bridge}' stp='off'/>` +
      `<ip address='10.77.9.1' netmask='255.255.255.0'><dhcp><range start='10.77.9.10' end='10.77.9.60'/></dhcp></ip></network>`);
    await virsh(ROOT_URI, ['net-create', netFile]);
    await agent.start();
    con = new ConsoleLog(agent.consoleLog(uuid));
    await run('spawn', { spec: agent.guestSpec(uuid) });
    boot = (await con.waitForReady({ timeoutMs: 90_000 })).boot;
  });

  after(async () => {
    await agent.stop();
    await destroyAndUndefine(ROOT_URI, domainNameFor(uuid)).catch(() => undefined);
    await virsh(ROOT_URI, ['net-destroy', network]).catch(() => undefined);
    agent.cleanup();
  });

  it('attach a NIC: the guest sees it and gets DHCP; detach: gone (live and persistent)', async () => {
    let mark = await con.mark();
    await run('attach_nic', { nic: { portId: 'port-a', mac: '52:54:00:7e:09:01', attachment: { type: 'network', network } } });
    const hb = await con.waitForHeartbeat((h) => (h.ips['eth0'] ?? []).some((ip) => ip.startsWith('10.77.9.')), { since: mark, timeoutMs: 60_000 });
    assert.deepEqual(hb.nics, ['eth0']);
    assert.match(await virsh(ROOT_URI, ['dumpxml', '--inactive', domainNameFor(uuid)]), /ua-port-a/);
    mark = await con.mark();
    await run('detach_nic', { portId: 'port-a' });
    await con.waitForHeartbeat((h) => h.nics.length === 0, { since: mark, timeoutMs: 40_000 });
    assert.doesNotMatch(await virsh(ROOT_URI, ['dumpxml', '--inactive', domainNameFor(uuid)]), /ua-port-a/);
  });

  it('hard reboot: a new boot', async () => {
    const mark = await con.mark();
    const op = await run('reboot', { hard: true });
    assert.equal((op.result as { method: string }).method, 'hard');
    await newBoot(mark);
  });

  it('resize up (running): new memory, disk grown, guest rebooted; revert restores both', async () => {
    assert.equal(await maxMemKiB(), 128 * 1024);
    let mark = await con.mark();
    await run('resize', { vcpus: 2, memoryMiB: 192, rootGiB: 1 });
    await newBoot(mark);
    assert.equal(await maxMemKiB(), 192 * 1024);
    const root = `${agent.dataDir}/instances/${uuid}/disk`;
    assert.equal((await qemuImg.info(root, { forceShare: true })).virtualSize, 1024 ** 3);
    const s = (await agent.client.getServer(uuid)).server;
    assert.deepEqual([s.status, s.resizePending, s.spec.vcpus], ['resized', true, 2]);
    mark = await con.mark();
    await run('resize_revert');
    await newBoot(mark);
    assert.equal(await maxMemKiB(), 128 * 1024);
    assert.equal((await qemuImg.info(root, { forceShare: true })).virtualSize, 32 * 1024 ** 2, 'root disk back to its old size');
    const r = (await agent.client.getServer(uuid)).server;
    assert.deepEqual([r.status, r.resizePending, r.spec.vcpus, r.power], ['active', false, 1, 'running']);
  });

  it('resize + confirm keeps the new flavor', async () => {
    const mark = await con.mark();
    await run('resize', { vcpus: 1, memoryMiB: 160 });
    await newBoot(mark);
    await run('resize_confirm');
    assert.equal(await maxMemKiB(), 160 * 1024);
    const s = (await agent.client.getServer(uuid)).server;
    assert.deepEqual([s.status, s.resizePending, s.spec.memoryMiB], ['active', false, 160]);
  });

  it('rebuild from another image: new root disk on the new base, new boot', async () => {
    const other = join(agent.dir, 'other.raw');
    await qemuImg.create(other, { format: 'raw', sizeBytes: 48 * 1024 ** 2 });
    const mark = await con.mark();
    await run('rebuild', { image: { id: 'it-other', source: other, format: 'raw' } });
    await newBoot(mark);
    const info = await qemuImg.info(`${agent.dataDir}/instances/${uuid}/disk`, { forceShare: true });
    assert.equal(info.fullBackingFile ?? info.backingFile, `${agent.dataDir}/images/it-other`);
    assert.equal((await agent.client.getServer(uuid)).server.spec.image?.id, 'it-other');
  });
});
