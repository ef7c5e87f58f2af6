/**
 * LibvirtHypervisor on a real libvirtd + QEMU with the project's test guest. One server goes through the
 * life the agent will drive: define + start, pause, suspend (managed save) + resume, soft and hard reboot,
 * disk and NIC hot-plug, a live disk snapshot with a copy of the base and a commit back, ACPI shutdown,
 * destroy + undefine; each step is checked through the Hypervisor interface (state, events, idempotency)
 * and through what the guest prints on its serial console.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { execa } from 'execa';

import { LibvirtHypervisor } from '../../src/virt/libvirt-hypervisor/index.js';
import { domainNameFor, type DomainSpec, type HypervisorEvent, type PowerState } from '../../src/virt/hypervisor.js';
import { isVirtError } from '../../src/virt/errors.js';
import { domainSpecFromXml, normalizeDomainSpec, parseDisks } from '../../src/virt/domain-xml/index.js';
import * as qemuImg from '../../src/virt/qemu-img.js';
import { ConsoleLog, guestArtifacts, noOsDomainXml, POWEROFF_RE } from '../support/guest.js';
import {
  destroyAndUndefine, ensureGuestBuilt, ensureRootLibvirtd, isRoot, ROOT_URI, uniqueName, virsh, defineXml,
} from '../support/virsh.js';

const MiB = 1024 * 1024;

/** An isolated libvirt network (bridge + dnsmasq DHCP, no forwarding) for this run only; 10.77.2.0/24. */
function networkXml(name: string, bridge: string): string {
  return `<network><name>${name}</name><bridge name='${bridge}' stp='off'/>` +
    `<ip address='10.77.2.1' netmask='255.255.255.0'><dhcp><range start='10.77.2.10' end='10.77.2.60'/></dhcp></ip></network>`;
}

function sha(path: string): string {
  return createHash('sha256').update(readFileSync(path)).digest('hex');
}

describe('LibvirtHypervisor on real QEMU', { skip: !isRoot() && 'needs root (libvirtd + QEMU)' }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'novalet-virt-'));
  const uuid = randomUUID();
  const noOsUuid = randomUUID();
  const foreignName = uniqueName('foreign');
  const network = uniqueName('net');
  const bridge = `nvv${process.pid % 100000}`;
  const image = join(dir, 'image.raw');     // stands for a cached Glance image
  const rootDisk = join(dir, 'disk');        // qcow2 on top of it, as the agent will make it
  const extraDisk = join(dir, 'extra.qcow2');
  const consolePath = join(dir, 'console.log');
  const timings: Record<string, number> = {};
  const events: HypervisorEvent[] = [];
  let hv: LibvirtHypervisor;
  let con: ConsoleLog;
  let spec: DomainSpec;
  let boot = '';
  let loopDevice = '';

  async function timed<T>(what: string, fn: () => Promise<T>): Promise<T> {
    const t0 = performance.now();
    try { return await fn(); } finally { timings[what] = Math.round(performance.now() - t0); }
  }

  async function power(): Promise<PowerState | undefined> {
    return (await hv.getDomain(uuid))?.power;
  }

  async function waitEvent(pred: (e: HypervisorEvent) => boolean, since: number, timeoutMs = 30_000): Promise<HypervisorEvent> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const e = events.slice(since).find(pred);
      if (e) return e;
      if (Date.now() > deadline) assert.fail(`no matching event; seen: ${JSON.stringify(events.slice(since))}`);
      await sleep(50);
    }
  }

  async function rejectsWith(p: Promise<unknown>, code: string): Promise<void> {
    await assert.rejects(p, (e: unknown) => { assert.ok(isVirtError(e), String(e)); assert.equal(e.code, code, e.message); return true; });
  }

  before(async () => {
    await ensureRootLibvirtd();
    await ensureGuestBuilt();
    const a = guestArtifacts();
    hv = new LibvirtHypervisor({ uri: ROOT_URI, detachTimeoutMs: 30_000 });
    hv.onEvent((e) => { if (!('uuid' in e) || e.uuid === uuid || e.uuid === noOsUuid) events.push(e); });
    const netFile = join(dir, 'network.xml');
    writeFileSync(netFile, networkXml(network, bridge));
    await virsh(ROOT_URI, ['net-create', netFile]);
    await qemuImg.create(image, { format: 'raw', sizeBytes: 32 * MiB });
    await qemuImg.create(rootDisk, { format: 'qcow2', backing: { path: image, format: 'raw' } });
    await qemuImg.create(extraDisk, { format: 'qcow2', sizeBytes: 64 * MiB });
    con = new ConsoleLog(consolePath);
    spec = {
      uuid, displayName: 'virt test <1> & "friends"', vcpus: 1, maxVcpus: 2, memoryMiB: 128,
      domainType: (await hv.hostInfo()).domainType,
      boot: { kind: 'kernel', kernel: a.kernel, ramdisk: a.initrd, cmdline: a.cmdline },
      disks: [{ target: 'vda', path: rootDisk, format: 'qcow2', role: 'root' }],
      nics: [],
      consoleLog: consolePath,
      metadata: { flavor: 'm1.tiny', request: 'req-1' },
    };
  });

  after(async () => {
    await hv?.destroy(uuid).catch(() => undefined);
    await hv?.undefine(uuid).catch(() => undefined);
    await hv?.destroy(noOsUuid).catch(() => undefined);
    await hv?.undefine(noOsUuid).catch(() => undefined);
    await destroyAndUndefine(ROOT_URI, domainNameFor(uuid));
    await destroyAndUndefine(ROOT_URI, domainNameFor(noOsUuid));
    await destroyAndUndefine(ROOT_URI, foreignName);
    await virsh(ROOT_URI, ['net-destroy', network]).catch(() => undefined);
    if (loopDevice) await execa('losetup', ['-d', loopDevice]).catch(() => undefined);
    await hv?.close();
    rmSync(dir, { recursive: true, force: true });
    console.log(`timings (ms): ${JSON.stringify(timings)}`);
  });

  it('reports host facts', async () => {
    const h = await timed('hostInfo', () => hv.hostInfo());
    assert.ok(h.cpus >= 1 && h.memoryMiB > 0 && h.freeMemoryMiB > 0);
    assert.match(h.hostUuid, /^[0-9a-f-]{36}$/);
    assert.match(h.libvirtVersion, /^\d+\.\d+\.\d+$/);
    assert.ok(h.domainType === 'qemu' || h.domainType === 'kvm');
    // the ImagePropertiesFilter's input: libvirt's name of this machine's architecture
    assert.equal(h.arch, { x64: 'x86_64', arm64: 'aarch64' }[process.arch as string] ?? process.arch);
  });

  it('defines (twice: a redefinition) and starts: guest ready, running, managed, power event', async () => {
    assert.equal(await hv.getDomain(uuid), null, 'missing domain -> null');
    await timed('define', () => hv.define(spec));
    await hv.define(spec);
    assert.deepEqual(domainSpecFromXml(await hv.getDomainXml(uuid, true)), normalizeDomainSpec(spec), 'libvirt keeps what we defined');
    const st = await hv.getDomain(uuid);
    assert.deepEqual(st, {
      uuid, name: domainNameFor(uuid), power: 'shutdown', libvirtState: 'shutoff', libvirtReason: 'unknown',
      managedSave: false, managed: true,
    });
    const since = events.length;
    await timed('start', () => hv.start(uuid));
    await waitEvent((e) => e.type === 'power' && e.power === 'running' && e.libvirtEvent === 'started', since);
    boot = (await timed('start->ready', () => con.waitForReady({ timeoutMs: 90_000 }))).boot;
    await con.waitForHeartbeat((h) => h.boot === boot && h.disks.join() === 'vda');
    assert.equal(await power(), 'running');
    await hv.start(uuid); // no-op
    const xml = await hv.getDomainXml(uuid);
    assert.match(xml, /novalet:displayName>virt test &lt;1&gt; &amp; "friends"</);
  });

  it('pauses and unpauses: heartbeat stops and continues in the same boot', async () => {
    await timed('pause', () => hv.pause(uuid));
    await hv.pause(uuid); // no-op
    assert.equal(await power(), 'paused');
    await rejectsWith(hv.reboot(uuid, false), 'invalid_state');
    await rejectsWith(hv.start(uuid), 'invalid_state');
    await rejectsWith(hv.shutdown(uuid), 'invalid_state');
    const mark = await con.mark();
    await sleep(2500);
    assert.equal(con.heartbeats(await con.mark()).length + con.heartbeats(mark).length, 0, 'no heartbeat while paused');
    await timed('unpause', () => hv.unpause(uuid));
    await hv.unpause(uuid); // no-op
    const hb = await con.waitForHeartbeat(() => true, { since: mark });
    assert.equal(hb.boot, boot);
  });

  it('managed save and start: suspended with an image, then resumed in the same boot', async () => {
    await timed('managedSave', () => hv.managedSave(uuid));
    const st = await hv.getDomain(uuid);
    assert.equal(st?.power, 'shutdown');
    assert.equal(st?.libvirtReason, 'saved');
    assert.equal(st?.managedSave, true);
    await hv.managedSave(uuid); // no-op: already saved
    const mark = await con.mark();
    await timed('start (restore)', () => hv.start(uuid));
    assert.equal((await hv.getDomain(uuid))?.managedSave, false);
    const hb = await con.waitForHeartbeat(() => true, { since: mark });
    assert.equal(hb.boot, boot, 'restored, not rebooted');
  });

  it('soft reboot: ACPI, new boot; hard reboot: new boot', async () => {
    let mark = await con.mark();
    const t0 = performance.now();
    await hv.reboot(uuid, false);
    await con.waitFor(POWEROFF_RE, 30_000, mark);
    const soft = await con.waitForReady({ since: mark, timeoutMs: 60_000 });
    timings['soft reboot->ready'] = Math.round(performance.now() - t0);
    assert.notEqual(soft.boot, boot);
    mark = await con.mark();
    const t1 = performance.now();
    await hv.reboot(uuid, true);
    const hard = await con.waitForReady({ since: mark, timeoutMs: 60_000 });
    timings['hard reboot->ready'] = Math.round(performance.now() - t1);
    assert.notEqual(hard.boot, soft.boot);
    boot = hard.boot;
    await con.waitForHeartbeat((h) => h.boot === boot);
  });

  it('attaches and detaches a qcow2 disk, live and persistent, idempotently', async () => {
    const disk = { target: 'vdb', path: extraDisk, format: 'qcow2' as const, role: 'volume' as const, volumeId: 'vol-extra' };
    let mark = await con.mark();
    await timed('attachDisk', () => hv.attachDisk(uuid, disk));
    await hv.attachDisk(uuid, disk); // no-op
    await con.waitForHeartbeat((h) => h.boot === boot && h.disks.length === 2, { since: mark });
    for (const inactive of [false, true]) {
      assert.ok(parseDisks(await hv.getDomainXml(uuid, inactive)).some((d) => d.alias === 'ua-disk-volume-vdb'));
    }
    mark = await con.mark();
    const since = events.length;
    await timed('detachDisk', () => hv.detachDisk(uuid, 'vdb'));
    await waitEvent((e) => e.type === 'deviceRemoved' && e.alias === 'ua-disk-volume-vdb', since);
    await hv.detachDisk(uuid, 'vdb'); // no-op
    await con.waitForHeartbeat((h) => h.disks.length === 1, { since: mark });
    for (const inactive of [false, true]) assert.doesNotMatch(await hv.getDomainXml(uuid, inactive), /extra\.qcow2/);
  });

  it('attaches and detaches a block device (a loop device standing for a LUN)', async () => {
    const lunFile = join(dir, 'lun.raw');
    await qemuImg.create(lunFile, { format: 'raw', sizeBytes: 16 * MiB });
    loopDevice = (await execa('losetup', ['-f', '--show', lunFile])).stdout.trim();
    const disk = { target: 'vdc', path: loopDevice, format: 'raw' as const, role: 'volume' as const, sourceType: 'block' as const, volumeId: 'lun-1' };
    let mark = await con.mark();
    await hv.attachDisk(uuid, disk);
    await con.waitForHeartbeat((h) => h.disks.length === 2, { since: mark });
    const vdc = parseDisks(await hv.getDomainXml(uuid)).find((d) => d.target === 'vdc');
    assert.equal(vdc?.sourceType, 'block');
    assert.equal(vdc?.serial, 'lun-1');
    mark = await con.mark();
    await hv.detachDisk(uuid, 'vdc');
    await con.waitForHeartbeat((h) => h.disks.length === 1, { since: mark });
  });

  it('attaches NICs on an isolated network and on its bridge (guest gets DHCP on both) and detaches them', async () => {
    const nic = { portId: 'port-1', mac: '52:54:00:7e:02:01', attachment: { type: 'network' as const, network } };
    const nic2 = { portId: 'port-2', mac: '52:54:00:7e:02:02', attachment: { type: 'bridge' as const, bridge } };
    let mark = await con.mark();
    await timed('attachNic', () => hv.attachNic(uuid, nic));
    await hv.attachNic(uuid, nic); // no-op
    await hv.attachNic(uuid, nic2);
    const onNet = (h: { ips: Record<string, string[]> }, i: string): boolean => (h.ips[i] ?? []).some((ip) => ip.startsWith('10.77.2.'));
    const hb = await con.waitForHeartbeat((h) => onNet(h, 'eth0') && onNet(h, 'eth1'), { since: mark, timeoutMs: 60_000 });
    assert.deepEqual(hb.nics, ['eth0', 'eth1']);
    mark = await con.mark();
    await timed('detachNic', () => hv.detachNic(uuid, 'port-1'));
    await hv.detachNic(uuid, 'port-1'); // no-op
    await hv.detachNic(uuid, 'port-2');
    await con.waitForHeartbeat((h) => h.nics.length === 0, { since: mark });
    for (const inactive of [false, true]) assert.doesNotMatch(await hv.getDomainXml(uuid, inactive), /ua-port-/);
  });

  it('snapshots the disks live, copies the base with convert -U, commits the overlay back', async () => {
    const imageHash = sha(image);
    const { overlays } = await timed('snapshotDisks', () => hv.snapshotDisks(uuid, 'snap1'));
    assert.deepEqual(overlays, { vda: `${rootDisk}.snap1.overlay.qcow2` });
    assert.deepEqual(await hv.snapshotDisks(uuid, 'snap1'), { overlays }, 're-driven: same overlays, nothing new');
    assert.equal(parseDisks(await hv.getDomainXml(uuid)).find((d) => d.target === 'vda')?.path, overlays['vda']);
    const copy = join(dir, 'snapshot.qcow2');
    await timed('convert -U', () => qemuImg.convert(rootDisk, copy, { outFormat: 'qcow2', srcFormat: 'qcow2', forceShare: true }));
    assert.deepEqual(await qemuImg.check(copy), { errors: 0, leaks: 0, corruptions: 0 });
    assert.equal((await qemuImg.info(copy)).backingFile, undefined);
    const mark = await con.mark();
    const since = events.length;
    await timed('commitDisk (active)', () => hv.commitDisk(uuid, 'vda'));
    await hv.commitDisk(uuid, 'vda'); // no-op: not on an overlay any more
    assert.ok(events.slice(since).some((e) => e.type === 'blockJob' && e.disk === 'vda'), 'block job events delivered');
    for (const inactive of [false, true]) {
      const vda = parseDisks(await hv.getDomainXml(uuid, inactive)).find((d) => d.target === 'vda');
      assert.equal(vda?.path, rootDisk, `${inactive ? 'persistent' : 'live'} XML back on the disk`);
    }
    assert.equal(existsSync(overlays['vda']!), false, 'overlay removed');
    assert.equal(sha(image), imageHash, 'shallow commit: the image under the disk is untouched');
    assert.equal(await power(), 'running');
    const hb = await con.waitForHeartbeat(() => true, { since: mark });
    assert.equal(hb.boot, boot, 'guest kept running');
  });

  it('snapshot and commit while paused', async () => {
    await hv.pause(uuid);
    const { overlays } = await hv.snapshotDisks(uuid, 'paused');
    await timed('commitDisk (paused)', () => hv.commitDisk(uuid, 'vda'));
    assert.equal(parseDisks(await hv.getDomainXml(uuid)).find((d) => d.target === 'vda')?.path, rootDisk);
    assert.equal(existsSync(overlays['vda']!), false);
    const mark = await con.mark();
    await hv.unpause(uuid);
    assert.equal((await con.waitForHeartbeat(() => true, { since: mark })).boot, boot);
  });

  it('shuts down by ACPI; then the state rules of a shut-off domain', async () => {
    const mark = await con.mark();
    const since = events.length;
    const t0 = performance.now();
    await hv.shutdown(uuid);
    await con.waitFor(POWEROFF_RE, 30_000, mark);
    await waitEvent((e) => e.type === 'power' && e.power === 'shutdown' && e.libvirtEvent === 'stopped', since);
    timings['shutdown->off'] = Math.round(performance.now() - t0);
    const st = await hv.getDomain(uuid);
    assert.equal(st?.power, 'shutdown');
    assert.equal(st?.libvirtReason, 'shutdown');
    await hv.shutdown(uuid); // no-op
    await hv.destroy(uuid); // no-op
    await rejectsWith(hv.pause(uuid), 'invalid_state');
    await rejectsWith(hv.unpause(uuid), 'invalid_state');
    await rejectsWith(hv.reboot(uuid, true), 'invalid_state');
    await rejectsWith(hv.managedSave(uuid), 'invalid_state');
  });

  it('snapshot and commit of a shut-off domain (qemu-img commit, persistent XML rewritten)', async () => {
    const { overlays } = await timed('snapshotDisks (offline)', () => hv.snapshotDisks(uuid, 'cold'));
    assert.equal(parseDisks(await hv.getDomainXml(uuid, true)).find((d) => d.target === 'vda')?.path, overlays['vda']);
    await timed('commitDisk (offline)', () => hv.commitDisk(uuid, 'vda'));
    assert.equal(parseDisks(await hv.getDomainXml(uuid, true)).find((d) => d.target === 'vda')?.path, rootDisk);
    assert.equal(existsSync(overlays['vda']!), false);
  });

  it('a domain without an OS ignores the ACPI shutdown and never releases a hot-unplugged disk', async () => {
    await hv.define({ ...spec, uuid: noOsUuid, displayName: 'no os', memoryMiB: 64, boot: { kind: 'disk' }, disks: [], consoleLog: join(dir, 'noos.log') });
    await hv.start(noOsUuid);
    await hv.shutdown(noOsUuid);
    // no OS to answer the unplug request either: the detach times out, the persistent definition is already without it
    const impatient = new LibvirtHypervisor({ uri: ROOT_URI, detachTimeoutMs: 2000 });
    try {
      await impatient.attachDisk(noOsUuid, { target: 'vdb', path: extraDisk, format: 'qcow2', role: 'ephemeral' });
      await rejectsWith(timed('detachDisk (timeout)', () => impatient.detachDisk(noOsUuid, 'vdb')), 'timeout');
      assert.match(await hv.getDomainXml(noOsUuid), /ua-disk-ephemeral-vdb/);
      assert.doesNotMatch(await hv.getDomainXml(noOsUuid, true), /ua-disk-ephemeral-vdb/);
    } finally {
      await impatient.close();
    }
    await sleep(1000); // the power button was pressed > 3 s ago
    assert.equal((await hv.getDomain(noOsUuid))?.power, 'running', 'power button ignored');
    await timed('destroy', () => hv.destroy(noOsUuid));
    const st = await hv.getDomain(noOsUuid);
    assert.equal(st?.power, 'shutdown');
    assert.equal(st?.libvirtReason, 'destroyed');
  });

  it('lists novalet and foreign domains; a killed QEMU is a crash; undefine leaves nothing and is idempotent', async () => {
    await defineXml(ROOT_URI, noOsDomainXml({ name: foreignName, uuid: randomUUID() }));
    const all = await hv.listDomains();
    assert.equal(all.find((d) => d.name === foreignName)?.managed, false);
    assert.equal(all.find((d) => d.uuid === uuid)?.managed, true);
    await hv.start(uuid);
    await rejectsWith(hv.undefine(uuid), 'invalid_state');
    // QEMU dies (killed by its pid, as the OOM killer would): shut off, reason crashed, event detail failed
    const since = events.length;
    const pid = Number(readFileSync(`/run/libvirt/qemu/${domainNameFor(uuid)}.pid`, 'utf8').trim());
    assert.ok(pid > 1);
    process.kill(pid, 'SIGKILL');
    await waitEvent((e) => e.type === 'power' && e.libvirtEvent === 'stopped', since);
    const st = await hv.getDomain(uuid);
    assert.equal(st?.power, 'shutdown');
    assert.equal(st?.libvirtReason, 'crashed');
    assert.ok(events.slice(since).some((e) => e.type === 'power' && e.detail === 'failed'), JSON.stringify(events.slice(since)));
    await hv.destroy(uuid); // no-op
    await timed('undefine', () => hv.undefine(uuid));
    await hv.undefine(uuid); // no-op
    await hv.undefine(noOsUuid);
    assert.equal(await hv.getDomain(uuid), null);
    await rejectsWith(hv.start(uuid), 'domain_not_found');
    await rejectsWith(hv.getDomainXml(uuid), 'domain_not_found');
    const names = (await hv.listDomains()).map((d) => d.name);
    assert.ok(!names.includes(domainNameFor(uuid)) && !names.includes(domainNameFor(noOsUuid)));
  });
});
