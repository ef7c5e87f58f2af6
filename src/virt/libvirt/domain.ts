// LibvirtDomain and LibvirtSnapshot: typed wrappers over the addon's domain/snapshot objects.
// Every method returns a promise; the libvirt call runs off the JS thread (long ones on their own thread).
import { DOMAIN_STATE_NAMES, DOMAIN_STATE_REASON_NAMES } from './codes.js';
import type { CallTracker } from './tracker.js';
import type { NativeDomain, NativeSnapshot, TypedParamRecord } from './native.js';
import { blockCopyParamsToTuples, migrateParamsToTuples, type BlockCopyParams, type MigrateParams } from './params.js';

export type U64 = number | bigint;

export interface DomainStateInfo {
  /** virDomainState value (see DomainState) */
  state: number;
  /** e.g. 'running', 'paused', 'shutoff' */
  stateName: string;
  /** per-state reason value */
  reason: number;
  /** e.g. 'booted', 'user', 'destroyed', 'saved' */
  reasonName: string;
}

export interface DomainInfo {
  state: number;
  /** KiB */
  maxMem: U64;
  /** KiB */
  memory: U64;
  nrVirtCpu: number;
  /** nanoseconds */
  cpuTime: U64;
}

export interface JobInfo {
  type: number;
  timeElapsed: U64; timeRemaining: U64;
  dataTotal: U64; dataProcessed: U64; dataRemaining: U64;
  memTotal: U64; memProcessed: U64; memRemaining: U64;
  fileTotal: U64; fileProcessed: U64; fileRemaining: U64;
}

export interface JobStats {
  /** virDomainJobType (DomainJobType.NONE when no job) */
  type: number;
  /** e.g. { time_elapsed, data_total, memory_remaining, ... } (VIR_DOMAIN_JOB_* field names) */
  stats: TypedParamRecord;
}

export interface BlockJobInfo { type: number; bandwidth: U64; cur: U64; end: U64 }

export function describeState(state: number, reason: number): DomainStateInfo {
  return {
    state,
    stateName: DOMAIN_STATE_NAMES[state] ?? `unknown_${state}`,
    reason,
    reasonName: DOMAIN_STATE_REASON_NAMES[state]?.[reason] ?? `unknown_${reason}`,
  };
}

export class LibvirtSnapshot {
  /** @internal */
  constructor(readonly native: NativeSnapshot, private readonly t: CallTracker) {}

  get name(): string { return this.native.getName(); }
  getXMLDesc(flags = 0): Promise<string> { return this.t.run(() => this.native.getXMLDesc(flags)); }
  /** SnapshotDeleteFlags */
  delete(flags = 0): Promise<void> { return this.t.run(() => this.native.delete(flags)); }
  /** SnapshotRevertFlags; runs on a dedicated thread. */
  revert(flags = 0): Promise<void> { return this.t.run(() => this.native.revert(flags)); }
  isCurrent(): Promise<boolean> { return this.t.run(() => this.native.isCurrent()); }
  async getParent(): Promise<LibvirtSnapshot | null> {
    const p = await this.t.run(() => this.native.getParent());
    return p ? new LibvirtSnapshot(p, this.t) : null;
  }
}

export class LibvirtDomain {
  /** @internal */
  constructor(readonly native: NativeDomain, private readonly t: CallTracker) {}

  /** Cached in the libvirt object; synchronous. */
  get name(): string { return this.native.getName(); }
  get uuid(): string { return this.native.getUUID(); }

  /** -1 when not running. */
  getId(): Promise<number> { return this.t.run(() => this.native.getID()); }
  getInfo(): Promise<DomainInfo> { return this.t.run(() => this.native.getInfo()); }
  async getState(): Promise<DomainStateInfo> {
    const s = await this.t.run(() => this.native.getState(0));
    return describeState(s.state, s.reason);
  }
  /** DomainXMLFlags */
  getXMLDesc(flags = 0): Promise<string> { return this.t.run(() => this.native.getXMLDesc(flags)); }
  isActive(): Promise<boolean> { return this.t.run(() => this.native.isActive()); }
  isPersistent(): Promise<boolean> { return this.t.run(() => this.native.isPersistent()); }
  getAutostart(): Promise<boolean> { return this.t.run(() => this.native.getAutostart()); }
  setAutostart(on: boolean): Promise<void> { return this.t.run(() => this.native.setAutostart(on)); }

  // --- lifecycle ---
  /** virDomainCreateWithFlags (DomainCreateFlags). Restores a managed-save image if there is one. Dedicated thread. */
  create(flags = 0): Promise<void> { return this.t.run(() => this.native.create(flags)); }
  /** ShutdownFlags; returns once the request was sent (the guest may ignore it). */
  shutdown(flags = 0): Promise<void> { return this.t.run(() => this.native.shutdown(flags)); }
  /** DestroyFlags. Dedicated thread. */
  destroy(flags = 0): Promise<void> { return this.t.run(() => this.native.destroy(flags)); }
  /** RebootFlags */
  reboot(flags = 0): Promise<void> { return this.t.run(() => this.native.reboot(flags)); }
  reset(): Promise<void> { return this.t.run(() => this.native.reset()); }
  suspend(): Promise<void> { return this.t.run(() => this.native.suspend()); }
  resume(): Promise<void> { return this.t.run(() => this.native.resume()); }
  /** DomainUndefineFlags (MANAGED_SAVE, SNAPSHOTS_METADATA, NVRAM, ...) */
  undefine(flags = 0): Promise<void> { return this.t.run(() => this.native.undefine(flags)); }
  /** SaveRestoreFlags. Dedicated thread. */
  managedSave(flags = 0): Promise<void> { return this.t.run(() => this.native.managedSave(flags)); }
  hasManagedSaveImage(): Promise<boolean> { return this.t.run(() => this.native.hasManagedSaveImage()); }
  managedSaveRemove(): Promise<void> { return this.t.run(() => this.native.managedSaveRemove()); }

  // --- devices and resources (flags: DomainDeviceModifyFlags / DomainModificationImpact) ---
  attachDevice(xml: string, flags = 0): Promise<void> { return this.t.run(() => this.native.attachDevice(xml, flags)); }
  /** Dedicated thread: a live detach waits for the guest. */
  detachDevice(xml: string, flags = 0): Promise<void> { return this.t.run(() => this.native.detachDevice(xml, flags)); }
  updateDevice(xml: string, flags = 0): Promise<void> { return this.t.run(() => this.native.updateDevice(xml, flags)); }
  /** Asynchronous in libvirt: completion is the 'deviceRemoved' event. */
  detachDeviceAlias(alias: string, flags = 0): Promise<void> { return this.t.run(() => this.native.detachDeviceAlias(alias, flags)); }
  /** VcpuFlags */
  setVcpus(count: number, flags = 0): Promise<void> { return this.t.run(() => this.native.setVcpus(count, flags)); }
  /** KiB; MemoryModFlags (MAXIMUM to change the maximum) */
  setMemory(kib: U64, flags = 0): Promise<void> { return this.t.run(() => this.native.setMemory(kib, flags)); }
  /** virDomainListGetStats for this domain (DomainStatsTypes mask, 0 = all). */
  getStats(stats = 0, flags = 0): Promise<TypedParamRecord> { return this.t.run(() => this.native.getStats(stats, flags)); }

  // --- migration and jobs ---
  /**
   * virDomainMigrateToURI3. `destUri` is the destination libvirt URI (required with PEER2PEER), null otherwise.
   * Dedicated thread: getJobStats/abortJob keep answering while it runs.
   */
  migrateToURI3(destUri: string | null, params: MigrateParams = {}, flags = 0): Promise<void> {
    return this.t.run(() => this.native.migrateToURI3(destUri, migrateParamsToTuples(params), flags));
  }
  /** MiB/s; MigrateMaxSpeedFlags */
  migrateSetMaxSpeed(mibps: U64, flags = 0): Promise<void> { return this.t.run(() => this.native.migrateSetMaxSpeed(mibps, flags)); }
  migrateGetMaxSpeed(flags = 0): Promise<U64> { return this.t.run(() => this.native.migrateGetMaxSpeed(flags)); }
  /** milliseconds */
  migrateSetMaxDowntime(ms: U64, flags = 0): Promise<void> { return this.t.run(() => this.native.migrateSetMaxDowntime(ms, flags)); }
  migrateStartPostCopy(flags = 0): Promise<void> { return this.t.run(() => this.native.migrateStartPostCopy(flags)); }
  getJobInfo(): Promise<JobInfo> { return this.t.run(() => this.native.getJobInfo() as Promise<unknown> as Promise<JobInfo>); }
  /** GetJobStatsFlags (COMPLETED for the last finished job) */
  getJobStats(flags = 0): Promise<JobStats> { return this.t.run(() => this.native.getJobStats(flags)); }
  /** AbortJobFlags */
  abortJob(flags = 0): Promise<void> { return this.t.run(() => this.native.abortJob(flags)); }

  // --- block jobs (disk = target like 'vda' or a source path) ---
  /** null when no job runs on the disk. */
  getBlockJobInfo(disk: string, flags = 0): Promise<BlockJobInfo | null> { return this.t.run(() => this.native.getBlockJobInfo(disk, flags)); }
  /** BlockJobAbortFlags (ASYNC, PIVOT). Dedicated thread. */
  blockJobAbort(disk: string, flags = 0): Promise<void> { return this.t.run(() => this.native.blockJobAbort(disk, flags)); }
  blockJobSetSpeed(disk: string, bandwidth: U64, flags = 0): Promise<void> { return this.t.run(() => this.native.blockJobSetSpeed(disk, bandwidth, flags)); }
  /** virDomainBlockCopy; BlockCopyFlags (persistent domains need TRANSIENT_JOB). Dedicated thread. */
  blockCopy(disk: string, destXml: string, params: BlockCopyParams = {}, flags = 0): Promise<void> {
    return this.t.run(() => this.native.blockCopy(disk, destXml, blockCopyParamsToTuples(params), flags));
  }
  /** BlockCommitFlags (ACTIVE, SHALLOW, ...). bandwidth in MiB/s (or bytes/s with BANDWIDTH_BYTES). Dedicated thread. */
  blockCommit(disk: string, base: string | null = null, top: string | null = null, bandwidth: U64 = 0, flags = 0): Promise<void> {
    return this.t.run(() => this.native.blockCommit(disk, base, top, bandwidth, flags));
  }
  /** BlockPullFlags. Dedicated thread. */
  blockPull(disk: string, bandwidth: U64 = 0, flags = 0): Promise<void> { return this.t.run(() => this.native.blockPull(disk, bandwidth, flags)); }
  /** size in KiB (bytes with BlockResizeFlags.BYTES) */
  blockResize(disk: string, size: U64, flags = 0): Promise<void> { return this.t.run(() => this.native.blockResize(disk, size, flags)); }

  // --- snapshots ---
  /** SnapshotCreateFlags. Dedicated thread. */
  async createSnapshot(xml: string, flags = 0): Promise<LibvirtSnapshot> {
    return new LibvirtSnapshot(await this.t.run(() => this.native.snapshotCreateXML(xml, flags)), this.t);
  }
  /** SnapshotListFlags */
  async listAllSnapshots(flags = 0): Promise<LibvirtSnapshot[]> {
    return (await this.t.run(() => this.native.listAllSnapshots(flags))).map((s) => new LibvirtSnapshot(s, this.t));
  }
  async listSnapshotNames(flags = 0): Promise<string[]> {
    return (await this.t.run(() => this.native.listAllSnapshots(flags))).map((s) => s.getName());
  }
  async lookupSnapshot(name: string): Promise<LibvirtSnapshot> {
    return new LibvirtSnapshot(await this.t.run(() => this.native.snapshotLookupByName(name)), this.t);
  }
  async currentSnapshot(): Promise<LibvirtSnapshot> {
    return new LibvirtSnapshot(await this.t.run(() => this.native.snapshotCurrent()), this.t);
  }
  hasCurrentSnapshot(): Promise<boolean> { return this.t.run(() => this.native.hasCurrentSnapshot()); }
}
