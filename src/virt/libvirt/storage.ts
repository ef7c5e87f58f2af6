// StoragePool and StorageVolume: typed wrappers over the addon's pool/volume objects.
import { call } from './errors.js';
import type { NativeStoragePool, NativeStorageVolume } from './native.js';

export type U64 = number | bigint;

export interface StoragePoolInfo {
  /** StoragePoolState */
  state: number;
  /** bytes */
  capacity: U64; allocation: U64; available: U64;
}
export interface StorageVolumeInfo {
  /** StorageVolType */
  type: number;
  /** bytes */
  capacity: U64; allocation: U64;
}

export class StorageVolume {
  /** @internal */
  constructor(readonly native: NativeStorageVolume) {}

  get name(): string { return this.native.getName(); }
  get key(): string { return this.native.getKey(); }
  getPath(): Promise<string> { return call(() => this.native.getPath()); }
  getInfo(): Promise<StorageVolumeInfo> { return call(() => this.native.getInfo()); }
  getXMLDesc(flags = 0): Promise<string> { return call(() => this.native.getXMLDesc(flags)); }
  /** StorageVolDeleteFlags */
  delete(flags = 0): Promise<void> { return call(() => this.native.delete(flags)); }
  /** New capacity in bytes; StorageVolResizeFlags. Dedicated thread. */
  resize(capacity: U64, flags = 0): Promise<void> { return call(() => this.native.resize(capacity, flags)); }
  /** Dedicated thread. */
  wipe(): Promise<void> { return call(() => this.native.wipe()); }
}

export class StoragePool {
  /** @internal */
  constructor(readonly native: NativeStoragePool) {}

  get name(): string { return this.native.getName(); }
  get uuid(): string { return this.native.getUUID(); }
  getInfo(): Promise<StoragePoolInfo> { return call(() => this.native.getInfo()); }
  getXMLDesc(flags = 0): Promise<string> { return call(() => this.native.getXMLDesc(flags)); }
  isActive(): Promise<boolean> { return call(() => this.native.isActive()); }
  /** Start a defined pool (StoragePoolCreateFlags). Dedicated thread. */
  create(flags = 0): Promise<void> { return call(() => this.native.create(flags)); }
  /** StoragePoolBuildFlags. Dedicated thread. */
  build(flags = 0): Promise<void> { return call(() => this.native.build(flags)); }
  destroy(): Promise<void> { return call(() => this.native.destroy()); }
  undefine(): Promise<void> { return call(() => this.native.undefine()); }
  /** Dedicated thread. */
  refresh(flags = 0): Promise<void> { return call(() => this.native.refresh(flags)); }
  setAutostart(on: boolean): Promise<void> { return call(() => this.native.setAutostart(on)); }
  async listAllVolumes(flags = 0): Promise<StorageVolume[]> {
    return (await call(() => this.native.listAllVolumes(flags))).map((v) => new StorageVolume(v));
  }
  async listVolumeNames(): Promise<string[]> {
    return (await call(() => this.native.listAllVolumes(0))).map((v) => v.getName());
  }
  async lookupVolume(name: string): Promise<StorageVolume> {
    return new StorageVolume(await call(() => this.native.lookupVolumeByName(name)));
  }
  /** virStorageVolCreateXML (StorageVolCreateFlags). Dedicated thread. */
  async createVolume(xml: string, flags = 0): Promise<StorageVolume> {
    return new StorageVolume(await call(() => this.native.createVolume(xml, flags)));
  }
  /** virStorageVolCreateXMLFrom: clone `source` into this pool. Dedicated thread. */
  async createVolumeFrom(xml: string, source: StorageVolume, flags = 0): Promise<StorageVolume> {
    return new StorageVolume(await call(() => this.native.createVolumeFrom(xml, source.native, flags)));
  }
}
