// Raw typings of the native addon (native/src/*.cc) and its loader. Callers use the typed classes in
// connection.ts / domain.ts / storage.ts instead of these.
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** A libvirt typed-parameter value. 64-bit integers are numbers when |v| <= 2^53-1, else bigint. */
export type TypedParamValue = number | bigint | string | boolean;
export type TypedParamRecord = Record<string, TypedParamValue>;
/** Input typed params: [name, libvirt type, value]; a name may repeat for list parameters. */
export type TypedParamType = 'int' | 'uint' | 'llong' | 'ullong' | 'double' | 'boolean' | 'string';
export type TypedParamTuple = [name: string, type: TypedParamType, value: TypedParamValue];

export interface NativeEventPayload {
  name?: string;
  uuid?: string;
  event?: number;
  detail?: number;
  alias?: string;
  disk?: string;
  type?: number;
  status?: number;
  stats?: TypedParamRecord;
  iteration?: number;
  reason?: number;
}
export type NativeEmit = (type: string, payload: NativeEventPayload) => void;

export interface NativeOpenOptions {
  readonly?: boolean;
  keepaliveInterval?: number;
  keepaliveCount?: number;
}

export interface NativeNodeInfo {
  model: string; memory: number | bigint; cpus: number; mhz: number;
  nodes: number; sockets: number; cores: number; threads: number;
}

export interface NativeConnection {
  readonly keepaliveEnabled: boolean;
  close(): Promise<void>;
  isClosed(): boolean;
  setEventsRef(ref: boolean): void;
  isAlive(): Promise<boolean>;
  listAllDomains(flags: number): Promise<NativeDomain[]>;
  lookupDomainByName(name: string): Promise<NativeDomain>;
  lookupDomainByUUID(uuid: string): Promise<NativeDomain>;
  lookupDomainByID(id: number): Promise<NativeDomain>;
  defineDomain(xml: string, flags: number): Promise<NativeDomain>;
  createDomain(xml: string, flags: number): Promise<NativeDomain>;
  getHostname(): Promise<string>;
  getVersion(): Promise<number>;
  getLibVersion(): Promise<number>;
  getURI(): Promise<string>;
  getCapabilities(): Promise<string>;
  getNodeInfo(): Promise<NativeNodeInfo>;
  getFreeMemory(): Promise<number | bigint>;
  getNodeCPUStats(cpuNum: number, flags: number): Promise<Record<string, number | bigint>>;
  getNodeMemoryStats(cellNum: number, flags: number): Promise<Record<string, number | bigint>>;
  getAllDomainStats(stats: number, flags: number): Promise<{ name: string; uuid: string; stats: TypedParamRecord }[]>;
  listAllStoragePools(flags: number): Promise<NativeStoragePool[]>;
  lookupStoragePoolByName(name: string): Promise<NativeStoragePool>;
  lookupStorageVolByPath(path: string): Promise<NativeStorageVolume>;
  defineStoragePool(xml: string, flags: number): Promise<NativeStoragePool>;
  createStoragePool(xml: string, flags: number): Promise<NativeStoragePool>;
  /** virSecretDefineXML + virSecretSetValue (secret.cc) */
  setSecret(xml: string, value: Buffer): Promise<void>;
  /** virSecretLookupByUUIDString + virSecretUndefine */
  undefineSecret(uuid: string): Promise<void>;
}

export interface NativeDomain {
  getName(): string;
  getUUID(): string;
  getID(): Promise<number>;
  getInfo(): Promise<{ state: number; maxMem: number | bigint; memory: number | bigint; nrVirtCpu: number; cpuTime: number | bigint }>;
  getState(flags: number): Promise<{ state: number; reason: number }>;
  getXMLDesc(flags: number): Promise<string>;
  isActive(): Promise<boolean>;
  isPersistent(): Promise<boolean>;
  getAutostart(): Promise<boolean>;
  setAutostart(on: boolean): Promise<void>;
  create(flags: number): Promise<void>;
  shutdown(flags: number): Promise<void>;
  destroy(flags: number): Promise<void>;
  reboot(flags: number): Promise<void>;
  reset(): Promise<void>;
  suspend(): Promise<void>;
  resume(): Promise<void>;
  undefine(flags: number): Promise<void>;
  managedSave(flags: number): Promise<void>;
  hasManagedSaveImage(): Promise<boolean>;
  managedSaveRemove(): Promise<void>;
  attachDevice(xml: string, flags: number): Promise<void>;
  detachDevice(xml: string, flags: number): Promise<void>;
  updateDevice(xml: string, flags: number): Promise<void>;
  detachDeviceAlias(alias: string, flags: number): Promise<void>;
  setVcpus(n: number, flags: number): Promise<void>;
  setMemory(kib: number | bigint, flags: number): Promise<void>;
  getStats(stats: number, flags: number): Promise<TypedParamRecord>;
  migrateToURI3(dconnuri: string | null, params: TypedParamTuple[], flags: number): Promise<void>;
  migrateSetMaxSpeed(mibps: number | bigint, flags: number): Promise<void>;
  migrateGetMaxSpeed(flags: number): Promise<number | bigint>;
  migrateSetMaxDowntime(ms: number | bigint, flags: number): Promise<void>;
  migrateStartPostCopy(flags: number): Promise<void>;
  getJobInfo(): Promise<Record<string, number | bigint>>;
  getJobStats(flags: number): Promise<{ type: number; stats: TypedParamRecord }>;
  abortJob(flags: number): Promise<void>;
  getBlockJobInfo(disk: string, flags: number): Promise<{ type: number; bandwidth: number | bigint; cur: number | bigint; end: number | bigint } | null>;
  blockJobAbort(disk: string, flags: number): Promise<void>;
  blockJobSetSpeed(disk: string, bandwidth: number | bigint, flags: number): Promise<void>;
  blockCopy(disk: string, destxml: string, params: TypedParamTuple[], flags: number): Promise<void>;
  blockCommit(disk: string, base: string | null, top: string | null, bandwidth: number | bigint, flags: number): Promise<void>;
  blockPull(disk: string, bandwidth: number | bigint, flags: number): Promise<void>;
  blockResize(disk: string, size: number | bigint, flags: number): Promise<void>;
  snapshotCreateXML(xml: string, flags: number): Promise<NativeSnapshot>;
  listAllSnapshots(flags: number): Promise<NativeSnapshot[]>;
  snapshotLookupByName(name: string): Promise<NativeSnapshot>;
  snapshotCurrent(): Promise<NativeSnapshot>;
  hasCurrentSnapshot(): Promise<boolean>;
}

export interface NativeSnapshot {
  getName(): string;
  getXMLDesc(flags: number): Promise<string>;
  delete(flags: number): Promise<void>;
  revert(flags: number): Promise<void>;
  isCurrent(): Promise<boolean>;
  getParent(): Promise<NativeSnapshot | null>;
}

export interface NativeStoragePool {
  getName(): string;
  getUUID(): string;
  getInfo(): Promise<{ state: number; capacity: number | bigint; allocation: number | bigint; available: number | bigint }>;
  getXMLDesc(flags: number): Promise<string>;
  isActive(): Promise<boolean>;
  create(flags: number): Promise<void>;
  build(flags: number): Promise<void>;
  destroy(): Promise<void>;
  undefine(): Promise<void>;
  refresh(flags: number): Promise<void>;
  setAutostart(on: boolean): Promise<void>;
  listAllVolumes(flags: number): Promise<NativeStorageVolume[]>;
  lookupVolumeByName(name: string): Promise<NativeStorageVolume>;
  createVolume(xml: string, flags: number): Promise<NativeStorageVolume>;
  createVolumeFrom(xml: string, source: NativeStorageVolume, flags: number): Promise<NativeStorageVolume>;
}

export interface NativeStorageVolume {
  getName(): string;
  getKey(): string;
  getPath(): Promise<string>;
  getInfo(): Promise<{ type: number; capacity: number | bigint; allocation: number | bigint }>;
  getXMLDesc(flags: number): Promise<string>;
  delete(flags: number): Promise<void>;
  resize(capacity: number | bigint, flags: number): Promise<void>;
  wipe(): Promise<void>;
}

export interface NativeAddon {
  open(uri: string | null, opts: NativeOpenOptions, emit: NativeEmit): Promise<NativeConnection>;
  /** libvirt library version as major * 1_000_000 + minor * 1_000 + release. */
  getVersion(): number;
}

/**
 * Repo root relative to this file: src/virt/libvirt/ -> ../../.. when run from the sources (tsx), and
 * dist/src/virt/libvirt/ -> ../../../.. when run from the compiled build (`npm run build`).
 */
const here = path.dirname(fileURLToPath(import.meta.url));
const ADDON = 'native/build/Release/novalet_libvirt.node';
export const NATIVE_ADDON_PATH = process.env['NOVALET_LIBVIRT_ADDON']
  ?? [path.resolve(here, '../../..', ADDON), path.resolve(here, '../../../..', ADDON)].find((p) => existsSync(p))
  ?? path.resolve(here, '../../..', ADDON);

let cached: NativeAddon | undefined;

/** Load the addon lazily (importing this module must not fail on hosts without the build). */
export function loadNative(): NativeAddon {
  if (!cached) {
    const require = createRequire(import.meta.url);
    cached = require(NATIVE_ADDON_PATH) as NativeAddon;
  }
  return cached;
}
