import { join } from 'node:path';
import type { BootSpec as VirtBootSpec, CephSecret, DiskCache, DiskSpec, RbdDiskSource, DomainSpec, DomainType, NicSpec as VirtNicSpec } from '../../virt/hypervisor.js';
import type { ExtraDisk, ImageRef, NicSpec, RbdSource, ServerSpec } from '../../rpc/protocol/server-spec.js';
import type { AgentPaths } from '../config.js';

/** Host-side file layout of one server (all under its instance dir, so destroy can remove the dir). */
export function serverFiles(paths: AgentPaths, uuid: string) {
  const dir = paths.instanceDir(uuid);
  return {
    dir,
    root: join(dir, 'disk'),
    ephemeral: join(dir, 'disk.eph0'),
    swap: join(dir, 'disk.swap'),
    consoleLog: join(dir, 'console.log'),
    /** the config drive (ISO9660, label config-2), as Nova names it */
    config: join(dir, 'disk.config'),
    extra: (target: string) => join(dir, `disk.${target}`),
  };
}

/** Path of an extra disk: the volume's own path, or the owned blank disk in the instance dir. */
export function extraDiskPath(paths: AgentPaths, uuid: string, d: ExtraDisk): string {
  return d.path ?? serverFiles(paths, uuid).extra(d.target);
}

export function extraDiskSpec(paths: AgentPaths, uuid: string, d: ExtraDisk): DiskSpec {
  const disk: DiskSpec = {
    target: d.target,
    path: extraDiskPath(paths, uuid, d),
    format: d.format ?? (d.path ? 'raw' : 'qcow2'),
    role: 'volume',
    bus: d.bus ?? 'virtio',
  };
  if (d.volumeId) disk.volumeId = d.volumeId;
  if (d.sourceType) disk.sourceType = d.sourceType;
  if (d.rbd) disk.rbd = rbdOf(d.rbd);
  return disk;
}

/** Kernel / ramdisk given as images (AMI-style kernel_id, ramdisk_id): fetched into the image cache by spawn. */
export function bootImages(spec: ServerSpec): ImageRef[] {
  const b = spec.boot;
  if (b?.kind !== 'kernel') return [];
  return [b.kernel, b.ramdisk].filter((f): f is ImageRef => typeof f === 'object' && f !== null);
}

/** Host path of a boot file: the path as given, or the image cache's file of an image. */
function bootFile(paths: AgentPaths, f: string | ImageRef): string {
  return typeof f === 'string' ? f : join(paths.images, f.id);
}

function bootOf(spec: ServerSpec, paths: AgentPaths): VirtBootSpec {
  const b = spec.boot;
  if (!b || b.kind === 'disk') return { kind: 'disk' };
  return {
    kind: 'kernel', kernel: bootFile(paths, b.kernel), cmdline: b.cmdline,
    ...(b.ramdisk !== undefined ? { ramdisk: bootFile(paths, b.ramdisk) } : {}),
  };
}

/** Target of the config drive: the last IDE slot, as Nova's libvirt driver puts its cdrom on x86 'pc' machines. */
export const CONFIG_DRIVE_TARGET = 'hdd';

export function configDriveDisk(path: string): DiskSpec {
  return { target: CONFIG_DRIVE_TARGET, path, format: 'raw', role: 'config', bus: 'ide', device: 'cdrom', readonly: true };
}

/**
 * Nova's disk layout: vda root (overlay on the cached image), vdb ephemeral, vdc swap, then extra disks; the
 * config drive, if any, as a read-only IDE cdrom (hdd).
 */
/** A NIC as the domain sees it; tenant NICs need the host's networks (TenantNetworks.resolveNic). */
export type NicResolver = (n: NicSpec) => VirtNicSpec;

export const directNic: NicResolver = (n) => {
  const a = n.attachment;
  if (a.type === 'tenant') throw new Error(`port ${n.portId}: tenant NIC without the host's networks`);
  return { portId: n.portId, mac: n.mac, attachment: a, ...(n.model ? { model: n.model } : {}) };
};

/** vda: the root overlay in the instance dir (with the host's cache mode), or (boot from volume) the volume itself */
export function rootDisk(spec: ServerSpec, overlay: string, cache?: DiskCache): DiskSpec {
  const v = spec.rootVolume;
  if (!v) return { target: 'vda', path: overlay, format: 'qcow2', role: 'root', bus: 'virtio', ...(cache !== undefined ? { cache } : {}) };
  return {
    target: 'vda', path: v.path, format: v.format, role: 'volume', bus: 'virtio', volumeId: v.volumeId,
    ...(v.sourceType ? { sourceType: v.sourceType } : {}), ...(v.rbd ? { rbd: rbdOf(v.rbd) } : {}),
  };
}

/** the disk names the secret; the key itself goes into libvirt's secret store only (cephSecrets) */
function rbdOf(r: RbdSource): RbdDiskSource {
  return { hosts: r.hosts.map((h) => ({ name: h.name, ...(h.port !== undefined ? { port: h.port } : {}) })), user: r.user, secretUuid: r.secretUuid };
}

/** the ceph secrets the server's rbd disks need (defined in libvirt before the domain or the disk) */
export function cephSecrets(disks: Array<{ rbd?: RbdSource } | undefined>): CephSecret[] {
  const out = new Map<string, CephSecret>();
  for (const d of disks) if (d?.rbd) out.set(d.rbd.secretUuid, { uuid: d.rbd.secretUuid, user: d.rbd.user, key: d.rbd.key });
  return [...out.values()];
}

/** the volumes among the server's disks (its root volume too): on shared storage, never copied by a migration */
export function volumeTargets(spec: ServerSpec): string[] {
  return [...(spec.rootVolume ? ['vda'] : []), ...(spec.disks ?? []).filter((d) => d.path).map((d) => d.target)];
}

/** the writable disks the server owns on this host: what a block migration copies */
export function localDiskTargets(spec: ServerSpec): string[] {
  const out = spec.rootVolume ? [] : ['vda'];
  if ((spec.ephemeralGiB ?? 0) > 0) out.push('vdb');
  if ((spec.swapMiB ?? 0) > 0) out.push('vdc');
  return [...out, ...(spec.disks ?? []).filter((d) => !d.path).map((d) => d.target)];
}

/** what the host decides about every domain it defines */
export interface HostDomainFacts {
  domainType: DomainType;
  /** the cache mode of the instance dir's disks (../direct-io.ts) */
  diskCache?: DiskCache;
}

export function buildDomainSpec(spec: ServerSpec, paths: AgentPaths, host: HostDomainFacts, resolveNic: NicResolver = directNic): DomainSpec {
  const f = serverFiles(paths, spec.uuid);
  const cache = host.diskCache !== undefined ? { cache: host.diskCache } : {};
  const disks: DiskSpec[] = [rootDisk(spec, f.root, host.diskCache)];
  if ((spec.ephemeralGiB ?? 0) > 0) disks.push({ target: 'vdb', path: f.ephemeral, format: 'qcow2', role: 'ephemeral', bus: 'virtio', ...cache });
  if ((spec.swapMiB ?? 0) > 0) disks.push({ target: 'vdc', path: f.swap, format: 'qcow2', role: 'swap', bus: 'virtio', ...cache });
  // volumes keep the hypervisor's default: their storage is not the instance dir's
  for (const d of spec.disks ?? []) disks.push(extraDiskSpec(paths, spec.uuid, d));
  if (spec.configDrive) disks.push(configDriveDisk(f.config));
  return {
    uuid: spec.uuid,
    displayName: spec.displayName,
    vcpus: spec.vcpus,
    maxVcpus: Math.max(spec.maxVcpus ?? spec.vcpus, spec.vcpus),
    memoryMiB: spec.memoryMiB,
    domainType: spec.domainType ?? host.domainType,
    boot: bootOf(spec, paths),
    disks,
    nics: (spec.nics ?? []).map(resolveNic),
    consoleLog: f.consoleLog,
    metadata: { ...(spec.metadata ?? {}), image: spec.image?.id ?? '', ...(spec.rootVolume ? { root_volume: spec.rootVolume.volumeId } : {}), flavor: `${spec.vcpus}c-${spec.memoryMiB}m-${spec.rootGiB}g` },
  };
}
