/**
 * Reads back from libvirt domain XML what novalet needs: whether the domain is novalet's (and its display
 * name and metadata), its disks and NICs by alias, and the whole DomainSpec where it can be recovered.
 */
import { domainNameFor, type DiskSpec, type DomainSpec, type DomainType, type NicSpec } from '../hypervisor.js';
import { NOVALET_PREFIX, NOVALET_XMLNS, parseDiskAlias, parseNicAlias } from './names.js';
import { devicesOf, findAll, findFirst, textOf, xmlUnescape } from './xml.js';

export interface ParsedDisk {
  target: string;
  /** file path or block device; '' for an empty cdrom */
  path: string;
  sourceType: string;
  device: string;
  bus: string | undefined;
  format: string | undefined;
  readonly: boolean;
  alias: string | undefined;
  /** from the novalet alias; undefined for disks novalet did not attach */
  role: DiskSpec['role'] | undefined;
  serial: string | undefined;
  /** immediate backing file as libvirt reports it (live XML of a running domain) */
  backingPath: string | undefined;
  /** the `<disk>` element as libvirt wrote it */
  raw: string;
}

export interface ParsedNic {
  type: string;
  mac: string | undefined;
  alias: string | undefined;
  /** from a 'ua-<portId>' alias */
  portId: string | undefined;
  /** network / bridge name, or tap device for type 'ethernet' */
  source: string | undefined;
  model: string | undefined;
  raw: string;
}

export interface NovaletMetadata {
  displayName: string;
  metadata: Record<string, string>;
}

export interface ParsedDomain {
  name: string;
  uuid: string;
  type: string;
  /** null when the XML carries no novalet metadata element */
  novalet: NovaletMetadata | null;
  disks: ParsedDisk[];
  nics: ParsedNic[];
}

/** Namespace prefix bound to the novalet URI (libvirt keeps ours, but do not rely on it). */
function novaletPrefix(xml: string): string | undefined {
  for (const m of xml.matchAll(/xmlns:([A-Za-z_][\w.-]*)\s*=\s*(?:"([^"]*)"|'([^']*)')/g)) {
    if ((m[2] ?? m[3]) === NOVALET_XMLNS) return m[1];
  }
  return undefined;
}

export function parseNovaletMetadata(xml: string): NovaletMetadata | null {
  const metadata = findFirst(xml, 'metadata')?.inner;
  if (metadata === undefined) return null;
  const p = novaletPrefix(metadata) ?? NOVALET_PREFIX;
  const inst = findFirst(metadata, `${p}:instance`);
  if (!inst || inst.attrs[`xmlns:${p}`] !== NOVALET_XMLNS) return null;
  const map: Record<string, string> = {};
  for (const m of findAll(inst.inner, `${p}:meta`)) {
    if (m.attrs['key'] !== undefined) map[m.attrs['key']] = xmlUnescape(m.inner);
  }
  const dn = findFirst(inst.inner, `${p}:displayName`);
  return { displayName: dn ? xmlUnescape(dn.inner) : '', metadata: map };
}

export function parseDisks(xml: string): ParsedDisk[] {
  return findAll(devicesOf(xml), 'disk').map((d) => {
    // <backingStore> (a nested chain) has its own <source>/<format>: read the disk's own ones without it
    const own = d.inner.replace(/<backingStore[\s\S]*<\/backingStore\s*>|<backingStore\s*\/>/, '');
    const src = findFirst(own, 'source')?.attrs ?? {};
    const backing = findFirst(d.inner, 'backingStore');
    const alias = findFirst(d.inner, 'alias')?.attrs['name'];
    const target = findFirst(d.inner, 'target')?.attrs ?? {};
    return {
      target: target['dev'] ?? '',
      path: src['file'] ?? src['dev'] ?? src['name'] ?? '',
      sourceType: d.attrs['type'] ?? 'file',
      device: d.attrs['device'] ?? 'disk',
      bus: target['bus'],
      format: findFirst(own, 'driver')?.attrs['type'],
      readonly: /<readonly\s*\/>/.test(own),
      alias,
      role: parseDiskAlias(alias)?.role,
      serial: textOf(own, 'serial'),
      backingPath: backing ? (() => { const s = findFirst(backing.inner, 'source')?.attrs ?? {}; return s['file'] ?? s['dev']; })() : undefined,
      raw: d.raw,
    };
  });
}

export function parseNics(xml: string): ParsedNic[] {
  return findAll(devicesOf(xml), 'interface').map((n) => {
    const type = n.attrs['type'] ?? '';
    const src = findFirst(n.inner, 'source')?.attrs ?? {};
    const alias = findFirst(n.inner, 'alias')?.attrs['name'];
    return {
      type,
      mac: findFirst(n.inner, 'mac')?.attrs['address'],
      alias,
      portId: parseNicAlias(alias),
      source: type === 'ethernet' ? findFirst(n.inner, 'target')?.attrs['dev'] : (src['network'] ?? src['bridge'] ?? src['dev']),
      model: findFirst(n.inner, 'model')?.attrs['type'],
      raw: n.raw,
    };
  });
}

export function parseDomainXml(xml: string): ParsedDomain {
  const root = /<domain(\s[^>]*)?>/.exec(xml);
  return {
    name: textOf(xml, 'name') ?? '',
    uuid: textOf(xml, 'uuid') ?? '',
    type: /type=['"]([^'"]+)['"]/.exec(root?.[1] ?? '')?.[1] ?? '',
    novalet: parseNovaletMetadata(xml),
    disks: parseDisks(xml),
    nics: parseNics(xml),
  };
}

/** Whether this is a novalet domain: its name is derived from its uuid and it carries novalet metadata. */
export function isNovaletDomain(p: ParsedDomain): boolean {
  return p.novalet !== null && p.name === domainNameFor(p.uuid);
}

const UNIT_TO_KIB: Record<string, number> = { b: 1 / 1024, bytes: 1 / 1024, k: 1, kib: 1, m: 1024, mib: 1024, g: 1024 * 1024, gib: 1024 * 1024 };

function memoryMiB(xml: string): number {
  const m = findFirst(xml, 'memory');
  const unit = (m?.attrs['unit'] ?? 'KiB').toLowerCase();
  return Math.round((Number(m?.inner.trim() ?? 0) * (UNIT_TO_KIB[unit] ?? 1)) / 1024);
}

/**
 * The DomainSpec a novalet domain was defined from (null for other domains). Disks and NICs novalet did not
 * attach (no novalet alias) are left out: the spec is what novalet asked for.
 */
export function domainSpecFromXml(xml: string): DomainSpec | null {
  const p = parseDomainXml(xml);
  if (!isNovaletDomain(p) || p.novalet === null) return null;
  const vcpu = findFirst(xml, 'vcpu');
  const maxVcpus = Number(vcpu?.inner.trim() ?? 1);
  const os = findFirst(xml, 'os')?.inner ?? '';
  const kernel = textOf(os, 'kernel');
  const ramdisk = textOf(os, 'initrd');
  // disks have <serial> elements too: the console is the one with a type
  const serial = findAll(devicesOf(xml), 'serial').find((e) => e.attrs['type'] !== undefined)?.inner ?? '';
  const disks: DiskSpec[] = p.disks.filter((d) => d.role !== undefined).map((d) => ({
    target: d.target,
    path: d.path,
    format: d.format === 'raw' ? 'raw' : 'qcow2',
    role: d.role!,
    bus: (d.bus ?? 'virtio') as NonNullable<DiskSpec['bus']>,
    device: d.device === 'cdrom' ? 'cdrom' : 'disk',
    readonly: d.readonly,
    sourceType: d.sourceType === 'block' ? 'block' : 'file',
    ...(d.serial !== undefined ? { volumeId: d.serial } : {}),
  }));
  const nics: NicSpec[] = p.nics.filter((n) => n.portId !== undefined).map((n) => ({
    portId: n.portId!,
    mac: n.mac ?? '',
    attachment: n.type === 'network' ? { type: 'network', network: n.source ?? '' }
      : n.type === 'bridge' ? { type: 'bridge', bridge: n.source ?? '' }
        : { type: 'ethernet', tap: n.source ?? '' },
    model: n.model === 'e1000' ? 'e1000' : 'virtio',
  }));
  return {
    uuid: p.uuid,
    displayName: p.novalet.displayName,
    vcpus: Number(vcpu?.attrs['current'] ?? maxVcpus),
    maxVcpus,
    memoryMiB: memoryMiB(xml),
    domainType: (p.type === 'kvm' ? 'kvm' : 'qemu') as DomainType,
    boot: kernel !== undefined
      ? { kind: 'kernel', kernel, ...(ramdisk !== undefined ? { ramdisk } : {}), cmdline: textOf(os, 'cmdline') ?? '' }
      : { kind: 'disk' },
    disks,
    nics,
    consoleLog: findFirst(serial, 'log')?.attrs['file'] ?? '',
    metadata: p.novalet.metadata,
  };
}
