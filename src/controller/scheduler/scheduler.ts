/**
 * The scheduler: Nova's filter + weigh in one pass over an in-memory view of the hosts. Capacity comes from the
 * agents' heartbeats, usage from the store's claims (refreshed after every heartbeat round) plus the claims this
 * process made since. The view only proposes: the claim itself is a conditional write in the database
 * (placement.ts), so a stale view (another controller's claims) costs a retry, never an over-commit. Filters: enabled, up,
 * requested host, availability zone, image properties, RAM / vCPU / disk with allocation ratios. Weighers (weighers.ts): free RAM, vCPUs and disk plus the
 * soft group policies, normalised and summed as Nova does; spread by default, pack with negative multipliers.
 * Selection is O(hosts) with no I/O: well under a millisecond at 1,000 hosts.
 */
import type { FlavorSnapshot, Host, HostUsage, Resources } from '../../store/index.js';
import { claimOf } from '../../store/index.js';
import { ApiError, noValidHost } from '../errors.js';
import { bestHost, SPREAD, type WeighedHost, type WeigherMultipliers } from './weighers.js';
import { hostTakesImage, type ImageRequirements, type SupportedInstance } from './image-properties.js';

/** what the filters know of a host beyond its row, looked up at each selection (a change applies at once) */
export interface HostFacts {
  /** its availability zone (host aggregates) */
  zoneOf(host: string): string;
  /** the guest kinds it runs (its agent's inventory); undefined: not reported */
  supportedInstances?(host: string): readonly SupportedInstance[] | undefined;
}

const NO_FACTS: HostFacts = { zoneOf: () => '' };

export interface SchedulerConfig {
  /** Nova's initial_cpu_allocation_ratio */
  cpuAllocationRatio: number;
  /** Nova's initial_ram_allocation_ratio */
  ramAllocationRatio: number;
  /** Nova's initial_disk_allocation_ratio */
  diskAllocationRatio: number;
  /** Nova's reserved_host_memory_mb */
  reservedHostMemoryMb: number;
  /** the weighers' multipliers (Nova's *_weight_multiplier): all positive spreads, negative resource ones pack */
  weighers: WeigherMultipliers;
}

export const DEFAULT_SCHEDULER_CONFIG: SchedulerConfig = {
  cpuAllocationRatio: 4.0, ramAllocationRatio: 1.0, diskAllocationRatio: 1.0, reservedHostMemoryMb: 512, weighers: SPREAD,
};

interface HostState {
  name: string;
  usable: boolean;
  vcpus: number; memoryMb: number; diskGb: number;
  used: HostUsage;
  /** Nova's integer form (7002000 for 7.2.0) */
  hypervisorVersion: number;
}

export interface SelectOptions {
  /** an admin's requested host, the only candidate: the fit is still checked, the weighing skipped */
  forcedHost?: string;
  /** hosts ruled out (failed builds, anti-affinity, different_host) */
  exclude?: readonly string[];
  /** only these hosts (affinity, same_host) */
  only?: ReadonlySet<string>;
  /** AvailabilityZoneFilter: only hosts of this availability zone */
  zone?: string;
  /** ImagePropertiesFilter: what the server's image asks of its host */
  image?: ImageRequirements;
  /** higher is better: the group weigher's score (soft-affinity, soft-anti-affinity) */
  prefer?: (host: string) => number;
}

export class Scheduler {
  private hosts = new Map<string, HostState>();
  /** claims made since the last refresh, per host (the store may not show them yet) */
  private pending = new Map<string, HostUsage[]>();
  private facts: HostFacts = NO_FACTS;

  constructor(private readonly cfg: SchedulerConfig = DEFAULT_SCHEDULER_CONFIG) {}

  /** replace the view: hosts with their up/enabled state, usage as the store counts it */
  refresh(hosts: Host[], usage: Map<string, HostUsage>, isUp: (h: Host) => boolean, facts: HostFacts = NO_FACTS): void {
    const next = new Map<string, HostState>();
    for (const h of hosts) {
      next.set(h.name, {
        name: h.name, usable: !h.disabled && isUp(h), vcpus: h.vcpus, memoryMb: h.memoryMb, diskGb: h.diskGb,
        used: usage.get(h.name) ?? { instances: 0, vcpus: 0, memoryMb: 0, diskGb: 0 }, hypervisorVersion: h.hypervisorVersion,
      });
    }
    this.hosts = next;
    this.facts = facts;
    this.pending.clear();
  }

  knows(host: string): boolean { return this.hosts.has(host); }

  /** the most a host may hold (capacity x allocation ratio, less reserved memory): what a database claim checks */
  limits(host: string): Resources | null {
    const h = this.hosts.get(host);
    if (!h) return null;
    return {
      vcpus: h.vcpus * this.cfg.cpuAllocationRatio,
      memoryMb: h.memoryMb * this.cfg.ramAllocationRatio - this.cfg.reservedHostMemoryMb,
      diskGb: h.diskGb * this.cfg.diskAllocationRatio,
    };
  }

  /** the store's usage of one host (after a claim found the view stale); the host's pending claims are in it */
  setUsage(host: string, used: HostUsage): void {
    const h = this.hosts.get(host);
    if (!h) return;
    h.used = used;
    this.pending.delete(host);
  }

  /**
   * Picks a host for `flavor` and claims its resources. `forcedHost` (admin create with host/AZ:host) skips the
   * weighing but not the fit check, as Nova's requested_destination does.
   */
  select(flavor: FlavorSnapshot, opts: SelectOptions = {}): string {
    const candidates = opts.forcedHost ? [this.hosts.get(opts.forcedHost)].filter((h): h is HostState => !!h) : this.hosts.values();
    if (opts.forcedHost && !this.hosts.has(opts.forcedHost)) throw new ApiError('bad_request', `Compute host ${opts.forcedHost} could not be found.`);
    const fits: WeighedHost[] = [];
    for (const h of candidates) {
      if (!h.usable || opts.exclude?.includes(h.name) || (opts.only && !opts.only.has(h.name))) continue;
      if (opts.zone !== undefined && this.facts.zoneOf(h.name) !== opts.zone) continue;
      if (opts.image && !hostTakesImage(this.facts.supportedInstances?.(h.name), h.hypervisorVersion, opts.image)) continue;
      const used = this.usedWithClaims(h);
      const freeRamMb = h.memoryMb * this.cfg.ramAllocationRatio - this.cfg.reservedHostMemoryMb - used.memoryMb - flavor.ram;
      const freeVcpus = h.vcpus * this.cfg.cpuAllocationRatio - used.vcpus - flavor.vcpus;
      const freeDiskGb = h.diskGb * this.cfg.diskAllocationRatio - used.diskGb - claimOf(flavor).diskGb;
      if (freeRamMb < 0 || freeVcpus < 0 || freeDiskGb < 0) continue;
      fits.push({ name: h.name, freeRamMb, freeVcpus, freeDiskGb, groupPreference: opts.prefer?.(h.name) ?? 0 });
    }
    const best = bestHost(fits, this.cfg.weighers ?? SPREAD);
    if (!best) throw noValidHost();
    const claim = { instances: 1, ...claimOf(flavor) };
    this.pending.set(best.name, [...(this.pending.get(best.name) ?? []), claim]);
    return best.name;
  }

  private usedWithClaims(h: HostState): HostUsage {
    const claims = this.pending.get(h.name);
    if (!claims) return h.used;
    return claims.reduce((a, c) => ({ instances: a.instances + c.instances, vcpus: a.vcpus + c.vcpus, memoryMb: a.memoryMb + c.memoryMb, diskGb: a.diskGb + c.diskGb }), h.used);
  }

  /**
   * A server left `host` (deleted): its resources are free now, not only after the next refresh, so a create right
   * after a delete can use them.
   */
  free(host: string, flavor: FlavorSnapshot): void {
    const h = this.hosts.get(host);
    if (!h) return;
    const u = h.used;
    const c = claimOf(flavor);
    h.used = {
      instances: Math.max(0, u.instances - 1), vcpus: Math.max(0, u.vcpus - c.vcpus),
      memoryMb: Math.max(0, u.memoryMb - c.memoryMb), diskGb: Math.max(0, u.diskGb - c.diskGb),
    };
  }

  /** give back a claim whose build failed before the store counted it */
  release(host: string, flavor: FlavorSnapshot): void {
    const claims = this.pending.get(host);
    if (!claims) return;
    const i = claims.findIndex((c) => c.vcpus === flavor.vcpus && c.memoryMb === flavor.ram);
    if (i >= 0) claims.splice(i, 1);
  }
}
