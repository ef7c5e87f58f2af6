// DomainSpec -> domain XML -> back: generation, escaping, and parsing what libvirt hands back.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import { domainNameFor, type DomainSpec } from '../../src/virt/hypervisor.js';
import {
  buildDomainXml, diskXml, domainSpecFromXml, isNovaletDomain, normalizeDomainSpec, setDiskSource, parseDomainXml, parseDiskAlias, parseNicAlias,
  xmlEscape, xmlUnescape,
} from '../../src/virt/domain-xml/index.js';

const UUID = '6f1c2a47-9d0e-4c1b-8a55-0b7f3e2d1c00';

function spec(over: Partial<DomainSpec> = {}): DomainSpec {
  return {
    uuid: UUID,
    displayName: 'web-1',
    vcpus: 1,
    maxVcpus: 4,
    memoryMiB: 128,
    domainType: 'qemu',
    boot: { kind: 'kernel', kernel: '/img/vmlinuz', ramdisk: '/img/initrd.img', cmdline: 'console=ttyS0 quiet panic=-1' },
    disks: [
      { target: 'vda', path: '/var/lib/novalet/instances/x/disk', format: 'qcow2', role: 'root', bus: 'virtio', device: 'disk', readonly: false, sourceType: 'file' },
      { target: 'vdb', path: '/dev/mapper/lun0', format: 'raw', role: 'volume', bus: 'virtio', device: 'disk', readonly: false, sourceType: 'block', volumeId: 'vol-1' },
      { target: 'sda', path: '/var/lib/novalet/instances/x/disk.config', format: 'raw', role: 'config', bus: 'sata', device: 'cdrom', readonly: true, sourceType: 'file' },
    ],
    nics: [
      { portId: 'p-1', mac: '52:54:00:00:00:01', attachment: { type: 'network', network: 'default' }, model: 'virtio' },
      { portId: 'p-2', mac: '52:54:00:00:00:02', attachment: { type: 'bridge', bridge: 'br0' }, model: 'e1000' },
      { portId: 'p-3', mac: '52:54:00:00:00:03', attachment: { type: 'ethernet', tap: 'tap123' }, model: 'virtio' },
    ],
    consoleLog: '/var/lib/novalet/instances/x/console.log',
    metadata: { flavor: 'm1.tiny', project: 'demo' },
    ...over,
  };
}

describe('domain XML generation', () => {
  test('name, uuid, vcpu/memory, direct kernel boot, lifecycle actions, console log, no balloon', () => {
    const xml = buildDomainXml(spec());
    assert.match(xml, /^<domain type='qemu'>/);
    assert.match(xml, new RegExp(`<name>novalet-${UUID}</name>`));
    assert.match(xml, new RegExp(`<uuid>${UUID}</uuid>`));
    assert.match(xml, /<vcpu placement='static' current='1'>4<\/vcpu>/);
    assert.match(xml, /<memory unit='MiB'>128<\/memory>/);
    assert.match(xml, /<kernel>\/img\/vmlinuz<\/kernel>\s*<initrd>\/img\/initrd.img<\/initrd>\s*<cmdline>console=ttyS0 quiet panic=-1<\/cmdline>/);
    assert.match(xml, /<features><acpi\/><\/features>/);
    assert.match(xml, /<on_poweroff>destroy<\/on_poweroff>\s*<on_reboot>restart<\/on_reboot>\s*<on_crash>destroy<\/on_crash>/);
    assert.match(xml, /<log file='\/var\/lib\/novalet\/instances\/x\/console.log' append='on'\/>/);
    assert.match(xml, /<memballoon model='none'\/>/);
    assert.match(xml, /<novalet:instance xmlns:novalet='https:\/\/novalet.dev\/xmlns\/instance\/1'>/);
  });

  test('kvm guests get the host CPU model (as Nova defaults to); TCG guests keep QEMU\'s', () => {
    assert.match(buildDomainXml(spec({ domainType: 'kvm' })), /^<domain type='kvm'>[\s\S]*<cpu mode='host-model'\/>/);
    assert.doesNotMatch(buildDomainXml(spec()), /<cpu/);
  });

  test('setDiskSource points a disk at another file and drops its backing chain, leaving the rest', () => {
    const xml = `<domain><devices>
    <disk type='file' device='disk'><driver name='qemu' type='qcow2'/><source file='/d/disk.s.overlay.qcow2'/>
      <backingStore type='file'><format type='qcow2'/><source file='/d/disk'/><backingStore/></backingStore>
      <target dev='vda' bus='virtio'/><alias name='ua-disk-root-vda'/></disk>
    <disk type='file' device='disk'><driver name='qemu' type='raw'/><source file='/d/other'/><target dev='vdb' bus='virtio'/></disk>
    </devices></domain>`;
    const out = setDiskSource(xml, 'vda', '/d/disk', 'qcow2');
    const [vda, vdb] = parseDomainXml(out).disks;
    assert.equal(vda?.path, '/d/disk');
    assert.equal(vda?.backingPath, undefined);
    assert.equal(vda?.alias, 'ua-disk-root-vda');
    assert.doesNotMatch(out, /backingStore|overlay/);
    assert.equal(vdb?.path, '/d/other');
    assert.throws(() => setDiskSource(xml, 'vdz', '/x', 'raw'), /no disk vdz/);
  });

  test('disk boot has a boot device and no kernel', () => {
    const xml = buildDomainXml(spec({ boot: { kind: 'disk' } }));
    assert.match(xml, /<boot dev='hd'\/>/);
    assert.doesNotMatch(xml, /<kernel>/);
  });

  test('disks: file/block, formats, cdrom readonly, volume serial, role-carrying alias', () => {
    const xml = buildDomainXml(spec());
    assert.match(xml, /<disk type='file' device='disk'>\s*<driver name='qemu' type='qcow2'\/>\s*<source file='\/var\/lib\/novalet\/instances\/x\/disk'\/>\s*<target dev='vda' bus='virtio'\/>\s*<alias name='ua-disk-root-vda'\/>/);
    assert.match(xml, /<disk type='block' device='disk'>\s*<driver name='qemu' type='raw' cache='none'\/>\s*<source dev='\/dev\/mapper\/lun0'\/>/);
    assert.match(xml, /<serial>vol-1<\/serial>/);
    assert.match(xml, /<disk type='file' device='cdrom'>[\s\S]*<target dev='sda' bus='sata'\/>\s*<readonly\/>/);
  });

  test('a file disk\'s cache mode is written when given; a block device is always cache=none', () => {
    const base = spec();
    const xml = buildDomainXml({ ...base, disks: base.disks.map((d) => ({ ...d, cache: 'writeback' as const })) });
    assert.match(xml, /<driver name='qemu' type='qcow2' cache='writeback'\/>\s*<source file='\/var\/lib\/novalet\/instances\/x\/disk'\/>/);
    assert.match(xml, /<driver name='qemu' type='raw' cache='none'\/>\s*<source dev='\/dev\/mapper\/lun0'\/>/);
  });

  test('NICs: network, bridge, ethernet tap, alias ua-<portId>', () => {
    const xml = buildDomainXml(spec());
    assert.match(xml, /<interface type='network'>\s*<mac address='52:54:00:00:00:01'\/>\s*<source network='default'\/>\s*<model type='virtio'\/>\s*<alias name='ua-p-1'\/>/);
    assert.match(xml, /<interface type='bridge'>[\s\S]*?<source bridge='br0'\/>\s*<model type='e1000'\/>/);
    assert.match(xml, /<interface type='ethernet'>[\s\S]*?<target dev='tap123'\/>/);
  });

  test('every value is escaped', () => {
    const evil = `a'b"c<d>e&f`;
    const xml = buildDomainXml(spec({
      displayName: evil,
      metadata: { [evil]: evil },
      consoleLog: `/tmp/${evil}`,
      boot: { kind: 'kernel', kernel: `/k/${evil}`, cmdline: evil },
      disks: [{ target: 'vda', path: `/d/${evil}`, format: 'qcow2', role: 'root' }],
      nics: [{ portId: 'p', mac: '52:54:00:00:00:09', attachment: { type: 'network', network: evil } }],
    }));
    assert.ok(!xml.includes(evil));
    assert.equal((xml.match(/a&apos;b&quot;c&lt;d&gt;e&amp;f/g) ?? []).length, 8);
  });

  test('rejects values that would make invalid aliases or counts', () => {
    assert.throws(() => buildDomainXml(spec({ nics: [{ portId: 'a b', mac: 'x', attachment: { type: 'network', network: 'n' } }] })), /port id/);
    assert.throws(() => diskXml({ target: "vd'a", path: '/x', format: 'raw', role: 'root' }), /disk target/);
    assert.throws(() => buildDomainXml(spec({ vcpus: 4, maxVcpus: 2 })), /maxVcpus/);
    assert.throws(() => buildDomainXml(spec({ memoryMiB: Number.NaN })), /memoryMiB/);
  });

  test('escape/unescape are inverse, numeric entities decode', () => {
    const s = `<&>"' ü`;
    assert.equal(xmlUnescape(xmlEscape(s)), s);
    assert.equal(xmlUnescape('&#65;&#x42;'), 'AB');
  });
});

describe('domain XML parsing', () => {
  test('normalized spec fills the defaults the XML carries', () => {
    const minimal = spec({ disks: [{ target: 'vda', path: '/d', format: 'qcow2', role: 'root' }, { target: 'hdc', path: '/c', format: 'raw', role: 'config', device: 'cdrom', bus: 'ide' }],
      nics: [{ portId: 'p', mac: 'm', attachment: { type: 'network', network: 'n' } }] });
    const n = normalizeDomainSpec(minimal);
    assert.deepEqual(domainSpecFromXml(buildDomainXml(minimal)), n);
    assert.deepEqual(n.disks[1], { target: 'hdc', path: '/c', format: 'raw', role: 'config', bus: 'ide', device: 'cdrom', readonly: true, sourceType: 'file' });
    assert.equal(n.nics[0]?.model, 'virtio');
    assert.deepEqual(normalizeDomainSpec(n), n);
  });

  test('round trip: spec -> XML -> spec', () => {
    for (const s of [spec(), spec({ boot: { kind: 'disk' }, nics: [], metadata: {} }),
      spec({ displayName: `x'<>&"y`, metadata: { 'k"1': `v&<'>` } }),
      spec({ boot: { kind: 'kernel', kernel: '/k', cmdline: '' } })]) {
      assert.deepEqual(domainSpecFromXml(buildDomainXml(s)), s);
    }
  });

  // What libvirt 9.0 gives back for a defined domain: KiB units, double-quoted metadata attributes,
  // generated aliases/addresses, a backing chain in the live XML.
  const libvirtXml = `<domain type='qemu' id='3'>
  <name>novalet-${UUID}</name>
  <uuid>${UUID}</uuid>
  <metadata>
    <novalet:instance xmlns:novalet="https://novalet.dev/xmlns/instance/1">
      <novalet:displayName>a &amp; b</novalet:displayName>
      <novalet:meta key="flavor">m1.tiny</novalet:meta>
      <novalet:meta key="empty"/>
    </novalet:instance>
  </metadata>
  <memory unit='KiB'>131072</memory>
  <currentMemory unit='KiB'>131072</currentMemory>
  <vcpu placement='static' current='2'>4</vcpu>
  <os>
    <type arch='x86_64' machine='pc-i440fx-7.2'>hvm</type>
    <kernel>/img/vmlinuz</kernel>
    <cmdline>console=ttyS0</cmdline>
    <boot dev='hd'/>
  </os>
  <devices>
    <emulator>/usr/bin/qemu-system-x86_64</emulator>
    <disk type='file' device='disk'>
      <driver name='qemu' type='qcow2'/>
      <source file='/d/disk.snap1.overlay.qcow2' index='2'/>
      <backingStore type='file' index='1'>
        <format type='qcow2'/>
        <source file='/d/disk'/>
        <backingStore type='file' index='3'>
          <format type='raw'/>
          <source file='/cache/base'/>
          <backingStore/>
        </backingStore>
      </backingStore>
      <target dev='vda' bus='virtio'/>
      <alias name='ua-disk-root-vda'/>
      <address type='pci' domain='0x0000' bus='0x00' slot='0x04' function='0x0'/>
    </disk>
    <disk type='file' device='disk'>
      <driver name='qemu' type='qcow2'/>
      <source file='/x/extra.qcow2' index='1'/>
      <backingStore/>
      <target dev='vdc' bus='virtio'/>
      <readonly/>
      <alias name='virtio-disk2'/>
    </disk>
    <interface type='network'>
      <mac address='52:54:00:00:00:01'/>
      <source network='default' portid='1b2c' bridge='virbr0'/>
      <target dev='vnet3'/>
      <model type='virtio'/>
      <alias name='ua-p-1'/>
    </interface>
    <interface type='user'>
      <mac address='52:54:00:00:00:02'/>
      <model type='virtio'/>
      <alias name='net1'/>
    </interface>
    <serial type='pty'>
      <source path='/dev/pts/3'/>
      <log file='/c/console.log' append='on'/>
      <target type='isa-serial' port='0'/>
      <alias name='serial0'/>
    </serial>
  </devices>
</domain>`;

  test('metadata with double quotes and entities, disks with backing chains, NICs by alias', () => {
    const p = parseDomainXml(libvirtXml);
    assert.equal(p.name, `novalet-${UUID}`);
    assert.equal(p.uuid, UUID);
    assert.equal(p.type, 'qemu');
    assert.ok(isNovaletDomain(p));
    assert.deepEqual(p.novalet, { displayName: 'a & b', metadata: { flavor: 'm1.tiny', empty: '' } });
    assert.equal(p.disks.length, 2);
    const [vda, vdc] = p.disks;
    assert.equal(vda?.path, '/d/disk.snap1.overlay.qcow2');
    assert.equal(vda?.format, 'qcow2');
    assert.equal(vda?.backingPath, '/d/disk');
    assert.equal(vda?.target, 'vda');
    assert.equal(vda?.role, 'root');
    assert.equal(vda?.readonly, false);
    assert.equal(vdc?.role, undefined);
    assert.equal(vdc?.readonly, true);
    assert.equal(vdc?.backingPath, undefined);
    assert.equal(vdc?.alias, 'virtio-disk2');
    assert.deepEqual(p.nics.map((n) => [n.type, n.portId, n.mac, n.source]), [
      ['network', 'p-1', '52:54:00:00:00:01', 'default'], ['user', undefined, '52:54:00:00:00:02', undefined]]);
    const s = domainSpecFromXml(libvirtXml);
    assert.equal(s?.memoryMiB, 128);
    assert.equal(s?.vcpus, 2);
    assert.equal(s?.maxVcpus, 4);
    assert.equal(s?.consoleLog, '/c/console.log');
    assert.deepEqual(s?.boot, { kind: 'kernel', kernel: '/img/vmlinuz', cmdline: 'console=ttyS0' });
    assert.deepEqual(s?.disks.map((d) => d.target), ['vda'], 'only novalet-attached disks');
  });

  test('a domain without novalet metadata, or with a name not derived from its uuid, is not novalet', () => {
    const foreign = libvirtXml.replace(/<metadata>[\s\S]*<\/metadata>/, '');
    assert.equal(parseDomainXml(foreign).novalet, null);
    assert.equal(domainSpecFromXml(foreign), null);
    assert.equal(isNovaletDomain(parseDomainXml(libvirtXml.replace(`novalet-${UUID}`, 'mine'))), false);
    const otherNs = libvirtXml.replace('https://novalet.dev/xmlns/instance/1', 'https://example.com/x');
    assert.equal(parseDomainXml(otherNs).novalet, null);
  });

  test('alias helpers', () => {
    assert.deepEqual(parseDiskAlias('ua-disk-volume-vdb'), { role: 'volume', target: 'vdb' });
    assert.equal(parseDiskAlias('ua-disk-bogus-vdb'), undefined);
    assert.equal(parseNicAlias('ua-port-1'), 'port-1');
    assert.equal(parseNicAlias('net0'), undefined);
    assert.equal(parseNicAlias('ua-disk-root-vda'), undefined);
    assert.equal(domainNameFor(UUID), `novalet-${UUID}`);
  });
});
