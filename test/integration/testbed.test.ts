/**
 * Multi-host testbed (two libvirtds in their own namespaces) and a real live migration between them.
 * Needs root. Uses virsh (not the native binding).
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, writeFileSync } from 'node:fs';
import { execa } from 'execa';
import { ConsoleLog, guestDomainXml, guestArtifacts, detectDomainType, READY_RE } from '../support/guest.js';
import { createTestbed, cleanupStaleTestbeds, isolatedNetworkXml, type Testbed } from '../support/testbed.js';
import { isRoot, uniqueName, virsh, defineXml, domState, listDomains, ensureGuestBuilt } from '../support/virsh.js';

const skip = isRoot() ? false : 'needs root (network/mount namespaces, real libvirtd + QEMU)';

describe('multi-host testbed', { skip }, () => {
  let tb: Testbed | undefined;

  before(async () => {
    await ensureGuestBuilt();
    const removed = await cleanupStaleTestbeds();
    if (removed.length) console.log(`cleaned stale testbeds: ${removed.join(' ')}`);
    const t0 = Date.now();
    tb = await createTestbed({ hosts: 2 });
    console.log(`testbed ${tb.prefix} with 2 hosts up in ${Date.now() - t0} ms`);
  });

  after(async () => {
    await tb?.destroy();
  });

  it('hosts are distinct libvirtds that can reach each other only on 10.77.0.0/24', async () => {
    const [a, b] = tb!.hosts;
    assert.ok(a && b);
    const uuidA = await virsh(a.uri, ['capabilities']);
    const uuidB = await virsh(b.uri, ['capabilities']);
    const ua = /<uuid>([^<]+)<\/uuid>/.exec(uuidA)?.[1];
    const ub = /<uuid>([^<]+)<\/uuid>/.exec(uuidB)?.[1];
    assert.ok(ua && ub && ua !== ub, `host uuids must differ: ${ua} ${ub}`);
    // B's daemon is reachable from A's namespace over TCP
    const r = await a.exec(['virsh', '-c', b.migrationUri, 'version']);
    assert.match(String(r.stdout), /libvirt/i);
    const routes = await a.exec(['ip', '-4', 'route', 'show']);
    assert.doesNotMatch(String(routes.stdout), /default/);
  });

  it('live-migrates a running guest from host A to host B without a reboot', async () => {
    const testbed = tb!;
    const [a, b] = testbed.hosts;
    assert.ok(a && b);
    const art = guestArtifacts();
    const kernel = `${testbed.sharedDir}/vmlinuz`;
    const initrd = `${testbed.sharedDir}/initrd.img`;
    copyFileSync(art.kernel, kernel);
    copyFileSync(art.initrd, initrd);
    const disk = await testbed.createSharedDisk({ name: 'root', sizeMiB: 64, format: 'qcow2' });
    const name = uniqueName('mig');
    const consoleLog = `${testbed.sharedDir}/${name}.console.log`;
    const domainType = detectDomainType(await virsh(a.uri, ['capabilities']));
    const xml = guestDomainXml({
      name, consoleLog, domainType, kernel, initrd, cmdline: art.cmdline,
      disks: [{ path: disk.device, type: 'block', format: disk.format, target: 'vda', cache: 'none' }],
    });
    await defineXml(a.uri, xml);
    const con = new ConsoleLog(consoleLog);
    await virsh(a.uri, ['start', name]);
    const { boot } = await con.waitForReady({ timeoutMs: 60_000 });
    const before = await con.waitForHeartbeat((h) => h.boot === boot && h.seq >= 2);
    assert.deepEqual(before.disks, ['vda']);

    const t0 = Date.now();
    await virsh(a.uri, ['migrate', '--live', '--p2p', '--persistent', '--undefinesource', name, b.migrationUri], { timeoutMs: 120_000 });
    const migMs = Date.now() - t0;
    console.log(`live migration of ${name} (128 MiB, TCG) took ${migMs} ms`);

    assert.equal(await domState(b.uri, name), 'running');
    assert.ok(!(await listDomains(a.uri)).includes(name), 'source definition should be gone (--undefinesource)');
    const since = await con.mark();
    const afterHb = await con.waitForHeartbeat((h) => h.seq > before.seq + 1, { since, timeoutMs: 15_000 });
    assert.equal(afterHb.boot, boot, 'boot id changed: the guest rebooted');
    assert.deepEqual(afterHb.disks, ['vda']);
    const readies = con.lines.filter((l) => READY_RE.test(l));
    assert.equal(readies.length, 1, `guest printed NOVALET-READY more than once:\n${readies.join('\n')}`);

    await virsh(b.uri, ['destroy', name]);
    assert.equal(await domState(b.uri, name), 'shut off');
  });

  it('a hot-plugged NIC on an isolated network inside a host gets DHCP', async () => {
    const testbed = tb!;
    const b = testbed.hosts[1]!;
    const netFile = `${testbed.sharedDir}/nvt-iso.xml`;
    writeFileSync(netFile, isolatedNetworkXml('nvt-iso'));
    await virsh(b.uri, ['net-create', netFile]);
    const name = uniqueName('nic');
    const consoleLog = `${testbed.sharedDir}/${name}.console.log`;
    const art = guestArtifacts();
    await defineXml(b.uri, guestDomainXml({ name, consoleLog, domainType: detectDomainType(await virsh(b.uri, ['capabilities'])), kernel: art.kernel, initrd: art.initrd }));
    const con = new ConsoleLog(consoleLog);
    await virsh(b.uri, ['start', name]);
    const { boot } = await con.waitForReady({ timeoutMs: 60_000 });
    await con.waitForHeartbeat((h) => h.boot === boot);
    const t0 = Date.now();
    await virsh(b.uri, ['attach-interface', name, 'network', 'nvt-iso', '--model', 'virtio', '--live']);
    const hb = await con.waitForHeartbeat((h) => (h.ips['eth0'] ?? []).length > 0, { timeoutMs: 30_000 });
    console.log(`NIC hot-plug to DHCP address in ${Date.now() - t0} ms: ${JSON.stringify(hb.ips)}`);
    assert.deepEqual(hb.nics, ['eth0']);
    assert.match(hb.ips['eth0']?.[0] ?? '', /^10\.77\.0\.(1[4-9]\d|200)$/);
    await virsh(b.uri, ['destroy', name]);
  });

  it('destroy() leaves no namespaces, processes or loop devices, and is idempotent', async () => {
    const testbed = tb!;
    const pids = testbed.hosts.map((h) => h.pid()).filter((p): p is number => p !== undefined);
    assert.equal(pids.length, 2);
    await testbed.destroy();
    await testbed.destroy();
    const ns = String((await execa('ip', ['netns', 'list'])).stdout);
    assert.ok(!ns.includes(testbed.prefix), `namespaces left: ${ns}`);
    for (const p of pids) assert.ok(!existsSync(`/proc/${p}`), `libvirtd ${p} still running`);
    const qemus = String((await execa('pgrep', ['-af', 'qemu-system'], { reject: false })).stdout);
    assert.ok(!qemus.includes(testbed.prefix) && !qemus.includes(testbed.sharedDir), `QEMU left: ${qemus}`);
    const loops = String((await execa('losetup', ['-l', '-n'])).stdout);
    assert.ok(!loops.includes(testbed.dir), `loop devices left: ${loops}`);
    assert.ok(!existsSync(testbed.dir));
  });
});
