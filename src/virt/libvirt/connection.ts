// LibvirtConnection: a typed, promise-based libvirt connection that emits domain events.
import { EventEmitter } from 'node:events';

import { LibvirtDomain } from './domain.js';
import { call, LibvirtError } from './errors.js';
import { convertEvent, LIBVIRT_EVENT_NAMES, type LibvirtConnectionEvents } from './events.js';
import { loadNative, type NativeConnection, type NativeEventPayload, type TypedParamRecord } from './native.js';
import { StoragePool, StorageVolume } from './storage.js';
import { CallTracker } from './tracker.js';

export interface OpenOptions {
  /** virConnectOpenReadOnly */
  readonly?: boolean;
  /** Seconds between keepalive probes; 0 disables. Default 5. Only remote (daemon) URIs support it. */
  keepaliveInterval?: number;
  /** Unanswered probes before the connection is declared dead ('close' event). Default 3. */
  keepaliveCount?: number;
}

export interface NodeInfo {
  model: string;
  /** KiB */
  memory: number | bigint;
  cpus: number; mhz: number; nodes: number; sockets: number; cores: number; threads: number;
}

export interface VersionInfo { major: number; minor: number; release: number; /** e.g. '9.0.0' */ text: string; raw: number }

export interface DomainStatsRecord { name: string; uuid: string; stats: TypedParamRecord }

export function splitVersion(raw: number): VersionInfo {
  const major = Math.floor(raw / 1_000_000);
  const minor = Math.floor((raw % 1_000_000) / 1000);
  const release = raw % 1000;
  return { major, minor, release, text: `${major}.${minor}.${release}`, raw };
}

/** libvirt version of the loaded library (no connection needed). */
export function libvirtVersion(): VersionInfo {
  return splitVersion(loadNative().getVersion());
}

const ALL = -1;  // VIR_NODE_CPU_STATS_ALL_CPUS / VIR_NODE_MEMORY_STATS_ALL_CELLS

export class LibvirtConnection extends EventEmitter<LibvirtConnectionEvents> {
  /** Whether keepalive is active (remote URIs only). */
  readonly keepaliveEnabled: boolean;
  /** Set when libvirt reported the connection dead ('close' event). */
  lost = false;

  private readonly t: CallTracker;

  private constructor(private readonly native: NativeConnection, readonly uri: string | null) {
    super();
    this.t = new CallTracker(() => native.isAlive(), (err) => this.onDeath(err));
    this.keepaliveEnabled = native.keepaliveEnabled;
    // The addon's event TSFN is unref'd while nobody listens, so an idle connection never keeps the
    // process alive; while there are listeners it is ref'd like a socket with a 'data' handler.
    const plain = this as unknown as EventEmitter;  // the typed map does not include the meta events
    plain.on('newListener', (name: string | symbol) => {
      if ((LIBVIRT_EVENT_NAMES as readonly (string | symbol)[]).includes(name)) this.native.setEventsRef(true);
    });
    plain.on('removeListener', () => {
      if (this.eventListenerCount() === 0) this.native.setEventsRef(false);
    });
  }

  /**
   * Open a connection (null = libvirt's default URI). Events for every domain are registered at open;
   * attach listeners to receive them.
   */
  static async open(uri: string | null, opts: OpenOptions = {}): Promise<LibvirtConnection> {
    let target: LibvirtConnection | undefined;
    const emit = (type: string, payload: NativeEventPayload): void => { target?.dispatch(type, payload); };
    const native = await call(() => loadNative().open(uri, {
      readonly: opts.readonly ?? false,
      keepaliveInterval: opts.keepaliveInterval ?? 5,
      keepaliveCount: opts.keepaliveCount ?? 3,
    }, emit));
    target = new LibvirtConnection(native, uri);
    return target;
  }

  private eventListenerCount(): number {
    return LIBVIRT_EVENT_NAMES.reduce((n, e) => n + this.listenerCount(e), 0);
  }

  private dispatch(type: string, payload: NativeEventPayload): void {
    const ev = convertEvent(type, payload);
    if (!ev) return;
    if (ev[0] === 'close') {
      if (this.lost) return;  // already reported (see onDeath)
      this.lost = true;
      this.t.kill(new LibvirtError(`connection closed (${ev[1].reason})`, 1 /* VIR_ERR_INTERNAL_ERROR */, 7 /* VIR_FROM_RPC */));
    }
    (this.emit as (name: string, arg: unknown) => boolean)(ev[0], ev[1]);
  }

  /** A call found the connection dead before libvirt reported it: report it as a 'close' event. */
  private onDeath(err: LibvirtError): void {
    if (this.lost) return;
    this.lost = true;
    const keepalive = /keepalive/i.test(err.message);
    this.emit('close', { reason: keepalive ? 'keepalive' : 'error', reasonCode: keepalive ? 2 : 0 });
  }

  /** Calls issued and not yet settled (diagnostics). */
  get pendingCalls(): number { return this.t.pendingCount; }

  /** Idempotent. Later calls on this connection or its objects reject with VIR_ERR_INVALID_CONN. */
  close(): Promise<void> { return call(() => this.native.close()); }
  get closed(): boolean { return this.native.isClosed(); }
  isAlive(): Promise<boolean> { return this.t.run(() => this.native.isAlive()); }

  // --- host ---
  getHostname(): Promise<string> { return this.t.run(() => this.native.getHostname()); }
  /** Hypervisor version (virConnectGetVersion). */
  async getVersion(): Promise<VersionInfo> { return splitVersion(await this.t.run(() => this.native.getVersion())); }
  /** libvirt version on the other end (virConnectGetLibVersion). */
  async getLibVersion(): Promise<VersionInfo> { return splitVersion(await this.t.run(() => this.native.getLibVersion())); }
  getURI(): Promise<string> { return this.t.run(() => this.native.getURI()); }
  getCapabilities(): Promise<string> { return this.t.run(() => this.native.getCapabilities()); }
  getNodeInfo(): Promise<NodeInfo> { return this.t.run(() => this.native.getNodeInfo()); }
  /** bytes */
  getFreeMemory(): Promise<number | bigint> { return this.t.run(() => this.native.getFreeMemory()); }
  /** virNodeGetCPUStats: { kernel, user, idle, iowait, ... } in ns. cpu -1 = all. */
  getNodeCPUStats(cpu = ALL, flags = 0): Promise<Record<string, number | bigint>> {
    return this.t.run(() => this.native.getNodeCPUStats(cpu, flags));
  }
  /** virNodeGetMemoryStats: { total, free, buffers, cached } in KiB. cell -1 = all. */
  getNodeMemoryStats(cell = ALL, flags = 0): Promise<Record<string, number | bigint>> {
    return this.t.run(() => this.native.getNodeMemoryStats(cell, flags));
  }
  /** virConnectGetAllDomainStats (DomainStatsTypes mask, 0 = all; GetAllDomainStatsFlags). */
  getAllDomainStats(stats = 0, flags = 0): Promise<DomainStatsRecord[]> {
    return this.t.run(() => this.native.getAllDomainStats(stats, flags));
  }

  // --- domains ---
  /** ListAllDomainsFlags (0 = all) */
  async listAllDomains(flags = 0): Promise<LibvirtDomain[]> {
    return (await this.t.run(() => this.native.listAllDomains(flags))).map((d) => new LibvirtDomain(d, this.t));
  }
  async lookupDomainByName(name: string): Promise<LibvirtDomain> {
    return new LibvirtDomain(await this.t.run(() => this.native.lookupDomainByName(name)), this.t);
  }
  async lookupDomainByUUID(uuid: string): Promise<LibvirtDomain> {
    return new LibvirtDomain(await this.t.run(() => this.native.lookupDomainByUUID(uuid)), this.t);
  }
  async lookupDomainById(id: number): Promise<LibvirtDomain> {
    return new LibvirtDomain(await this.t.run(() => this.native.lookupDomainByID(id)), this.t);
  }
  /** virDomainDefineXMLFlags (DomainDefineFlags) */
  async defineDomain(xml: string, flags = 0): Promise<LibvirtDomain> {
    return new LibvirtDomain(await this.t.run(() => this.native.defineDomain(xml, flags)), this.t);
  }
  /** virDomainCreateXML: start a transient domain (DomainCreateFlags). Dedicated thread. */
  async createDomain(xml: string, flags = 0): Promise<LibvirtDomain> {
    return new LibvirtDomain(await this.t.run(() => this.native.createDomain(xml, flags)), this.t);
  }

  // --- storage ---
  /** ListAllStoragePoolsFlags */
  async listAllStoragePools(flags = 0): Promise<StoragePool[]> {
    return (await this.t.run(() => this.native.listAllStoragePools(flags))).map((p) => new StoragePool(p, this.t));
  }
  async lookupStoragePool(name: string): Promise<StoragePool> {
    return new StoragePool(await this.t.run(() => this.native.lookupStoragePoolByName(name)), this.t);
  }
  async lookupStorageVolumeByPath(path: string): Promise<StorageVolume> {
    return new StorageVolume(await this.t.run(() => this.native.lookupStorageVolByPath(path)), this.t);
  }
  /** virStoragePoolDefineXML (StoragePoolDefineFlags) */
  async defineStoragePool(xml: string, flags = 0): Promise<StoragePool> {
    return new StoragePool(await this.t.run(() => this.native.defineStoragePool(xml, flags)), this.t);
  }
  /** virStoragePoolCreateXML: transient pool (StoragePoolCreateFlags). Dedicated thread. */
  async createStoragePool(xml: string, flags = 0): Promise<StoragePool> {
    return new StoragePool(await this.t.run(() => this.native.createStoragePool(xml, flags)), this.t);
  }
  /** virSecretDefineXML, then virSecretSetValue (the raw secret bytes; a cephx key is its base64 decoded) */
  async setSecret(xml: string, value: Buffer): Promise<void> {
    await this.t.run(() => this.native.setSecret(xml, value));
  }
  /** virSecretUndefine of the secret with this UUID (VIR_ERR_NO_SECRET when there is none) */
  async undefineSecret(uuid: string): Promise<void> {
    await this.t.run(() => this.native.undefineSecret(uuid));
  }
}
