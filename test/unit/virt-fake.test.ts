// FakeHypervisor: the state rules it shares with LibvirtHypervisor, its events, and the fault/guest controls
// the agent's unit tests rely on.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { beforeEach, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';

import { FakeHypervisor } from '../../src/virt/fake/index.js';
import { isVirtError, type VirtErrorCode } from '../../src/virt/errors.js';
import { domainNameFor, type DomainSpec, type HypervisorEvent } from '../../src/virt/hypervisor.js';
import { domainSpecFromXml, parseDomainXml } from '../../src/virt/domain-xml/index.js';

function spec(uuid: string): DomainSpec {
  return {
    uuid, displayName: 'vm', vcpus: 1, maxVcpus: 2, memoryMiB: 128, domainType: 'qemu',
    boot: { kind: 'kernel', kernel: '/k', ramdisk: '/i', cmdline: 'console=ttyS0' },
    disks: [{ target: 'vda', path: '/d/disk', format: 'qcow2', role: 'root' },
      { target: 'sda', path: '/d/disk.config', format: 'raw', role: 'config', device: 'cdrom', bus: 'sata', readonly: true }],
    nics: [], consoleLog: '/d/console.log', metadata: { flavor: 'm1.tiny' },
  };
}

async function rejectsWith(p: Promise<unknown>, code: VirtErrorCode): Promise<void> {
  await assert.rejects(p, (e: unknown) => { assert.ok(isVirtError(e), String(e)); assert.equal(e.code, code, e.message); return true; });
}

describe('FakeHypervisor', () => {
  let hv: FakeHypervisor;
  let uuid: string;
  let events: HypervisorEvent[];
  const state = async (): Promise<string> => { const s = await hv.getDomain(uuid); return `${s?.power}/${s?.libvirtState}/${s?.libvirtReason}`; };
  const settle = (): Promise<void> => sleep(20); // events are delivered asynchronously, ACPI takes 10 ms
  /** events are delivered asynchronously: wait (up to 2 s, a loaded machine) until `n` power events arrived */
  const powerEvents = async (n: number, uuidOnly?: string): Promise<void> => {
    const count = () => events.filter((e) => e.type === 'power' && (!uuidOnly || e.uuid === uuidOnly)).length;
    for (let i = 0; i < 200 && count() < n; i++) await sleep(10);
  };

  beforeEach(async () => {
    hv = new FakeHypervisor({ acpiDelayMs: 5, detachTimeoutMs: 50 });
    uuid = randomUUID();
    events = [];
    hv.onEvent((e) => events.push(e));
    await hv.define(spec(uuid));
  });

  test('define, redefine, getDomain, XML round trip, missing domains', async () => {
    assert.deepEqual(await hv.getDomain(uuid), {
      uuid, name: domainNameFor(uuid), power: 'shutdown', libvirtState: 'shutoff', libvirtReason: 'unknown', managedSave: false, managed: true,
    });
    await hv.define({ ...spec(uuid), vcpus: 2 });
    assert.equal(domainSpecFromXml(await hv.getDomainXml(uuid))?.vcpus, 2);
    assert.equal(await hv.getDomain(randomUUID()), null);
    await rejectsWith(hv.getDomainXml(randomUUID()), 'domain_not_found');
    await rejectsWith(hv.start(randomUUID()), 'domain_not_found');
    await rejectsWith(hv.define({ ...spec(randomUUID()), maxVcpus: 0 }), 'operation_failed');
  });

  test('lifecycle: start, pause, unpause, ACPI shutdown, with events and no-ops', async () => {
    await hv.start(uuid);
    await hv.start(uuid); // no-op
    assert.equal(await state(), 'running/running/booted');
    await hv.pause(uuid);
    await hv.pause(uuid);
    assert.equal(await state(), 'paused/paused/user');
    await rejectsWith(hv.start(uuid), 'invalid_state');
    await rejectsWith(hv.shutdown(uuid), 'invalid_state');
    await rejectsWith(hv.reboot(uuid, false), 'invalid_state');
    await hv.reboot(uuid, true); // a reset works on a paused domain
    await hv.unpause(uuid);
    await hv.unpause(uuid);
    await hv.shutdown(uuid);
    await settle();
    await powerEvents(4);
    assert.equal(await state(), 'shutdown/shutoff/shutdown');
    await hv.shutdown(uuid); // no-op
    await hv.destroy(uuid); // no-op
    assert.deepEqual(events.map((e) => e.type === 'power' ? `${e.power}:${e.libvirtEvent}/${e.detail}` : e.type), [
      'running:started/booted', 'paused:suspended/paused', 'running:resumed/unpaused', 'shutdown:stopped/shutdown']);
  });

  test('invalid states of a shut-off domain', async () => {
    for (const call of [() => hv.pause(uuid), () => hv.unpause(uuid), () => hv.reboot(uuid, false), () => hv.reboot(uuid, true), () => hv.managedSave(uuid)]) {
      await rejectsWith(call(), 'invalid_state');
    }
  });

  test('undefine: refused while running, no-op when missing', async () => {
    await hv.start(uuid);
    await rejectsWith(hv.undefine(uuid), 'invalid_state');
    await hv.destroy(uuid);
    assert.equal(await state(), 'shutdown/shutoff/destroyed');
    await hv.undefine(uuid);
    await hv.undefine(uuid);
    assert.equal(await hv.getDomain(uuid), null);
  });

  test('managed save and restore (same boot), of a paused domain restores paused', async () => {
    await hv.start(uuid);
    await hv.managedSave(uuid);
    await hv.managedSave(uuid); // no-op
    const s = await hv.getDomain(uuid);
    assert.equal(s?.managedSave, true);
    assert.equal(s?.libvirtReason, 'saved');
    await hv.start(uuid);
    assert.equal(await state(), 'running/running/restored');
    assert.equal(hv.boots(uuid), 1, 'a restore is not a boot');
    await hv.pause(uuid);
    await hv.managedSave(uuid);
    await hv.start(uuid);
    assert.equal((await hv.getDomain(uuid))?.power, 'paused');
    await powerEvents(7, uuid);
    // every power change has its event; a restore of a paused image is started, then suspended (as libvirt's)
    assert.deepEqual(events.filter((e) => e.type === 'power' && e.uuid === uuid).map((e) => e.type === 'power' && `${e.power}:${e.libvirtEvent}/${e.detail}`), [
      'running:started/booted', 'shutdown:stopped/saved', 'running:started/restored', 'paused:suspended/paused',
      'shutdown:stopped/saved', 'running:started/restored', 'paused:suspended/restored']);
  });

  test('reboots count as boots; a guest that ignores ACPI neither shuts down nor reboots softly', async () => {
    await hv.start(uuid);
    await hv.reboot(uuid, false);
    await settle();
    assert.equal(hv.boots(uuid), 2);
    await hv.reboot(uuid, true);
    assert.equal(hv.boots(uuid), 3);
    hv.setGuest(uuid, { ignoreAcpi: true });
    await hv.shutdown(uuid);
    await hv.reboot(uuid, false);
    await settle();
    assert.equal(await state(), 'running/running/booted');
    assert.equal(hv.boots(uuid), 3);
    await hv.destroy(uuid);
    assert.equal((await hv.getDomain(uuid))?.power, 'shutdown');
  });

  test('guest power-off and crashes', async () => {
    await hv.start(uuid);
    hv.guestPowerOff(uuid);
    assert.equal(await state(), 'shutdown/shutoff/shutdown');
    await hv.start(uuid);
    hv.crash(uuid);
    assert.equal(await state(), 'shutdown/shutoff/crashed');
    await settle();
    assert.deepEqual(events.at(-1), { type: 'power', uuid, power: 'shutdown', libvirtEvent: 'stopped', detail: 'failed' });
  });

  test('disk and NIC hot-plug: live + persistent, idempotent, deviceRemoved', async () => {
    await hv.start(uuid);
    const disk = { target: 'vdb', path: '/v/vol', format: 'raw' as const, role: 'volume' as const, sourceType: 'block' as const, volumeId: 'v1' };
    const nic = { portId: 'p1', mac: '52:54:00:00:00:01', attachment: { type: 'bridge' as const, bridge: 'br0' } };
    await hv.attachDisk(uuid, disk);
    await hv.attachDisk(uuid, disk);
    await hv.attachNic(uuid, nic);
    await hv.attachNic(uuid, nic);
    for (const inactive of [false, true]) {
      const p = parseDomainXml(await hv.getDomainXml(uuid, inactive));
      assert.deepEqual(p.disks.map((d) => d.alias), ['ua-disk-root-vda', 'ua-disk-config-sda', 'ua-disk-volume-vdb']);
      assert.deepEqual(p.nics.map((n) => n.alias), ['ua-p1']);
    }
    await hv.detachDisk(uuid, 'vdb');
    await hv.detachNic(uuid, 'p1');
    await hv.detachDisk(uuid, 'vdb');
    await hv.detachNic(uuid, 'p1');
    await settle();
    assert.deepEqual(events.filter((e) => e.type === 'deviceRemoved').map((e) => e.type === 'deviceRemoved' && e.alias), ['ua-disk-volume-vdb', 'ua-p1']);
    assert.equal(hv.spec(uuid, true)?.disks.length, 2);
    assert.equal(hv.spec(uuid)?.nics.length, 0);
  });

  test('a guest that holds devices: detach times out, persistent definition already without it', async () => {
    await hv.start(uuid);
    const nic = { portId: 'p1', mac: '52:54:00:00:00:01', attachment: { type: 'network' as const, network: 'n' } };
    await hv.attachNic(uuid, nic);
    hv.setGuest(uuid, { holdDevices: true });
    await rejectsWith(hv.detachNic(uuid, 'p1'), 'timeout');
    assert.equal(hv.spec(uuid)?.nics.length, 0);
    assert.equal(hv.spec(uuid, true)?.nics.length, 1);
    hv.setGuest(uuid, { holdDevices: false });
    await hv.detachNic(uuid, 'p1'); // the retry finishes the job
    assert.equal(hv.spec(uuid, true)?.nics.length, 0);
  });

  test('snapshotDisks / commitDisk: overlays on writable file disks, idempotent, block job events when running', async () => {
    await hv.start(uuid);
    const r = await hv.snapshotDisks(uuid, 's1');
    assert.deepEqual(r, { overlays: { vda: '/d/disk.s1.overlay.qcow2' } });
    assert.deepEqual(await hv.snapshotDisks(uuid, 's1'), r);
    assert.equal(hv.spec(uuid, true)?.disks[0]?.path, '/d/disk.s1.overlay.qcow2');
    assert.equal(hv.spec(uuid)?.disks[0]?.path, '/d/disk.s1.overlay.qcow2');
    await hv.commitDisk(uuid, 'vda');
    await hv.commitDisk(uuid, 'vda');
    await settle();
    assert.equal(hv.spec(uuid, true)?.disks[0]?.path, '/d/disk');
    assert.equal(hv.spec(uuid)?.disks[0]?.path, '/d/disk');
    assert.deepEqual(events.filter((e) => e.type === 'blockJob').map((e) => e.type === 'blockJob' && e.status), ['ready', 'completed']);
    await rejectsWith(hv.commitDisk(uuid, 'vdz'), 'operation_failed');
    await rejectsWith(hv.snapshotDisks(uuid, 'bad name'), 'operation_failed');
  });

  test('foreign domains are listed as unmanaged and cannot be edited', async () => {
    const other = randomUUID();
    hv.addForeignDomain({ uuid: other, name: 'operators-vm', running: true });
    await hv.defineXml(`<domain type='qemu'><name>another</name><uuid>${randomUUID()}</uuid></domain>`);
    const all = await hv.listDomains();
    assert.deepEqual(all.map((d) => [d.name, d.managed]).sort(), [['another', false], [domainNameFor(uuid), true], ['operators-vm', false]].sort());
    await rejectsWith(hv.attachNic(other, { portId: 'p', mac: 'm', attachment: { type: 'network', network: 'n' } }), 'operation_failed');
    await hv.defineXml(await hv.getDomainXml(uuid)); // a novalet XML (resize revert) is a redefinition
    assert.equal((await hv.getDomain(uuid))?.managed, true);
  });

  test('fault injection: fail, fail after effect, delay, hang, call log', async () => {
    hv.faults.failNext('start', 'hypervisor_unavailable');
    await rejectsWith(hv.start(uuid), 'hypervisor_unavailable');
    assert.equal((await hv.getDomain(uuid))?.power, 'shutdown', 'no effect');
    hv.faults.failAfterNext('start');
    await rejectsWith(hv.start(uuid), 'hypervisor_unavailable');
    assert.equal((await hv.getDomain(uuid))?.power, 'running', 'took effect');
    hv.faults.delayNext('pause', 30);
    const t0 = Date.now();
    await hv.pause(uuid);
    assert.ok(Date.now() - t0 >= 25);
    const hang = hv.faults.hangNext('unpause');
    let done = false;
    const p = hv.unpause(uuid).then(() => { done = true; });
    await sleep(20);
    assert.equal(done, false);
    assert.equal(hang.waiting, 1);
    hang.release();
    await p;
    assert.equal((await hv.getDomain(uuid))?.power, 'running');
    const hang2 = hv.faults.hangNext('destroy');
    const p2 = hv.destroy(uuid);
    hang2.fail();
    await rejectsWith(p2, 'timeout');
    assert.equal(hv.faults.callsOf('start').length, 2);
  });

  test('an agent restart: a new instance on the same host sees the running guest and its pending shutdown', async () => {
    await hv.start(uuid);
    await hv.shutdown(uuid);
    await hv.close();
    await rejectsWith(hv.getDomain(uuid), 'hypervisor_unavailable');
    const next = new FakeHypervisor({ host: hv.host });
    const seen: HypervisorEvent[] = [];
    next.onEvent((e) => seen.push(e));
    assert.equal((await next.getDomain(uuid))?.power, 'running');
    await settle();
    assert.equal((await next.getDomain(uuid))?.power, 'shutdown');
    const last = seen.at(-1);
    assert.ok(last?.type === 'power' && last.detail === 'shutdown', JSON.stringify(seen));
    assert.equal(events.filter((e) => e.type === 'power' && e.detail === 'shutdown').length, 0, 'the closed instance hears nothing');
  });

  test('libvirtd lost and back: calls fail with hypervisor_unavailable in between, events announce both', async () => {
    hv.disconnect('keepalive');
    await rejectsWith(hv.getDomain(uuid), 'hypervisor_unavailable');
    hv.reconnect();
    assert.ok(await hv.getDomain(uuid));
    assert.deepEqual(events, [{ type: 'connectionLost', reason: 'keepalive' }, { type: 'connectionRestored' }]);
  });
});
