/**
 * DomainSpec -> libvirt domain XML. Every value is escaped; the novalet metadata element marks the domain
 * as novalet-managed and carries the display name and the metadata map (parse.ts reads them back).
 */
import { domainNameFor, type CephSecret, type DiskSpec, type DomainSpec, type NicSpec } from '../hypervisor.js';
import { checkAliasPart, diskAlias, nicAlias, NOVALET_PREFIX, NOVALET_XMLNS } from './names.js';
import { xmlEscape as e } from './xml.js';

/** an rbd network disk: QEMU reaches the monitors itself, authenticated by the cephx key in a libvirt secret */
function rbdSource(d: DiskSpec): string[] {
  const r = d.rbd;
  if (!r) throw new Error(`disk ${d.target}: a network disk needs its rbd source`);
  return [
    `  <source protocol='rbd' name='${e(d.path)}'>`,
    ...r.hosts.map((h) => `    <host name='${e(h.name)}'${h.port !== undefined ? ` port='${h.port}'` : ''}/>`),
    '  </source>',
    `  <auth username='${e(r.user)}'>`,
    `    <secret type='ceph' uuid='${e(r.secretUuid)}'/>`,
    '  </auth>',
  ];
}

/** a ceph secret's definition (private: libvirt never hands its value out) */
export function cephSecretXml(s: CephSecret): string {
  return `<secret ephemeral='no' private='yes'><uuid>${e(s.uuid)}</uuid><usage type='ceph'><name>client.${e(s.user)} secret ${e(s.uuid)}</name></usage></secret>`;
}

export function diskXml(d: DiskSpec): string {
  checkAliasPart('disk target', d.target);
  const sourceType = d.sourceType ?? 'file';
  const device = d.device ?? 'disk';
  // block devices (shared LUNs) are opened with cache=none: required for live migration without copy
  const mode = sourceType === 'block' ? 'none' : d.cache;
  const cache = mode !== undefined ? ` cache='${e(mode)}'` : '';
  const lines = [
    `<disk type='${sourceType}' device='${device}'>`,
    `  <driver name='qemu' type='${e(d.format)}'${cache}/>`,
    ...(sourceType === 'network' ? rbdSource(d) : [`  <source ${sourceType === 'block' ? 'dev' : 'file'}='${e(d.path)}'/>`]),
    `  <target dev='${e(d.target)}' bus='${e(d.bus ?? 'virtio')}'/>`,
  ];
  if (d.readonly || device === 'cdrom') lines.push('  <readonly/>');
  // the volume id as serial lets the guest find the volume under /dev/disk/by-id, as with Nova
  if (d.volumeId !== undefined) lines.push(`  <serial>${e(d.volumeId)}</serial>`);
  lines.push(`  <alias name='${e(diskAlias(d.role, d.target))}'/>`, '</disk>');
  return lines.join('\n');
}

export function nicXml(n: NicSpec): string {
  checkAliasPart('port id', n.portId);
  const a = n.attachment;
  const lines = [`<interface type='${a.type}'>`, `  <mac address='${e(n.mac)}'/>`];
  if (a.type === 'network') lines.push(`  <source network='${e(a.network)}'/>`);
  else if (a.type === 'bridge') lines.push(`  <source bridge='${e(a.bridge)}'/>`);
  else lines.push(`  <target dev='${e(a.tap)}'/>`);
  if (a.type === 'bridge' && n.tap !== undefined) lines.push(`  <target dev='${e(n.tap)}'/>`);
  if (n.mtu !== undefined) {
    if (!Number.isSafeInteger(n.mtu) || n.mtu < 68) throw new Error(`nic ${n.portId}: bad mtu ${n.mtu}`);
    lines.push(`  <mtu size='${n.mtu}'/>`);
  }
  lines.push(`  <model type='${e(n.model ?? 'virtio')}'/>`, `  <alias name='${e(nicAlias(n.portId))}'/>`, '</interface>');
  return lines.join('\n');
}

function indent(block: string, by: string): string {
  return block.split('\n').map((l) => by + l).join('\n');
}

function metadataXml(spec: DomainSpec): string {
  const p = NOVALET_PREFIX;
  const entries = Object.entries(spec.metadata)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([k, v]) => `\n      <${p}:meta key='${e(k)}'>${e(v)}</${p}:meta>`).join('');
  return `  <metadata>
    <${p}:instance xmlns:${p}='${NOVALET_XMLNS}'>
      <${p}:displayName>${e(spec.displayName)}</${p}:displayName>${entries}
    </${p}:instance>
  </metadata>`;
}

function osXml(spec: DomainSpec): string {
  const type = `    <type arch='x86_64' machine='pc'>hvm</type>`;
  if (spec.boot.kind === 'disk') return `  <os>\n${type}\n    <boot dev='hd'/>\n  </os>`;
  const b = spec.boot;
  return [
    '  <os>', type,
    `    <kernel>${e(b.kernel)}</kernel>`,
    ...(b.ramdisk !== undefined ? [`    <initrd>${e(b.ramdisk)}</initrd>`] : []),
    `    <cmdline>${e(b.cmdline)}</cmdline>`,
    '  </os>',
  ].join('\n');
}

export function buildDomainXml(spec: DomainSpec): string {
  for (const [k, v] of [['vcpus', spec.vcpus], ['maxVcpus', spec.maxVcpus], ['memoryMiB', spec.memoryMiB]] as const) {
    if (!Number.isSafeInteger(v) || v < 1) throw new Error(`${k} must be a positive integer, got ${v}`);
  }
  if (spec.maxVcpus < spec.vcpus) throw new Error(`maxVcpus ${spec.maxVcpus} < vcpus ${spec.vcpus}`);
  const devices = [
    ...spec.disks.map(diskXml),
    ...spec.nics.map(nicXml),
    // the serial console is logged to a file: the console log Nova shows, and what tests read
    `<serial type='pty'>\n  <log file='${e(spec.consoleLog)}' append='on'/>\n  <target port='0'/>\n</serial>`,
    `<console type='pty'>\n  <target type='serial' port='0'/>\n</console>`,
    // no balloon: memory is fixed per flavor, and the balloon costs a PCI slot and a driver in the guest
    `<memballoon model='none'/>`,
  ];
  return `<domain type='${e(spec.domainType)}'>
  <name>${e(domainNameFor(spec.uuid))}</name>
  <uuid>${e(spec.uuid)}</uuid>
${metadataXml(spec)}
  <memory unit='MiB'>${spec.memoryMiB}</memory>
  <currentMemory unit='MiB'>${spec.memoryMiB}</currentMemory>
  <vcpu placement='static' current='${spec.vcpus}'>${spec.maxVcpus}</vcpu>
${osXml(spec)}
  <features><acpi/></features>${spec.domainType === 'kvm' ? "\n  <cpu mode='host-model'/>" : ''}
  <clock offset='utc'/>
  <on_poweroff>destroy</on_poweroff>
  <on_reboot>restart</on_reboot>
  <on_crash>destroy</on_crash>
  <devices>
${indent(devices.join('\n'), '    ')}
  </devices>
</domain>
`;
}
