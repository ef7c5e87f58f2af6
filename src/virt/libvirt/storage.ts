// StoragePool and StorageVolume: typed wrappers over the addon's pool/volume objects.
import type { CallTracker } from './tracker.js';
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
  constructor(readonly native: NativeStorageVolume, private readonly t: CallTracker) {}

  get name(): string { return this.native.getName(); }
  get key(): string { return this.native.getKey(); }
  getPath(): Promise<string> { return this.t.run(() => this.native.getPath()); }
  getInfo(): Promise<StorageVolumeInfo> { return this.t.run(() => this.native.getInfo()); }
  getXMLDesc(flags = 0): Promise<string> { return this.t.run(() => this.native.getXMLDesc(flags)); }
  /** StorageVolDeleteFlags */
  delete(flags = 0): Promise<void> { return this.t.run(() => this.native.delete(flags)); }
  /** New capacity in bytes; StorageVolResizeFlags. Dedicated thread. */
  resize(capacity: U64, flags = 0): Promise<void> { return this.t.run(() => this.native.resize(capacity, flags)); }
  /** Dedicated thread. */
  wipe(): Promise<void> { return this.t.run(() => this.native.wipe()); }
}

export class StoragePool {
  /** @internal */
  constructor(readonly native: NativeStoragePool, private readonly t: CallTracker) {}

  get name(): string { return this.native.getName(); }
  get uuid(): string { return this.native.getUUID(); }
  getInfo(): Promise<StoragePoolInfo> { return this.t.run(() => this.native.getInfo()); }
  getXMLDesc(flags = 0): Promise<string> { return this.t.run(() => this.native.getXMLDesc(flags)); }
  isActive(): Promise<boolean> { return this.t.run(() => this.native.isActive()); }
  /** Start a defined pool (StoragePoolCreateFlags). Dedicated thread. */
  create(flags = 0): Promise<void> { return this.t.run(() => this.native.create(flags)); }
  /** StoragePoolBuildFlags. Dedicated thread. */
  build(flags = 0): Promise<void> { return this.t.run(() => this.native.build(flags)); }
  destroy(): Promise<void> { return this.t.run(() => this.native.destroy()); }
  undefine(): Promise<void> { return this.t.run(() => this.native.undefine()); }
  /** Dedicated thread. */
  refresh(flags = 0): Promise<void> { return this.t.run(() => this.native.refresh(flags)); }
  setAutostart(on: boolean): Promise<void> { return this.t.run(() => this.native.setAutostart(on)); }
  async listAllVolumes(flags = 0): Promise<StorageVolume[]> {
    return (await this.t.run(() => this.native.listAllVolumes(flags))).map((v) => new StorageVolume(v, this.t));
  }
  async listVolumeNames(): Promise<string[]> {
    return (await this.t.run(() => this.native.listAllVolumes(0))).map((v) => v.getName());
  }
  async lookupVolume(name: string): Promise<StorageVolume> {
    return new StorageVolume(await this.t.run(() => this.native.lookupVolumeByName(name)), this.t);
  }
  /** virStorageVolCreateXML (StorageVolCreateFlags). Dedicated thread. */
  async createVolume(xml: string, flags = 0): Promise<StorageVolume> {
    return new StorageVolume(await this.t.run(() => this.native.createVolume(xml, flags)), this.t);
  }
  /** virStorageVolCreateXMLFrom: clone `source` into this pool. Dedicated thread. */
  async createVolumeFrom(xml: string, source: StorageVolume, flags = 0): Promise<StorageVolume> {
    return new StorageVolume(await this.t.run(() => this.native.createVolumeFrom(xml, source.native, flags)), this.t);
  }
}
