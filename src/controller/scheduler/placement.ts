/**
 * Placement: the scheduler's view proposes a host, the database decides. Each proposal is claimed with one
 * conditional write (store.claimHost: the host's usage row changes only if the server still fits, and the server
 * records the host in the same transaction); a refused claim means the view was stale (another controller, or a
 * claim this view has not seen), so that host's usage is re-read and the next best host is tried.
 */
import type { FlavorSnapshot, GroupRule, Host, Server, Store } from '../../store/index.js';
import { claimOf, heldFlavor } from '../../store/index.js';
import { ApiError, noValidHost } from '../errors.js';
import type { Scheduler, SelectOptions } from './scheduler.js';
import { hasRequirements, imageRequirements, type SupportedInstance } from './image-properties.js';

/** what a placement decided (metrics): a host claimed, or "No valid host was found." */
export type PlacementDecision = 'placed' | 'no_valid_host';

/** Nova's scheduler hints a create may carry */
export interface PlacementHints {
  /** a server group (os-server-groups) the server joins: its policy places it */
  group?: string;
  /** on the host of one of these servers */
  sameHost?: string[];
  /** on none of the hosts of these servers */
  differentHost?: string[];
  /**
   * the requested host was forced (create's `az:host` / `az::node`, Nova's force_hosts): the zone and image
   * filters are skipped, only the fit and the group's rule are checked. Without it a requested host (2.74 `host`,
   * `hypervisor_hostname`) is Nova's requested_destination: the one candidate, every filter applied.
   */
  forceHost?: boolean;
}

/** where the hosts' availability zones come from (controller/compute/aggregates.ts) */
export interface ZoneSource { zoneOf(host: string): string; refresh(): Promise<void> }

/** the zone filter of a server's placement: the zone its create asked for, if any (Nova's request_spec) */
const zoneFilter = (s: Server): { zone?: string } => (s.requestedZone ? { zone: s.requestedZone } : {});

export class Placement {
  constructor(
    private readonly store: Store,
    readonly scheduler: Scheduler,
    private readonly hosts: { list(): Promise<Host[]>; isSchedulable(h: Host): boolean; supportedInstances?(name: string): readonly SupportedInstance[] | undefined },
    /** hosts a build is tried on before it fails (Nova's scheduler max_attempts) */
    readonly maxAttempts = 3,
    /** told of every decision (not of a re-driven step that finds its claim) */
    private readonly observe?: (decision: PlacementDecision) => void,
    /** the hosts' availability zones (host aggregates): the AvailabilityZoneFilter's */
    private readonly zones?: ZoneSource,
  ) {}

  /** the availability zone of a host ('' without a zone source) */
  zoneOf(host: string): string { return this.zones?.zoneOf(host) ?? ''; }

  /** claims a host for the server (an admin's requested host, or the best one); throws "No valid host was found." */
  async place(s: Server, requestedHost?: string, excluded: readonly string[] = [], hints: PlacementHints = {}): Promise<string> {
    const held = await this.store.getAllocation(s.id);
    if (held && !excluded.includes(held.host)) return held.host; // a re-driven schedule step: claimed before the crash
    try {
      const host = await this.decide(s, requestedHost, excluded, hints);
      // the server's zone is its host's from now on (Nova's conductor sets instance.availability_zone)
      const zone = this.zones?.zoneOf(host);
      if (zone && zone !== s.availabilityZone) await this.store.updateServer(s.id, { availabilityZone: zone });
      this.observe?.('placed');
      return host;
    } catch (err) {
      if (err instanceof ApiError && err.code === 'no_valid_host') this.observe?.('no_valid_host');
      throw err;
    }
  }

  /** the ImagePropertiesFilter's input: what the server's image asks of a host (nothing for a server without one) */
  private async imageFilter(s: Server): Promise<Pick<SelectOptions, 'image'>> {
    const image = s.imageRef ? await this.store.getImage(s.imageRef) : null;
    const r = image ? imageRequirements(image.properties) : {};
    return hasRequirements(r) ? { image: r } : {};
  }

  private async decide(s: Server, requestedHost: string | undefined, excluded: readonly string[], hints: PlacementHints): Promise<string> {
    const exclude = [...excluded];
    // booted from a volume: no root disk on the host (heldFlavor)
    const flavor = heldFlavor(s, s.flavor);
    const image = await this.imageFilter(s);
    for (let attempt = 0; attempt < 20; attempt++) {
      // the group's placement is read anew each try: a racing member may have landed since
      const c = await this.constraints(s.id, hints);
      const forced = !!requestedHost && hints.forceHost === true;
      const host = this.scheduler.select(flavor, {
        ...(requestedHost ? { forcedHost: requestedHost } : {}), ...(forced ? {} : { ...zoneFilter(s), ...image }),
        ...c.select, exclude: [...exclude, ...(c.select.exclude ?? [])],
      });
      if (await this.store.claimHost(s.id, host, claimOf(flavor), this.scheduler.limits(host), c.rule)) return host;
      this.scheduler.setUsage(host, await this.store.getHostUsage(host));
      if (requestedHost) break;
      exclude.push(host);
    }
    throw noValidHost();
  }

  /** the hints as scheduler filters and weights, and the group rule the claim re-checks in its transaction */
  private async constraints(serverId: string, hints: PlacementHints): Promise<{ select: SelectOptions; rule?: GroupRule }> {
    const select: SelectOptions = {};
    const exclude: string[] = [];
    let only: Set<string> | undefined;
    let rule: GroupRule | undefined;
    const hostsOf = async (ids: string[]) => new Set((await Promise.all(ids.map((id) => this.store.getServer(id)))).map((x) => x?.host).filter((h): h is string => !!h));
    if (hints.group) {
      const g = await this.store.getServerGroup(hints.group);
      if (g) {
        const placed = await this.store.serverGroupHosts(g.id, serverId);
        if (g.policy === 'affinity') {
          if (placed.size) only = new Set(placed.keys());
          rule = { groupId: g.id, policy: 'affinity', maxPerHost: Infinity };
        } else if (g.policy === 'anti-affinity') {
          const max = g.rules.max_server_per_host ?? 1;
          for (const [h, n] of placed) if (n >= max) exclude.push(h);
          rule = { groupId: g.id, policy: 'anti-affinity', maxPerHost: max };
        } else {
          const sign = g.policy === 'soft-affinity' ? 1 : -1;
          select.prefer = (h) => sign * (placed.get(h) ?? 0);
        }
      }
    }
    if (hints.sameHost?.length) {
      const same = await hostsOf(hints.sameHost);
      only = only ? new Set([...only].filter((h) => same.has(h))) : same;
    }
    if (hints.differentHost?.length) exclude.push(...(await hostsOf(hints.differentHost)));
    if (only) select.only = only;
    if (exclude.length) select.exclude = exclude;
    return { select, ...(rule ? { rule } : {}) };
  }

  /**
   * Claims a target for a resize or cold migration of a placed server: another host (the migration record
   * `migrationId` then holds the source's claim, store.claimMigration), or, when `allowSource` (Nova's
   * allow_resize_to_same_host), possibly the source itself (its claim grows to `flavor`). The server's group
   * policy applies as at create. Idempotent: a re-driven step finds the claim it made.
   */
  async placeMigration(s: Server, newFlavor: FlavorSnapshot, migrationId: string, o: { requestedHost?: string; allowSource: boolean }): Promise<string> {
    const flavor = heldFlavor(s, newFlavor);
    const source = s.host;
    if (!source) throw noValidHost();
    const [held, kept] = await Promise.all([this.store.getAllocation(s.id), this.store.getAllocation(migrationId)]);
    if (held && kept && held.host !== source) return held.host;
    const want = claimOf(flavor);
    const grown = (a: typeof held) => !!a && a.vcpus === want.vcpus && a.memoryMb === want.memoryMb && a.diskGb === want.diskGb;
    if (o.allowSource && !kept && held?.host === source && grown(held) && !grown({ host: source, ...claimOf(heldFlavor(s, s.flavor)) })) return source;
    const exclude = o.allowSource ? [] : [source];
    const group = (await this.store.serverGroupsOf(s.id))[0];
    const image = await this.imageFilter(s);
    for (let attempt = 0; attempt < 20; attempt++) {
      const c = await this.constraints(s.id, group ? { group } : {});
      let host: string;
      try {
        host = this.scheduler.select(flavor, { ...(o.requestedHost ? { forcedHost: o.requestedHost } : {}), ...zoneFilter(s), ...image, ...c.select, exclude: [...exclude, ...(c.select.exclude ?? [])] });
      } catch (err) {
        if (err instanceof ApiError && err.code === 'no_valid_host') this.observe?.('no_valid_host');
        throw err;
      }
      const ok = host === source
        ? await this.store.resizeClaim(s.id, want, this.scheduler.limits(host))
        : await this.store.claimMigration(s.id, migrationId, host, want, this.scheduler.limits(host), c.rule);
      if (ok) { this.observe?.('placed'); return host; }
      this.scheduler.setUsage(host, await this.store.getHostUsage(host));
      if (o.requestedHost) break;
      exclude.push(host);
    }
    this.observe?.('no_valid_host');
    throw noValidHost();
  }

  /**
   * The API's answer before a resize or cold migration starts (Nova schedules those synchronously): true when the
   * scheduler's view has a host for it now. Claims nothing: the task's placeMigration decides.
   */
  async hasMigrationTarget(s: Server, newFlavor: FlavorSnapshot, o: { requestedHost?: string; allowSource: boolean }): Promise<boolean> {
    if (!s.host) return false;
    const flavor = heldFlavor(s, newFlavor);
    const group = (await this.store.serverGroupsOf(s.id))[0];
    const c = await this.constraints(s.id, group ? { group } : {});
    const image = await this.imageFilter(s);
    try {
      const host = this.scheduler.select(flavor, {
        ...(o.requestedHost ? { forcedHost: o.requestedHost } : {}), ...zoneFilter(s), ...image, ...c.select, exclude: [...(o.allowSource ? [] : [s.host]), ...(c.select.exclude ?? [])],
      });
      this.scheduler.release(host, flavor);
      return true;
    } catch (err) {
      if (err instanceof ApiError && err.code === 'no_valid_host') return false;
      throw err;
    }
  }

  /** gives back the server's claim on `host` (a build that failed there) */
  async unclaim(serverId: string, host: string, flavor: FlavorSnapshot): Promise<void> {
    await this.store.releaseClaim(serverId);
    this.freed(host, flavor);
  }

  /** a server left its host: the view counts the room at once, before the next refresh */
  freed(host: string, flavor: FlavorSnapshot): void { this.scheduler.free(host, flavor); }

  /** rebuilds the view from the host registry and the claims in the store (after every heartbeat round) */
  async refresh(): Promise<void> {
    const [hosts, usage] = await Promise.all([this.hosts.list(), this.store.listHostUsage(), this.zones?.refresh()]);
    this.scheduler.refresh(hosts, usage, (h) => this.hosts.isSchedulable(h), {
      zoneOf: (h) => this.zoneOf(h), supportedInstances: (h) => this.hosts.supportedInstances?.(h),
    });
  }
}
