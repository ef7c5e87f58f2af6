/**
 * LibvirtHypervisor: the Hypervisor interface over the project's native libvirt binding.
 * State rules (shared with FakeHypervisor, see test/unit/virt-fake.test.ts): operations whose goal already
 * holds are no-ops (start of a running domain, destroy/shutdown of a shut-off one, pause of a paused one,
 * undefine/detach of something missing); operations that cannot apply to the current state fail with
 * VirtError 'invalid_state' (pause of a shut-off domain, soft reboot of a paused one, undefine of a running one).
 */
import { EventEmitter } from 'node:events';
import {
  DomainDefineFlags, DomainUndefineFlags, DomainXMLFlags, isLibvirtError, RebootFlags, ShutdownFlags,
  type LibvirtConnection, type LibvirtDomain,
} from '../libvirt/index.js';
import { buildDomainXml, cephSecretXml, isNovaletDomain, parseDomainXml } from '../domain-xml/index.js';
import { detectDomainType } from '../domain-type.js';
import { toVirtError, VirtError } from '../errors.js';
import type {
  CephSecret, DhcpHost, DiskSnapshotResult, DiskSpec, DomainSpec, DomainStatus, DomainType, HostInfo, Hypervisor, HypervisorEvent, NicSpec,
} from '../hypervisor.js';
import { isActiveState, powerStateOf } from '../power-state.js';
import { ConnectionKeeper, type KeeperOptions } from './connection.js';
import type { OpContext } from './context.js';
import * as devices from './devices.js';
import { DhcpHostTable } from './dhcp-hosts.js';
import { readHostInfo } from './host.js';
import * as snapshots from './snapshots.js';
import * as migration from './migration.js';
import type { MigrateRequest, MigrationStats } from '../migration.js';

export interface LibvirtHypervisorOptions extends Partial<KeeperOptions> {
  /** default qemu:///system */
  uri?: string;
  /** overrides detection (NOVALET_DOMAIN_TYPE also does) */
  domainType?: DomainType;
  /** how long a live detach waits for the guest to release the device; default 30 s */
  detachTimeoutMs?: number;
  /** how long an active block commit may take to become ready; default 10 min */
  blockJobTimeoutMs?: number;
}

export class LibvirtHypervisor implements Hypervisor {
  private readonly events = new EventEmitter<{ event: [HypervisorEvent] }>();
  private readonly keeper: ConnectionKeeper;
  private domainType: DomainType | undefined;
  private readonly dhcp: DhcpHostTable;
  /** uuids known to be novalet domains: their status needs no XML (a novalet domain stays one until undefined) */
  private readonly managedUuids = new Set<string>();

  constructor(private readonly o: LibvirtHypervisorOptions = {}) {
    this.events.setMaxListeners(0); // one listener per in-flight wait
    this.keeper = new ConnectionKeeper({ ...o, uri: o.uri ?? 'qemu:///system' }, (e) => this.events.emit('event', e));
    this.domainType = o.domainType;
    this.dhcp = new DhcpHostTable(o.uri ?? 'qemu:///system');
  }

  onEvent(listener: (event: HypervisorEvent) => void): () => void {
    // a throwing listener must not break event delivery to the others (nor the binding's dispatch)
    const safe = (e: HypervisorEvent): void => { try { listener(e); } catch { /* listener's problem */ } };
    this.events.on('event', safe);
    // events only flow over an open connection: a subscriber wants them without having to make a call first
    this.keeper.connectSoon();
    return () => { this.events.off('event', safe); };
  }

  close(): Promise<void> {
    return this.keeper.close();
  }

  /** Runs fn on the current connection, turning every failure into a VirtError. */
  private async run<T>(what: string, fn: (conn: LibvirtConnection) => Promise<T>): Promise<T> {
    const conn = await this.keeper.get();
    try {
      return await fn(conn);
    } catch (e) {
      throw toVirtError(e, what, conn.lost);
    }
  }

  private async lookup(conn: LibvirtConnection, uuid: string): Promise<LibvirtDomain> {
    try {
      return await conn.lookupDomainByUUID(uuid);
    } catch (e) {
      if (isLibvirtError(e, 'VIR_ERR_NO_DOMAIN')) throw new VirtError('domain_not_found', `no domain with uuid ${uuid}`, { cause: e });
      throw e;
    }
  }

  /** Looks up the domain, or resolves null when it does not exist. */
  private async find(conn: LibvirtConnection, uuid: string): Promise<LibvirtDomain | null> {
    try {
      return await conn.lookupDomainByUUID(uuid);
    } catch (e) {
      if (isLibvirtError(e, 'VIR_ERR_NO_DOMAIN')) return null;
      throw e;
    }
  }

  private onDomain<T>(what: string, uuid: string, fn: (dom: LibvirtDomain, conn: LibvirtConnection) => Promise<T>): Promise<T> {
    return this.run(`${what} ${uuid}`, async (conn) => fn(await this.lookup(conn, uuid), conn));
  }

  private ctx(dom: LibvirtDomain, conn: LibvirtConnection, uuid: string): OpContext {
    return {
      dom, uuid,
      subscribe: (l) => this.onEvent(l),
      detachTimeoutMs: this.o.detachTimeoutMs ?? 30_000,
      blockJobTimeoutMs: this.o.blockJobTimeoutMs ?? 600_000,
      redefine: async (xml) => { await conn.defineDomain(xml); },
    };
  }

  private async status(dom: LibvirtDomain): Promise<DomainStatus> {
    const key = dom.uuid.toLowerCase();
    const known = this.managedUuids.has(key);
    const [state, xml] = await Promise.all([dom.getState(), known ? null : dom.getXMLDesc(0)]);
    // a managed-save image only exists for a domain that is not running (a start consumes it): one call less
    const managedSave = isActiveState(state.stateName) ? false : await dom.hasManagedSaveImage();
    const managed = known || isNovaletDomain(parseDomainXml(xml ?? ''));
    if (managed) this.managedUuids.add(key);
    return {
      uuid: dom.uuid,
      name: dom.name,
      power: powerStateOf(state.stateName),
      libvirtState: state.stateName,
      libvirtReason: state.reasonName,
      managedSave,
      managed,
    };
  }

  private invalid(uuid: string, what: string, state: string): VirtError {
    return new VirtError('invalid_state', `cannot ${what} domain ${uuid}: it is ${state}`);
  }

  // --- host ---

  setCephSecret(secret: CephSecret): Promise<void> {
    return this.run('set ceph secret', async (conn) => {
      await conn.setSecret(cephSecretXml(secret), Buffer.from(secret.key, 'base64'));
    });
  }

  hostInfo(): Promise<HostInfo> {
    return this.run('host info', async (conn) => {
      const caps = await conn.getCapabilities();
      this.domainType ??= detectDomainType(caps);
      return readHostInfo(conn, this.domainType, caps);
    });
  }

  // --- queries ---

  listDomains(): Promise<DomainStatus[]> {
    return this.run('list domains', async (conn) => {
      const all = await Promise.all((await conn.listAllDomains(0)).map(async (dom) => {
        try {
          return await this.status(dom);
        } catch (e) {
          if (isLibvirtError(e, 'VIR_ERR_NO_DOMAIN')) return null; // undefined while we listed
          throw e;
        }
      }));
      return all.filter((s): s is DomainStatus => s !== null);
    });
  }

  getDomain(uuid: string): Promise<DomainStatus | null> {
    return this.run(`get domain ${uuid}`, async (conn) => {
      const dom = await this.find(conn, uuid);
      if (!dom) return null;
      try {
        return await this.status(dom);
      } catch (e) {
        if (isLibvirtError(e, 'VIR_ERR_NO_DOMAIN')) return null;
        throw e;
      }
    });
  }

  getDomainXml(uuid: string, inactive = false): Promise<string> {
    return this.onDomain('get XML of', uuid, (dom) => dom.getXMLDesc(inactive ? DomainXMLFlags.INACTIVE : 0));
  }

  // --- definition ---

  define(spec: DomainSpec): Promise<void> {
    let xml: string;
    try {
      xml = buildDomainXml(spec);
    } catch (e) {
      return Promise.reject(toVirtError(e, `build XML for ${spec.uuid}`));
    }
    // VALIDATE: a spec libvirt's schema rejects fails here with its reason, not later at start
    return this.run('define domain', async (conn) => { await conn.defineDomain(xml, DomainDefineFlags.VALIDATE); });
  }

  defineXml(xml: string): Promise<void> {
    // same uuid and name = a redefinition (takes effect at the next cold boot if running)
    this.managedUuids.clear(); // rare (resize revert): whatever the XML says is re-read
    return this.run('define domain', async (conn) => { await conn.defineDomain(xml); });
  }

  undefine(uuid: string): Promise<void> {
    return this.run(`undefine ${uuid}`, async (conn) => {
      this.managedUuids.delete(uuid.toLowerCase());
      const dom = await this.find(conn, uuid);
      if (!dom) return;
      const state = await dom.getState();
      // undefining a running domain would leave it transient, out of the agent's sight once stopped
      if (isActiveState(state.stateName)) throw this.invalid(uuid, 'undefine', state.stateName);
      try {
        await dom.undefine(DomainUndefineFlags.MANAGED_SAVE | DomainUndefineFlags.SNAPSHOTS_METADATA |
          DomainUndefineFlags.CHECKPOINTS_METADATA | DomainUndefineFlags.NVRAM);
      } catch (e) {
        if (!isLibvirtError(e, 'VIR_ERR_NO_DOMAIN')) throw e;
      }
    });
  }

  // --- power ---

  start(uuid: string): Promise<void> {
    return this.onDomain('start', uuid, async (dom) => {
      let s = (await dom.getState()).stateName;
      // a guest that just powered itself off passes through 'shutdown' (QEMU still exiting) before 'shutoff':
      // a start right after an ACPI power-off (soft reboot) waits for the exit instead of failing
      for (let i = 0; s === 'shutdown' && i < 100; i++) {
        await new Promise((r) => setTimeout(r, 100));
        s = (await dom.getState()).stateName;
      }
      if (s === 'running' || s === 'blocked') return;
      if (isActiveState(s)) throw this.invalid(uuid, 'start', s);
      await dom.create(); // restores the managed-save image if there is one
    });
  }

  shutdown(uuid: string): Promise<void> {
    return this.onDomain('shut down', uuid, async (dom) => {
      const s = (await dom.getState()).stateName;
      if (!isActiveState(s)) return;
      if (s !== 'running' && s !== 'blocked' && s !== 'shutdown') throw this.invalid(uuid, 'shut down', s);
      await dom.shutdown(ShutdownFlags.ACPI_POWER_BTN);
    });
  }

  destroy(uuid: string): Promise<void> {
    return this.onDomain('destroy', uuid, async (dom) => {
      if (!await dom.isActive()) return;
      try {
        await dom.destroy();
      } catch (e) {
        // it stopped by itself meanwhile: the goal holds
        if (isLibvirtError(e, 'VIR_ERR_OPERATION_INVALID') && !await dom.isActive()) return;
        throw e;
      }
    });
  }

  reboot(uuid: string, hard: boolean): Promise<void> {
    return this.onDomain(hard ? 'reset' : 'reboot', uuid, async (dom) => {
      const s = (await dom.getState()).stateName;
      const ok = hard ? isActiveState(s) : s === 'running' || s === 'blocked';
      if (!ok) throw this.invalid(uuid, hard ? 'hard reboot' : 'reboot', s);
      if (hard) await dom.reset();
      else await dom.reboot(RebootFlags.ACPI_POWER_BTN);
    });
  }

  pause(uuid: string): Promise<void> {
    return this.onDomain('pause', uuid, async (dom) => {
      const s = (await dom.getState()).stateName;
      if (s === 'paused') return;
      if (s !== 'running' && s !== 'blocked') throw this.invalid(uuid, 'pause', s);
      await dom.suspend();
    });
  }

  unpause(uuid: string): Promise<void> {
    return this.onDomain('unpause', uuid, async (dom) => {
      const s = (await dom.getState()).stateName;
      if (s === 'running' || s === 'blocked') return;
      if (s !== 'paused') throw this.invalid(uuid, 'unpause', s);
      await dom.resume();
    });
  }

  managedSave(uuid: string): Promise<void> {
    return this.onDomain('managed save', uuid, async (dom) => {
      const s = (await dom.getState()).stateName;
      if (!isActiveState(s)) {
        if (await dom.hasManagedSaveImage()) return;
        throw this.invalid(uuid, 'save', s);
      }
      await dom.managedSave();
    });
  }

  // --- devices ---

  attachDisk(uuid: string, disk: DiskSpec): Promise<void> {
    return this.onDomain(`attach disk ${disk.target} to`, uuid, (dom, conn) => devices.attachDisk(this.ctx(dom, conn, uuid), disk));
  }

  detachDisk(uuid: string, target: string): Promise<void> {
    return this.onDomain(`detach disk ${target} from`, uuid, (dom, conn) => devices.detachDisk(this.ctx(dom, conn, uuid), target));
  }

  attachNic(uuid: string, nic: NicSpec): Promise<void> {
    return this.onDomain(`attach port ${nic.portId} to`, uuid, (dom, conn) => devices.attachNic(this.ctx(dom, conn, uuid), nic));
  }

  detachNic(uuid: string, portId: string): Promise<void> {
    return this.onDomain(`detach port ${portId} from`, uuid, (dom, conn) => devices.detachNic(this.ctx(dom, conn, uuid), portId));
  }

  // --- disk snapshots ---

  snapshotDisks(uuid: string, name: string): Promise<DiskSnapshotResult> {
    return this.onDomain(`snapshot disks of`, uuid, (dom, conn) => snapshots.snapshotDisks(this.ctx(dom, conn, uuid), name));
  }

  commitDisk(uuid: string, target: string): Promise<void> {
    return this.onDomain(`commit disk ${target} of`, uuid, (dom, conn) => snapshots.commitDisk(this.ctx(dom, conn, uuid), target));
  }

  // --- live migration (migration.ts) ---

  migrate(uuid: string, req: MigrateRequest): Promise<void> {
    return this.onDomain(`migrate to ${req.destUri}`, uuid, async (dom) => {
      await migration.migrate(dom, req);
      this.managedUuids.delete(uuid.toLowerCase()); // the source definition is gone
    });
  }

  migrationStats(uuid: string): Promise<MigrationStats> {
    return this.onDomain('read the job of', uuid, (dom) => migration.migrationStats(dom));
  }

  setMigrationMaxDowntime(uuid: string, ms: number): Promise<void> {
    return this.onDomain('set the migration downtime of', uuid, (dom) => dom.migrateSetMaxDowntime(Math.max(1, Math.round(ms))));
  }

  startPostCopy(uuid: string): Promise<void> {
    return this.onDomain('switch to post-copy', uuid, (dom) => dom.migrateStartPostCopy(0));
  }

  abortJob(uuid: string): Promise<void> {
    return this.onDomain('abort the job of', uuid, (dom) => dom.abortJob(0));
  }

  // --- network DHCP host entries (virsh net-update, see dhcp-hosts.ts) ---

  listDhcpHosts(network: string): Promise<DhcpHost[]> {
    return this.dhcp.list(network);
  }

  setDhcpHost(network: string, host: DhcpHost): Promise<void> {
    return this.dhcp.set(network, host);
  }

  removeDhcpHost(network: string, host: DhcpHost): Promise<void> {
    return this.dhcp.remove(network, host);
  }
}
