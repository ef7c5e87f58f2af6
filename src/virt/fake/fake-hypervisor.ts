/**
 * FakeHypervisor: an in-memory Hypervisor for the agent's unit tests. It follows the same state rules as
 * LibvirtHypervisor (the same operations are no-ops, the same ones fail with 'invalid_state'), reports
 * the same libvirt state/reason names and emits the same events, asynchronously as libvirt does.
 * On top it lets a test play the guest and the host: a guest that ignores ACPI or never releases a
 * device, a guest that powers itself off or crashes, a libvirtd that goes away, and per-method faults
 * (see faults.ts). It is no substitute for the real thing: integration tests use LibvirtHypervisor.
 */
import { EventEmitter } from 'node:events';
import { buildDomainXml, diskAlias, domainSpecFromXml, nicAlias, parseDomainXml } from '../domain-xml/index.js';
import { VirtError } from '../errors.js';
import {
  domainNameFor, type DhcpHost, type DiskSnapshotResult, type DiskSpec, type DomainSpec, type DomainStatus, type HostInfo, type Hypervisor,
  type HypervisorEvent, type NicSpec, type PowerState,
} from '../hypervisor.js';
import { checkSnapshotName, isOverlayPath, overlayPathFor } from '../overlays.js';
import { isActiveState, powerStateOf, powerStateOfEvent } from '../power-state.js';
import { Faults, type FakeMethod } from './faults.js';
import { FakeMigration, type FakeMigrationPlan } from './fake-migration.js';
import { NO_MIGRATION_JOB, rewritePaths, type MigrateRequest, type MigrationStats } from '../migration.js';

type State = 'running' | 'paused' | 'shutoff';

export interface GuestBehaviour {
  /** the guest ignores the ACPI power button (shutdown and soft reboot do nothing), like a guest without an OS */
  ignoreAcpi: boolean;
  /** the guest never releases hot-unplugged devices: live detach times out */
  holdDevices: boolean;
}

interface FakeDomain {
  uuid: string;
  name: string;
  /** persistent definition; null for a foreign (non-novalet) domain */
  config: DomainSpec | null;
  /** running definition while active */
  live: DomainSpec | null;
  foreignXml: string | null;
  state: State;
  reason: string;
  managedSave: boolean;
  savedPaused: boolean;
  guest: GuestBehaviour;
  /** incremented by every (re)boot of the guest; a restore from managed save is not a boot */
  boots: number;
  timers: Set<NodeJS.Timeout>;
}

/**
 * What lives on the host, not in the agent process: domains, overlays, libvirtd's availability, and the
 * event stream. Shared by FakeHypervisor instances created with the same `host` (an agent restart: the old
 * instance is closed, guests keep running, a new instance sees them).
 */
export class FakeHost {
  /** @internal */ readonly domains = new Map<string, FakeDomain>();
  /** @internal */ readonly events = new EventEmitter<{ event: [HypervisorEvent] }>();
  /** @internal overlay path -> base path, for commitDisk */ readonly overlayBase = new Map<string, string>();
  /** @internal */ down: string | null = null;
  /** @internal withoutEvents() nesting: events are dropped while > 0 */ muted = 0;
  /** libvirt networks that exist on the host -> their DHCP host entries (addNetwork) */
  readonly networks = new Map<string, DhcpHost[]>();
  /** destination URI -> the host a migration to it lands on */
  readonly peers = new Map<string, FakeHost>();
  /** @internal running migrations by uuid */ readonly migrations = new Map<string, FakeMigration>();
  /** @internal */ nextPlan: FakeMigrationPlan | undefined;
  constructor() { this.events.setMaxListeners(0); }
}

export interface FakeHypervisorOptions {
  /** share a host with another instance (see FakeHost); default a fresh host */
  host?: FakeHost;
  hostInfo?: Partial<HostInfo>;
  /** time between the ACPI power button and power-off / reboot of a cooperating guest; default 10 ms */
  acpiDelayMs?: number;
  /** how long a live detach waits for the guest (holdDevices) before 'timeout'; default 30 s as the real one */
  detachTimeoutMs?: number;
}

const DEFAULT_HOST: HostInfo = {
  hostname: 'fake-host', domainType: 'qemu', cpus: 4, cpuModel: 'fake', memoryMiB: 8192, freeMemoryMiB: 6144,
  hypervisorVersion: '7.2.0', libvirtVersion: '9.0.0', hostUuid: '00000000-0000-4000-8000-00000000f4ce', arch: 'x86_64',
};

const clone = <T>(v: T): T => structuredClone(v);

export class FakeHypervisor implements Hypervisor {
  readonly faults = new Faults();
  /** the simulated host; pass it to a new FakeHypervisor to simulate an agent restart on the same host */
  readonly host: FakeHost;
  private closed = false;
  private readonly listeners: ((e: HypervisorEvent) => void)[] = [];

  constructor(private readonly o: FakeHypervisorOptions = {}) {
    this.host = o.host ?? new FakeHost();
  }

  private get domains(): Map<string, FakeDomain> { return this.host.domains; }
  private get events(): EventEmitter<{ event: [HypervisorEvent] }> { return this.host.events; }
  private get overlayBase(): Map<string, string> { return this.host.overlayBase; }
  private get down(): string | null { return this.host.down; }
  private set down(v: string | null) { this.host.down = v; }

  // ---------- test controls (not part of Hypervisor) ----------

  /** libvirtd goes away: connectionLost now, every call fails with 'hypervisor_unavailable' until reconnect(). */
  disconnect(reason = 'eof'): void {
    if (this.down !== null) return;
    this.down = reason;
    this.emit({ type: 'connectionLost', reason });
  }

  reconnect(): void {
    if (this.down === null) return;
    this.down = null;
    this.emit({ type: 'connectionRestored' });
  }

  setGuest(uuid: string, behaviour: Partial<GuestBehaviour>): void {
    Object.assign(this.must(uuid).guest, behaviour);
  }

  /** The guest powers itself off (`poweroff` inside). */
  guestPowerOff(uuid: string): void {
    const d = this.must(uuid);
    if (isActiveState(d.state)) this.stop(d, 'shutdown', 'shutdown');
  }

  /** QEMU dies ('qemu': libvirt reports stopped/failed) or the guest panics ('guest': on_crash destroy). */
  crash(uuid: string, how: 'qemu' | 'guest' = 'qemu'): void {
    const d = this.must(uuid);
    if (!isActiveState(d.state)) return;
    if (how === 'guest') this.emitLater({ type: 'power', uuid, power: 'crashed', libvirtEvent: 'crashed', detail: 'panicked' });
    this.stop(d, 'crashed', how === 'qemu' ? 'failed' : 'crashed');
  }

  /** A domain novalet did not define (an operator's own). */
  addForeignDomain(o: { uuid: string; name: string; running?: boolean }): void {
    this.domains.set(o.uuid, this.newDomain(o.uuid, o.name, null,
      `<domain type='qemu'><name>${o.name}</name><uuid>${o.uuid}</uuid></domain>`, o.running ? 'running' : 'shutoff'));
  }

  /** How often the guest booted (start, soft and hard reboot; not a restore): tells a reboot happened. */
  boots(uuid: string): number {
    return this.must(uuid).boots;
  }

  /** The definition the domain runs with (live) or boots with next (persistent). */
  spec(uuid: string, live = false): DomainSpec | null {
    const d = this.must(uuid);
    return clone(live ? d.live : d.config);
  }

  has(uuid: string): boolean {
    return this.domains.has(uuid);
  }

  /** Power, managed-save image and boot count as libvirt holds them, without a recorded call (null: no domain). */
  inspect(uuid: string): { power: PowerState; managedSave: boolean; boots: number } | null {
    const d = this.domains.get(uuid);
    return d ? { power: powerStateOf(d.state), managedSave: d.managedSave, boots: d.boots } : null;
  }

  /** Runs fn with libvirt's events lost (as while a connection is being replaced): only a sweep sees its changes. */
  async withoutEvents<T>(fn: () => Promise<T>): Promise<T> {
    this.host.muted++;
    try {
      return await fn();
    } finally {
      await new Promise((r) => setImmediate(r)); // events are delivered after the call that caused them
      this.host.muted--;
    }
  }

  /** How the next migrate() behaves (see fake-migration.ts); default: it completes at once. */
  nextMigration(plan: FakeMigrationPlan): void {
    this.host.nextPlan = plan;
  }

  /** The migration running for this domain, if any. */
  migration(uuid: string): FakeMigration | undefined {
    return this.host.migrations.get(uuid);
  }

  // ---------- Hypervisor ----------

  migrate(uuid: string, req: MigrateRequest): Promise<void> {
    return this.op('migrate', [uuid, structuredClone(req)], async () => {
      const d = this.get(uuid);
      if (!isActiveState(d.state)) throw this.invalid(d, 'migrate');
      if (this.host.migrations.has(uuid)) throw new VirtError('operation_failed', `domain ${uuid} already has a migration job`);
      const dest = this.host.peers.get(req.destUri);
      if (dest?.domains.has(uuid)) throw new VirtError('operation_failed', `domain ${d.name} already exists on ${req.destUri}`);
      const m = new FakeMigration(uuid, structuredClone(req), this.host.nextPlan ?? {}, d.state === 'paused');
      this.host.nextPlan = undefined;
      this.host.migrations.set(uuid, m);
      m.onDone = (ok) => {
        this.host.migrations.delete(uuid);
        if (ok && m.plan.final) this.emit({ type: 'jobCompleted', uuid, stats: { ...NO_MIGRATION_JOB, ...m.plan.final, active: false } });
        if (ok) this.landOn(d, dest, req, m.startedPaused);
      };
      const done = new Promise<void>((resolve, reject) => { m.settle = { resolve, reject }; });
      if (!m.plan.hold && !(m.plan.script?.length)) setImmediate(() => m.complete());
      await done;
    });
  }

  migrationStats(uuid: string): Promise<MigrationStats> {
    return this.op('migrationStats', [uuid], async () => {
      this.get(uuid);
      const m = this.host.migrations.get(uuid);
      return m ? m.read() : { ...NO_MIGRATION_JOB };
    });
  }

  setMigrationMaxDowntime(uuid: string, ms: number): Promise<void> {
    return this.op('setMigrationMaxDowntime', [uuid, ms], async () => {
      const d = this.get(uuid);
      const m = this.host.migrations.get(uuid);
      if (!m) throw this.invalid(d, 'set the migration downtime of');
      m.downtimes.push(ms);
    });
  }

  startPostCopy(uuid: string): Promise<void> {
    return this.op('startPostCopy', [uuid], async () => {
      const d = this.get(uuid);
      const m = this.host.migrations.get(uuid);
      if (!m || !m.req.postCopy) throw this.invalid(d, 'switch to post-copy');
      m.postCopy = true;
      m.nudge();
    });
  }

  abortJob(uuid: string): Promise<void> {
    return this.op('abortJob', [uuid], async () => {
      const d = this.get(uuid);
      const m = this.host.migrations.get(uuid);
      if (!m) throw this.invalid(d, 'abort the job of');
      m.abort();
    });
  }

  onEvent(listener: (event: HypervisorEvent) => void): () => void {
    const safe = (e: HypervisorEvent): void => { try { listener(e); } catch { /* listener's problem */ } };
    this.events.on('event', safe);
    this.listeners.push(safe);
    return () => { this.events.off('event', safe); };
  }

  /** Later calls fail with 'hypervisor_unavailable'; the host (guests, pending ACPI actions) carries on. */
  async close(): Promise<void> {
    this.closed = true;
    this.faults.clear();
    for (const l of this.listeners.splice(0)) this.events.off('event', l);
  }

  hostInfo(): Promise<HostInfo> {
    return this.op('hostInfo', [], async () => ({ ...DEFAULT_HOST, ...this.o.hostInfo }));
  }

  listDomains(): Promise<DomainStatus[]> {
    return this.op('listDomains', [], async () => [...this.domains.values()].map((d) => this.status(d)));
  }

  getDomain(uuid: string): Promise<DomainStatus | null> {
    return this.op('getDomain', [uuid], async () => {
      const d = this.domains.get(uuid);
      return d ? this.status(d) : null;
    });
  }

  getDomainXml(uuid: string, inactive = false): Promise<string> {
    return this.op('getDomainXml', [uuid, inactive], async () => {
      const d = this.get(uuid);
      if (d.foreignXml !== null) return d.foreignXml;
      const spec = !inactive && d.live ? d.live : d.config!;
      return buildDomainXml(spec);
    });
  }

  define(spec: DomainSpec): Promise<void> {
    return this.op('define', [clone(spec)], async () => this.defineSpec(spec));
  }

  defineXml(xml: string): Promise<void> {
    return this.op('defineXml', [xml], async () => {
      const spec = domainSpecFromXml(xml);
      if (spec) return this.defineSpec(spec);
      const p = parseDomainXml(xml);
      if (!p.name) throw new VirtError('operation_failed', 'defineXml: no domain name');
      const uuid = p.uuid || crypto.randomUUID();
      const existing = this.domains.get(uuid);
      if (existing && existing.name !== p.name) throw new VirtError('operation_failed', `domain ${existing.name} already exists with uuid ${uuid}`);
      if (existing) existing.foreignXml = xml;
      else this.domains.set(uuid, this.newDomain(uuid, p.name, null, xml, 'shutoff'));
    });
  }

  undefine(uuid: string): Promise<void> {
    return this.op('undefine', [uuid], async () => {
      const d = this.domains.get(uuid);
      if (!d) return;
      if (isActiveState(d.state)) throw this.invalid(d, 'undefine');
      this.clearTimers(d);
      this.domains.delete(uuid);
    });
  }

  start(uuid: string): Promise<void> {
    return this.op('start', [uuid], async () => {
      const d = this.get(uuid);
      if (d.state === 'running') return;
      if (d.state !== 'shutoff') throw this.invalid(d, 'start');
      d.live = clone(d.config);
      if (d.managedSave) {
        d.managedSave = false;
        d.state = d.savedPaused ? 'paused' : 'running';
        d.reason = d.savedPaused ? 'user' : 'restored';
        this.lifecycle(d, 'started', 'restored');
        // libvirt announces an image saved while paused as started, then suspended (qemuSaveImageStartVM)
        if (d.savedPaused) this.lifecycle(d, 'suspended', 'restored');
      } else {
        d.state = 'running';
        d.reason = 'booted';
        d.boots++;
        this.lifecycle(d, 'started', 'booted');
      }
    });
  }

  shutdown(uuid: string): Promise<void> {
    return this.op('shutdown', [uuid], async () => {
      const d = this.get(uuid);
      if (d.state === 'shutoff') return;
      if (d.state !== 'running') throw this.invalid(d, 'shut down');
      if (d.guest.ignoreAcpi) return;
      this.later(d, () => { if (d.state === 'running') this.stop(d, 'shutdown', 'shutdown'); });
    });
  }

  destroy(uuid: string): Promise<void> {
    return this.op('destroy', [uuid], async () => {
      const d = this.get(uuid);
      if (d.state !== 'shutoff') this.stop(d, 'destroyed', 'destroyed');
    });
  }

  reboot(uuid: string, hard: boolean): Promise<void> {
    return this.op('reboot', [uuid, hard], async () => {
      const d = this.get(uuid);
      const ok = hard ? isActiveState(d.state) : d.state === 'running';
      if (!ok) throw this.invalid(d, hard ? 'hard reboot' : 'reboot');
      // libvirt reports no lifecycle event for a reboot: the domain stays active throughout
      if (hard) d.boots++;
      else if (!d.guest.ignoreAcpi) this.later(d, () => { if (d.state === 'running') d.boots++; });
    });
  }

  pause(uuid: string): Promise<void> {
    return this.op('pause', [uuid], async () => {
      const d = this.get(uuid);
      if (d.state === 'paused') return;
      if (d.state !== 'running') throw this.invalid(d, 'pause');
      d.state = 'paused';
      d.reason = 'user';
      this.lifecycle(d, 'suspended', 'paused');
      this.host.migrations.get(uuid)?.nudge(); // a paused guest dirties nothing: its migration converges
    });
  }

  unpause(uuid: string): Promise<void> {
    return this.op('unpause', [uuid], async () => {
      const d = this.get(uuid);
      if (d.state === 'running') return;
      if (d.state !== 'paused') throw this.invalid(d, 'unpause');
      d.state = 'running';
      d.reason = 'unpaused';
      this.lifecycle(d, 'resumed', 'unpaused');
    });
  }

  managedSave(uuid: string): Promise<void> {
    return this.op('managedSave', [uuid], async () => {
      const d = this.get(uuid);
      if (d.state === 'shutoff') {
        if (d.managedSave) return;
        throw this.invalid(d, 'save');
      }
      d.savedPaused = d.state === 'paused';
      this.stop(d, 'saved', 'saved');
      d.managedSave = true;
    });
  }

  attachDisk(uuid: string, disk: DiskSpec): Promise<void> {
    return this.op('attachDisk', [uuid, clone(disk)], async () => {
      const d = this.novalet(uuid);
      buildDomainXml({ ...d.config!, disks: [disk] }); // same validation as the real one
      for (const spec of this.sides(d)) if (!spec.disks.some((x) => x.target === disk.target)) spec.disks.push(clone(disk));
    });
  }

  detachDisk(uuid: string, target: string): Promise<void> {
    return this.op('detachDisk', [uuid, target], async () => {
      const d = this.novalet(uuid);
      d.config!.disks = d.config!.disks.filter((x) => x.target !== target);
      const live = d.live?.disks.find((x) => x.target === target);
      if (!live) return;
      await this.unplug(d, diskAlias(live.role, target), () => { d.live!.disks = d.live!.disks.filter((x) => x.target !== target); });
    });
  }

  attachNic(uuid: string, nic: NicSpec): Promise<void> {
    return this.op('attachNic', [uuid, clone(nic)], async () => {
      const d = this.novalet(uuid);
      buildDomainXml({ ...d.config!, nics: [nic] });
      for (const spec of this.sides(d)) if (!spec.nics.some((x) => x.portId === nic.portId)) spec.nics.push(clone(nic));
    });
  }

  detachNic(uuid: string, portId: string): Promise<void> {
    return this.op('detachNic', [uuid, portId], async () => {
      const d = this.novalet(uuid);
      d.config!.nics = d.config!.nics.filter((x) => x.portId !== portId);
      if (!d.live?.nics.some((x) => x.portId === portId)) return;
      await this.unplug(d, nicAlias(portId), () => { d.live!.nics = d.live!.nics.filter((x) => x.portId !== portId); });
    });
  }

  snapshotDisks(uuid: string, name: string): Promise<DiskSnapshotResult> {
    return this.op('snapshotDisks', [uuid, name], async () => {
      const d = this.novalet(uuid);
      const bad = checkSnapshotName(name);
      if (bad) throw new VirtError('operation_failed', bad);
      const overlays: Record<string, string> = {};
      const current = d.live ?? d.config!;
      for (const disk of current.disks) {
        if ((disk.device ?? 'disk') !== 'disk' || disk.readonly || (disk.sourceType ?? 'file') !== 'file') continue;
        if (isOverlayPath(disk.path, name)) { overlays[disk.target] = disk.path; continue; }
        const overlay = overlayPathFor(disk.path, name);
        this.overlayBase.set(overlay, disk.path);
        overlays[disk.target] = overlay;
        for (const spec of this.sides(d)) {
          const x = spec.disks.find((y) => y.target === disk.target);
          if (x) { x.path = overlay; x.format = 'qcow2'; }
        }
      }
      return { overlays };
    });
  }

  commitDisk(uuid: string, target: string): Promise<void> {
    return this.op('commitDisk', [uuid, target], async () => {
      const d = this.novalet(uuid);
      const disk = (d.live ?? d.config!).disks.find((x) => x.target === target);
      if (!disk) throw new VirtError('operation_failed', `domain ${uuid} has no disk ${target}`);
      if (!isOverlayPath(disk.path)) return; // not on an overlay (already committed)
      const base = this.overlayBase.get(disk.path) ?? disk.path.replace(/\.[^./]+\.overlay\.qcow2$/, '');
      if (d.live) {
        this.emitLater({ type: 'blockJob', uuid, disk: target, status: 'ready' });
        this.emitLater({ type: 'blockJob', uuid, disk: target, status: 'completed' });
      }
      this.overlayBase.delete(disk.path);
      for (const spec of this.sides(d)) {
        const x = spec.disks.find((y) => y.target === target);
        if (x) x.path = base;
      }
    });
  }

  // ---------- network DHCP host entries ----------

  /** A libvirt network on the host (DHCP host calls on other names fail as libvirt's do). */
  addNetwork(name: string, hosts: DhcpHost[] = []): void {
    this.host.networks.set(name, clone(hosts));
  }

  listDhcpHosts(network: string): Promise<DhcpHost[]> {
    return this.op('listDhcpHosts', [network], async () => clone(this.network(network)));
  }

  setDhcpHost(network: string, host: DhcpHost): Promise<void> {
    return this.op('setDhcpHost', [network, clone(host)], async () => {
      const want = { mac: host.mac.toLowerCase(), ip: host.ip };
      const hosts = this.network(network);
      if (hosts.some((h) => h.mac === want.mac && h.ip === want.ip)) return;
      this.host.networks.set(network, [...hosts.filter((h) => h.mac !== want.mac && h.ip !== want.ip), want]);
    });
  }

  removeDhcpHost(network: string, host: DhcpHost): Promise<void> {
    return this.op('removeDhcpHost', [network, clone(host)], async () => {
      const hosts = this.host.networks.get(network);
      if (!hosts) return;
      this.host.networks.set(network, hosts.filter((h) => !(h.mac === host.mac.toLowerCase() && h.ip === host.ip)));
    });
  }

  private network(name: string): DhcpHost[] {
    const hosts = this.host.networks.get(name);
    if (!hosts) throw new VirtError('operation_failed', `network not found: no network with matching name '${name}'`);
    return hosts;
  }

  // ---------- internals ----------

  private op<T>(method: FakeMethod, args: unknown[], fn: () => Promise<T>): Promise<T> {
    return this.faults.run(method, args, async () => {
      if (this.closed) throw new VirtError('hypervisor_unavailable', 'hypervisor closed');
      if (this.down !== null) throw new VirtError('hypervisor_unavailable', `libvirt connection lost (${this.down})`);
      return fn();
    });
  }

  private newDomain(uuid: string, name: string, config: DomainSpec | null, foreignXml: string | null, state: State): FakeDomain {
    return {
      uuid, name, config, live: state === 'running' ? clone(config) : null, foreignXml, state,
      reason: state === 'running' ? 'booted' : 'unknown', managedSave: false, savedPaused: false,
      guest: { ignoreAcpi: false, holdDevices: false }, boots: state === 'running' ? 1 : 0, timers: new Set(),
    };
  }

  /** UNDEFINE_SOURCE + PERSIST_DEST: the domain leaves this host and appears on the destination (if registered). */
  private landOn(d: FakeDomain, dest: FakeHost | undefined, req: MigrateRequest, paused: boolean): void {
    const move = <T>(v: T): T => (v === null ? v : JSON.parse(rewritePaths(JSON.stringify(v), (req.pathRewrites ?? []).map(([a, b]) => [a, b]))) as T);
    this.clearTimers(d);
    this.domains.delete(d.uuid);
    this.emitLater({ type: 'power', uuid: d.uuid, power: 'shutdown', libvirtEvent: 'stopped', detail: 'migrated' });
    if (!dest) return;
    const arrived: FakeDomain = {
      ...d, config: move(d.config), live: move(d.live), timers: new Set(), reason: 'migrated', guest: { ...d.guest },
      state: paused ? 'paused' : 'running',
    };
    dest.domains.set(d.uuid, arrived);
    setImmediate(() => {
      const power = paused ? 'paused' : 'running';
      if (dest.muted === 0) dest.events.emit('event', { type: 'power', uuid: d.uuid, power, libvirtEvent: power === 'paused' ? 'suspended' : 'resumed', detail: 'migrated' });
    });
  }

  private defineSpec(spec: DomainSpec): void {
    try {
      buildDomainXml(spec);
    } catch (e) {
      throw new VirtError('operation_failed', `define ${spec.uuid}: ${(e as Error).message}`, { cause: e });
    }
    const d = this.domains.get(spec.uuid);
    if (d) d.config = clone(spec); // a redefinition: the running definition is untouched until the next boot
    else this.domains.set(spec.uuid, this.newDomain(spec.uuid, domainNameFor(spec.uuid), clone(spec), null, 'shutoff'));
  }

  private status(d: FakeDomain): DomainStatus {
    return {
      uuid: d.uuid, name: d.name, power: powerStateOf(d.state), libvirtState: d.state, libvirtReason: d.reason,
      managedSave: d.managedSave, managed: d.config !== null,
    };
  }

  private get(uuid: string): FakeDomain {
    const d = this.domains.get(uuid);
    if (!d) throw new VirtError('domain_not_found', `no domain with uuid ${uuid}`, { libvirtCode: 'VIR_ERR_NO_DOMAIN' });
    return d;
  }

  private must(uuid: string): FakeDomain {
    const d = this.domains.get(uuid);
    if (!d) throw new Error(`FakeHypervisor: no domain ${uuid}`);
    return d;
  }

  /** Device and snapshot operations need a novalet definition to edit. */
  private novalet(uuid: string): FakeDomain {
    const d = this.get(uuid);
    if (d.config === null) throw new VirtError('operation_failed', `domain ${d.name} is not managed by novalet`);
    return d;
  }

  /** The definitions a device change applies to: persistent, and live when running. */
  private sides(d: FakeDomain): DomainSpec[] {
    return d.live ? [d.config!, d.live] : [d.config!];
  }

  private async unplug(d: FakeDomain, alias: string, remove: () => void): Promise<void> {
    if (d.guest.holdDevices) {
      const ms = this.o.detachTimeoutMs ?? 30_000;
      await new Promise((r) => setTimeout(r, ms));
      throw new VirtError('timeout', `timed out after ${ms} ms waiting for the guest to release ${alias}`);
    }
    remove();
    this.emitLater({ type: 'deviceRemoved', uuid: d.uuid, alias });
  }

  private invalid(d: FakeDomain, what: string): VirtError {
    return new VirtError('invalid_state', `cannot ${what} domain ${d.uuid}: it is ${d.state}`, { libvirtCode: 'VIR_ERR_OPERATION_INVALID' });
  }

  private stop(d: FakeDomain, reason: string, detail: string): void {
    this.clearTimers(d);
    d.state = 'shutoff';
    d.reason = reason;
    d.live = null;
    this.lifecycle(d, 'stopped', detail);
  }

  private lifecycle(d: FakeDomain, event: string, detail: string): void {
    const power = powerStateOfEvent(event, detail);
    if (power) this.emitLater({ type: 'power', uuid: d.uuid, power, libvirtEvent: event, detail });
  }

  /** libvirt events arrive after the call that caused them returned */
  private emitLater(e: HypervisorEvent): void {
    setImmediate(() => this.emit(e));
  }

  private emit(e: HypervisorEvent): void {
    if (this.host.muted > 0 && e.type !== 'connectionLost' && e.type !== 'connectionRestored') return;
    this.events.emit('event', e);
  }

  private later(d: FakeDomain, fn: () => void): void {
    const t = setTimeout(() => { d.timers.delete(t); fn(); }, this.o.acpiDelayMs ?? 10);
    t.unref(); // a guest's pending power-off must not keep a test process alive
    d.timers.add(t);
  }

  private clearTimers(d: FakeDomain): void {
    for (const t of d.timers) clearTimeout(t);
    d.timers.clear();
  }
}
