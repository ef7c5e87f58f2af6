/**
 * The native binding against a real libvirtd and real QEMU, booting the project's test guest.
 * One guest goes through the whole life a server has: boot, pause/resume, managed save/restore,
 * disk and NIC hot-plug/unplug, ACPI shutdown. Each step is checked twice: by what the guest prints on its
 * serial console (what a user would see) and by the events the binding delivered.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { execa } from 'execa';
import {
  DomainDeviceModifyFlags, LibvirtConnection, LibvirtError, ShutdownFlags, type LibvirtDomain,
} from '../../src/virt/libvirt/index.js';
import { ConsoleLog, detectDomainType, guestDomainXml, noOsDomainXml, POWEROFF_RE } from '../support/guest.js';
import { EventRecorder } from '../support/events.js';
import {
  destroyAndUndefine, ensureGuestBuilt, ensureRootLibvirtd, isRoot, ROOT_URI, uniqueName, virsh,
} from '../support/virsh.js';

const LIVE_AND_CONFIG = DomainDeviceModifyFlags.LIVE | DomainDeviceModifyFlags.CONFIG;

function diskDeviceXml(path: string, target: string): string {
  return `<disk type='file' device='disk'><driver name='qemu' type='qcow2'/><source file='${path}'/>` +
    `<target dev='${target}' bus='virtio'/></disk>`;
}

function nicDeviceXml(network: string, mac: string): string {
  return `<interface type='network'><mac address='${mac}'/><source network='${network}'/><model type='virtio'/></interface>`;
}

/** An isolated libvirt network (bridge + dnsmasq DHCP, no forwarding) that exists only for this test run. */
function networkXml(name: string, bridge: string): string {
  return `<network><name>${name}</name><bridge name='${bridge}' stp='off'/>` +
    `<ip address='10.77.1.1' netmask='255.255.255.0'><dhcp><range start='10.77.1.10' end='10.77.1.60'/></dhcp></ip></network>`;
}

describe('libvirt binding on real QEMU', { skip: !isRoot() && 'needs root (libvirtd + QEMU)' }, () => {
  const name = uniqueName('bind');
  const network = uniqueName('net');
  const bridge = `nvb${process.pid % 100000}`;
  const dir = mkdtempSync(join(tmpdir(), 'novalet-binding-'));
  const consolePath = join(dir, 'console.log');
  const extraDisk = join(dir, 'extra.qcow2');
  const mac = '52:54:00:7e:00:01';
  let conn: LibvirtConnection;
  let dom: LibvirtDomain;
  let events: EventRecorder;
  let console_: ConsoleLog;
  let bootId = '';

  before(async () => {
    await ensureRootLibvirtd();
    await ensureGuestBuilt();
    conn = await LibvirtConnection.open(ROOT_URI);
    events = new EventRecorder(conn, name);
    const netFile = join(dir, 'network.xml');
    writeFileSync(netFile, networkXml(network, bridge));
    await virsh(ROOT_URI, ['net-create', netFile]);
    await execa('qemu-img', ['create', '-q', '-f', 'qcow2', extraDisk, '64M']);
    console_ = new ConsoleLog(consolePath);
  });

  after(async () => {
    events?.stop();
    await destroyAndUndefine(ROOT_URI, name).catch(() => undefined);
    await virsh(ROOT_URI, ['net-destroy', network]).catch(() => undefined);
    await conn?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('reports the host: node info, CPU and memory stats, capabilities', async () => {
    const node = await conn.getNodeInfo();
    assert.ok(node.cpus >= 1 && Number(node.memory) > 0);
    const cpu = await conn.getNodeCPUStats();
    assert.ok(Number(cpu['idle']) > 0 && Number(cpu['user']) > 0, JSON.stringify(cpu, (_k, v) => String(v)));
    const mem = await conn.getNodeMemoryStats();
    assert.ok(Number(mem['total']) >= Number(mem['free']) && Number(mem['free']) > 0);
    assert.ok(Number(await conn.getFreeMemory()) > 0);
    assert.match(await conn.getCapabilities(), /<arch>x86_64<\/arch>/);
  });

  it('defines and boots the guest: started/booted event, ready line, heartbeats', async () => {
    const domainType = detectDomainType(await conn.getCapabilities());
    dom = await conn.defineDomain(guestDomainXml({ name, consoleLog: consolePath, domainType }));
    await events.waitFor('lifecycle', { event: 'defined' });
    await dom.create();
    await events.waitFor('lifecycle', { event: 'started', detail: 'booted' });
    assert.equal((await dom.getState()).stateName, 'running');
    bootId = (await console_.waitForReady({ timeoutMs: 90_000 })).boot;
    const hb = await console_.waitForHeartbeat((h) => h.boot === bootId && h.seq >= 2);
    assert.deepEqual(hb.nics, [], 'the guest was defined without NICs');
  });

  it('pauses and resumes: heartbeat stops while paused and continues without a new boot', async () => {
    const since = events.mark();
    await dom.suspend();
    await events.waitFor('lifecycle', { event: 'suspended' }, { since });
    assert.equal((await dom.getState()).stateName, 'paused');
    const pausedAt = await console_.mark();
    await sleep(2500);
    assert.equal(console_.heartbeats(await console_.mark()).length, 0, 'no heartbeat while paused');
    assert.equal(console_.heartbeats(pausedAt).length, 0, 'no heartbeat while paused');
    const last = console_.heartbeats().at(-1)!;
    await dom.resume();
    await events.waitFor('lifecycle', { event: 'resumed' }, { since });
    const hb = await console_.waitForHeartbeat((h) => h.seq > last.seq, { since: pausedAt });
    assert.equal(hb.boot, bootId, 'same boot after resume');
  });

  it('managed save stops the domain and start restores it: same boot, heartbeat continues', async () => {
    const since = events.mark();
    const last = (await console_.waitForHeartbeat((h) => h.boot === bootId)).seq;
    await dom.managedSave();
    await events.waitFor('lifecycle', { event: 'stopped', detail: 'saved' }, { since });
    const state = await dom.getState();
    assert.equal(state.stateName, 'shutoff');
    assert.equal(state.reasonName, 'saved');
    assert.equal(await dom.hasManagedSaveImage(), true);
    const savedAt = await console_.mark();
    await dom.create();
    await events.waitFor('lifecycle', { event: 'started', detail: 'restored' }, { since });
    assert.equal(await dom.hasManagedSaveImage(), false, 'the save image is consumed by the restore');
    const hb = await console_.waitForHeartbeat((h) => h.seq > last, { since: savedAt });
    assert.equal(hb.boot, bootId, 'restored, not rebooted');
    assert.equal(console_.lines.slice(savedAt).some((l) => l.includes('NOVALET-READY')), false, 'no new ready line');
  });

  it('hot-plugs a qcow2 disk the guest sees, and unplugs it again', async () => {
    const since = events.mark();
    let mark = await console_.mark();
    // The guest names disks in probe order: with no other disk, target vdb appears as vda inside the guest.
    const disksBefore = (await console_.waitForHeartbeat(() => true, { since: mark })).disks;
    assert.deepEqual(disksBefore, [], 'the guest was defined without disks');
    mark = await console_.mark();
    await dom.attachDevice(diskDeviceXml(extraDisk, 'vdb'), LIVE_AND_CONFIG);
    await console_.waitForHeartbeat((h) => h.disks.length === 1, { since: mark });
    assert.match(await dom.getXMLDesc(), /extra\.qcow2/);
    mark = await console_.mark();
    await dom.detachDevice(diskDeviceXml(extraDisk, 'vdb'), LIVE_AND_CONFIG);
    const removed = await events.waitFor('deviceRemoved', {}, { since });
    assert.match(String(removed.data['alias']), /disk/);
    await console_.waitForHeartbeat((h) => h.disks.length === 0, { since: mark });
    assert.doesNotMatch(await dom.getXMLDesc(), /extra\.qcow2/);
  });

  it('hot-plugs a NIC that gets an address by DHCP, and unplugs it again', async () => {
    const since = events.mark();
    let mark = await console_.mark();
    await dom.attachDevice(nicDeviceXml(network, mac), LIVE_AND_CONFIG);
    const hb = await console_.waitForHeartbeat((h) => (h.ips['eth0'] ?? []).some((ip) => ip.startsWith('10.77.1.')), { since: mark, timeoutMs: 60_000 });
    assert.deepEqual(hb.nics, ['eth0']);
    mark = await console_.mark();
    await dom.detachDevice(nicDeviceXml(network, mac), LIVE_AND_CONFIG);
    const removed = await events.waitFor('deviceRemoved', {}, { since });
    assert.match(String(removed.data['alias']), /net/);
    await console_.waitForHeartbeat((h) => h.nics.length === 0, { since: mark });
  });

  it('surfaces libvirt errors with their code', async () => {
    await assert.rejects(dom.create(), (e: unknown) => {
      assert.ok(e instanceof LibvirtError);
      assert.equal(e.codeName, 'VIR_ERR_OPERATION_INVALID', e.message);
      assert.match(e.message, /already running/);
      return true;
    });
    await assert.rejects(conn.lookupDomainByName(`${name}-missing`), (e: unknown) => {
      assert.ok(e instanceof LibvirtError);
      assert.equal(e.codeName, 'VIR_ERR_NO_DOMAIN');
      assert.equal(e.domainName, 'VIR_FROM_QEMU');
      return true;
    });
  });

  it('shuts the guest down by ACPI: the guest sees the power button and powers off', async () => {
    const since = events.mark();
    const mark = await console_.mark();
    await dom.shutdown(ShutdownFlags.ACPI_POWER_BTN);
    await console_.waitFor(POWEROFF_RE, 30_000, mark);
    await events.waitFor('lifecycle', { event: 'stopped', detail: 'shutdown' }, { since, timeoutMs: 30_000 });
    const state = await dom.getState();
    assert.equal(state.stateName, 'shutoff');
    assert.equal(state.reasonName, 'shutdown');
  });

  it('a guest without an OS ignores the ACPI power button until destroyed', async () => {
    const noOs = `${name}-noos`;
    const domainType = detectDomainType(await conn.getCapabilities());
    const d = await conn.defineDomain(noOsDomainXml({ name: noOs, domainType }));
    try {
      await d.create();
      await d.shutdown(ShutdownFlags.ACPI_POWER_BTN);
      await sleep(5000);
      assert.equal((await d.getState()).stateName, 'running', 'no OS: the power button does nothing');
      await d.destroy();
      const state = await d.getState();
      assert.equal(state.stateName, 'shutoff');
      assert.equal(state.reasonName, 'destroyed');
    } finally {
      await destroyAndUndefine(ROOT_URI, noOs).catch(() => undefined);
    }
  });
});
