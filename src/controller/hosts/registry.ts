/**
 * The host registry: each agent reports a heartbeat with its inventory; a host is up while its heartbeat is fresh
 * and it is not forced down (Nova's servicegroup semantics). os-services and os-hypervisors read it; evacuation
 * refuses to move servers off a host that is up. The agent/RPC side calls `heartbeat()`.
 */
import { randomUUID } from 'node:crypto';
import type { Store, Host, HostUsage, Server } from '../../store/index.js';
import type { ControllerConfig } from '../config.js';
import { notFound } from '../errors.js';
import { supportedInstances, type SupportedInstance } from '../scheduler/image-properties.js';

export interface HostInventory {
  vcpus: number; memoryMb: number; diskGb: number; hypervisorType?: string; hypervisorVersion?: number; hostIp?: string;
  /** the agent refuses new guests (an operator drained it before maintenance): not schedulable */
  drained?: boolean;
  /** the host's architecture (x86_64, aarch64) and libvirt domain type (kvm, qemu): the guests it runs */
  arch?: string;
  domainType?: string;
}

/** Nova's host_status of a server's host (2.16) */
export type HostStatus = 'UP' | 'DOWN' | 'MAINTENANCE' | 'UNKNOWN';

export class HostRegistry {
  /** last known row per host, so that server views can show host_status without a query per server */
  private readonly known = new Map<string, Host>();
  /** hosts whose agent said it is drained in its last heartbeat (a fact of the agent, not stored) */
  private readonly drained = new Set<string>();
  /** the guest kinds each host runs, from its last heartbeat (a fact of the agent, not stored) */
  private readonly supported = new Map<string, SupportedInstance[]>();

  constructor(private readonly store: Store, private readonly cfg: ControllerConfig) {}

  private remember<T extends Host | null>(h: T): T {
    if (h) this.known.set(h.name, h);
    return h;
  }

  /** Nova's order: a down (or forced down) service is DOWN, else a disabled one is MAINTENANCE */
  statusOf(name: string, nowMs = Date.now()): HostStatus {
    const h = this.known.get(name);
    if (!h) return 'UNKNOWN';
    if (!this.isUp(h, nowMs)) return 'DOWN';
    return h.disabled ? 'MAINTENANCE' : 'UP';
  }

  async heartbeat(name: string, inv: HostInventory, at = new Date()): Promise<Host> {
    const t = at.toISOString();
    if (inv.drained) this.drained.add(name); else this.drained.delete(name);
    this.noteCapabilities(name, inv);
    const existing = await this.store.getHost(name);
    await this.store.upsertHost({
      name, serviceId: existing?.serviceId ?? randomUUID(), hypervisorId: existing?.hypervisorId ?? randomUUID(),
      disabled: existing?.disabled ?? false, disabledReason: existing?.disabledReason ?? null, forcedDown: existing?.forcedDown ?? false,
      lastSeenAt: t, vcpus: inv.vcpus, memoryMb: inv.memoryMb, diskGb: inv.diskGb, hypervisorType: inv.hypervisorType ?? 'QEMU',
      hypervisorVersion: inv.hypervisorVersion ?? 0, hostIp: inv.hostIp ?? '', createdAt: existing?.createdAt ?? t, updatedAt: t,
    });
    return this.remember((await this.store.getHost(name))!);
  }

  /** the drained flag of a host whose heartbeat another controller records (heartbeats split between controllers) */
  noteDrained(name: string, drained: boolean | undefined): void {
    if (drained) this.drained.add(name); else this.drained.delete(name);
  }

  /** what a host runs, from an inventory (also of a host whose heartbeat another controller records) */
  noteCapabilities(name: string, inv: Pick<HostInventory, 'arch' | 'domainType'>): void {
    if (inv.arch) this.supported.set(name, supportedInstances(inv.arch, inv.domainType ?? 'qemu'));
  }

  /** the ImagePropertiesFilter's view of a host; undefined until its agent reported its architecture */
  supportedInstances(name: string): readonly SupportedInstance[] | undefined { return this.supported.get(name); }

  /** when the host's last heartbeat was recorded (by any controller), as last read from the store; null: never */
  lastSeenMs(name: string): number | null {
    const t = this.known.get(name)?.lastSeenAt;
    return t ? Date.parse(t) : null;
  }

  /** new servers may be placed here: up, enabled, not drained */
  isSchedulable(h: Host, nowMs = Date.now()): boolean {
    return !h.disabled && !this.drained.has(h.name) && this.isUp(h, nowMs);
  }

  /** how long without a heartbeat before a host is down (Nova's service_down_time) */
  downAfterMs(): number { return this.cfg.serviceDownTimeSeconds * 1000; }

  isUp(h: Host, nowMs = Date.now()): boolean {
    if (h.forcedDown || !h.lastSeenAt) return false;
    return nowMs - Date.parse(h.lastSeenAt) <= this.cfg.serviceDownTimeSeconds * 1000;
  }

  /** up now, by the last row seen (a host never seen is not up) */
  async isUpByName(name: string, nowMs = Date.now()): Promise<boolean> {
    const h = this.known.get(name) ?? this.remember(await this.store.getHost(name));
    return !!h && this.isUp(h, nowMs);
  }

  async list(): Promise<Host[]> {
    const hosts = await this.store.listHosts();
    for (const h of hosts) this.remember(h);
    return hosts;
  }

  async get(name: string): Promise<Host> {
    const h = this.remember(await this.store.getHost(name));
    if (!h) throw notFound(`Host ${name} could not be found.`);
    return h;
  }

  async byServiceId(id: string): Promise<Host> {
    const h = (await this.store.listHosts()).find((x) => x.serviceId === id);
    if (!h) throw notFound(`Service ${id} could not be found.`);
    return h;
  }

  async byHypervisorId(id: string): Promise<Host> {
    const h = (await this.store.listHosts()).find((x) => x.hypervisorId === id);
    if (!h) throw notFound(`Hypervisor ${id} could not be found.`);
    return h;
  }

  /** the servers placed on the host (os-hypervisors with_servers: nova host-evacuate's list) */
  async serversOn(name: string): Promise<Server[]> {
    return (await this.store.listServers({ host: name, limit: 100_000 })).filter((s) => s.host === name);
  }

  /** what the servers placed on the host use (os-hypervisors) */
  usage(name: string): Promise<HostUsage> { return this.store.getHostUsage(name); }

  async update(name: string, c: { disabled?: boolean; disabledReason?: string | null; forcedDown?: boolean }): Promise<Host> {
    await this.store.updateHost(name, c);
    return this.get(name);
  }
}
