/**
 * Host aggregates (os-aggregates, admin) and the availability zones made of them, as Nova: an aggregate whose
 * metadata has `availability_zone` puts its hosts in that zone; a host in no such aggregate is in the default zone
 * (`defaultAvailabilityZone`, Nova's default_availability_zone). A host is in at most one zone: adding it to an
 * aggregate of another zone, or giving an aggregate a zone some of its hosts are in another of, is refused with
 * Nova's errors. The host -> zone map is kept in memory (rebuilt after every change here and on the scheduler's
 * refresh, so that controllers sharing a database follow each other) for the scheduler's AvailabilityZoneFilter;
 * a server's `availability_zone` column follows its host's zone (Nova's instance.availability_zone).
 */
import { randomUUID } from 'node:crypto';
import type { Aggregate, Host, Store } from '../../store/index.js';
import type { RequestContext } from '../context.js';
import { enforce } from '../policy/policy.js';
import { ApiError, badRequest, conflict, notFound } from '../errors.js';

/** Nova's internal_service_availability_zone: where the controller's own services are listed */
export const INTERNAL_ZONE = 'internal';

const AZ_KEY = 'availability_zone';
const aggregateNotFound = (id: number | string) => notFound(`Aggregate ${id} could not be found.`);
/** Python's repr of a list of strings, as Nova's messages print it */
const pyList = (xs: string[]) => `[${xs.map((x) => `'${x}'`).join(', ')}]`;

export const zoneOfAggregate = (a: Aggregate): string | null => a.metadata[AZ_KEY] ?? null;

/** which Nova exception an AZ check raises: the action decides the message and the status */
type ZoneAction = 'add' | 'update' | 'update_meta';

export class AggregateService {
  private zones = new Map<string, string>();

  constructor(private readonly store: Store, private readonly defaultZone: string) {}

  /** the availability zone of a host (the default zone when none of its aggregates has one) */
  zoneOf(host: string): string { return this.zones.get(host) ?? this.defaultZone; }

  /** rebuilds the host -> zone map from the store */
  async refresh(): Promise<void> {
    const next = new Map<string, string>();
    for (const a of await this.store.listAggregates()) {
      const z = zoneOfAggregate(a);
      if (z) for (const h of a.hosts) next.set(h, z);
    }
    this.zones = next;
  }

  async list(ctx: RequestContext): Promise<Aggregate[]> {
    enforce(ctx, 'os_compute_api:os-aggregates:index');
    return this.store.listAggregates();
  }

  async get(ctx: RequestContext, id: string): Promise<Aggregate> {
    enforce(ctx, 'os_compute_api:os-aggregates:show');
    return this.find(id);
  }

  async create(ctx: RequestContext, name: string, zone: string | null): Promise<Aggregate> {
    enforce(ctx, 'os_compute_api:os-aggregates:create');
    const a = await this.store.createAggregate({ uuid: randomUUID(), name, metadata: zone ? { [AZ_KEY]: zone } : {}, createdAt: new Date().toISOString() });
    if (!a) throw conflict(`Aggregate ${name} already exists.`);
    return a;
  }

  async update(ctx: RequestContext, id: string, c: { name?: string; zone?: string | null }): Promise<Aggregate> {
    enforce(ctx, 'os_compute_api:os-aggregates:update');
    const a = await this.find(id);
    let metadata: Record<string, string> | undefined;
    if (c.zone !== undefined) {
      await this.checkZone(a, c.zone, a.hosts, 'update', true);
      metadata = { ...a.metadata, [AZ_KEY]: c.zone! };
    }
    const r = await this.store.updateAggregate(a.id, { ...(c.name !== undefined ? { name: c.name } : {}), ...(metadata ? { metadata } : {}) }, new Date().toISOString());
    if (r === 'name_taken') throw conflict(`Aggregate ${c.name} already exists.`);
    if (r === 'not_found') throw aggregateNotFound(id);
    return this.changed(a.id, a.hosts);
  }

  /** Nova's set_metadata: each key set, or removed when its value is null */
  async setMetadata(ctx: RequestContext, id: string, md: Record<string, string | null>): Promise<Aggregate> {
    enforce(ctx, 'os_compute_api:os-aggregates:set_metadata');
    const a = await this.find(id);
    if (AZ_KEY in md) await this.checkZone(a, md[AZ_KEY] ?? null, a.hosts, 'update_meta', true);
    const metadata = { ...a.metadata };
    for (const [k, v] of Object.entries(md)) {
      if (v === null) delete metadata[k]; else metadata[k] = v;
    }
    if ((await this.store.updateAggregate(a.id, { metadata }, new Date().toISOString())) === 'not_found') throw aggregateNotFound(id);
    return this.changed(a.id, a.hosts);
  }

  async delete(ctx: RequestContext, id: string): Promise<void> {
    enforce(ctx, 'os_compute_api:os-aggregates:delete');
    const a = await this.find(id);
    if (a.hosts.length || !(await this.store.deleteAggregate(a.id))) {
      if (!(await this.store.getAggregate(a.id))) throw aggregateNotFound(id);
      throw badRequest(`Cannot delete aggregate ${a.id}. Reason: Host aggregate is not empty.`);
    }
    await this.refresh();
  }

  async addHost(ctx: RequestContext, id: string, host: string): Promise<Aggregate> {
    enforce(ctx, 'os_compute_api:os-aggregates:add_host');
    const a = await this.find(id);
    if (!(await this.store.getHost(host))) throw notFound(`Compute host ${host} could not be found.`);
    if (a.hosts.includes(host)) throw conflict(`Aggregate ${a.id} already has host ${host}.`);
    const zone = zoneOfAggregate(a);
    if (zone) await this.checkZone(a, zone, [host], 'add', false);
    if (!(await this.store.addAggregateHost(a.id, host, new Date().toISOString()))) {
      if (!(await this.store.getAggregate(a.id))) throw aggregateNotFound(id);
      throw conflict(`Aggregate ${a.id} already has host ${host}.`);
    }
    return this.changed(a.id, [host]);
  }

  async removeHost(ctx: RequestContext, id: string, host: string): Promise<Aggregate> {
    enforce(ctx, 'os_compute_api:os-aggregates:remove_host');
    const a = await this.store.getAggregate(this.idOf(id));
    if (!a || !(await this.store.removeAggregateHost(a.id, host, new Date().toISOString()))) throw notFound(`Cannot remove host ${host} in aggregate ${id}`);
    return this.changed(a.id, [host]);
  }

  /**
   * The zones a user may create servers in (Nova's available zones): the zones of the enabled hosts, and the
   * default zone always (a cloud whose hosts have not reported yet still takes creates without a zone named).
   */
  async availableZones(): Promise<Set<string>> {
    await this.refresh();
    const zones = new Set([this.defaultZone]);
    for (const h of await this.store.listHosts()) if (!h.disabled) zones.add(this.zoneOf(h.name));
    return zones;
  }

  /** every zone with its hosts (os-availability-zone): a zone is available while one of its hosts is enabled */
  async zonesWithHosts(hosts: Host[]): Promise<Map<string, Host[]>> {
    await this.refresh();
    const out = new Map<string, Host[]>();
    for (const h of hosts) {
      const z = this.zoneOf(h.name);
      out.set(z, [...(out.get(z) ?? []), h]);
    }
    return out;
  }

  /**
   * Nova's is_safe_to_update_az: the zone must be named, and none of `hosts` may be in an aggregate of another
   * zone; when the zone of hosts changes (`checkServers`), none of them may hold servers.
   */
  private async checkZone(a: Aggregate, zone: string | null, hosts: string[], action: ZoneAction, checkServers: boolean): Promise<void> {
    const refuse = (reason: string) => {
      if (action === 'add') return conflict(`Cannot add host to aggregate ${a.id}. Reason: ${reason}.`);
      return badRequest(`Cannot update ${action === 'update' ? 'aggregate' : 'metadata of aggregate'} ${a.id}. Reason: ${reason}.`);
    };
    if (!zone) throw refuse(`Aggregate ${a.name} does not support empty named availability zone`);
    const conflicting = (await this.store.listAggregates())
      .filter((x) => x.id !== a.id && x.hosts.some((h) => hosts.includes(h)))
      .map(zoneOfAggregate).filter((z): z is string => z !== null && z !== zone);
    if (conflicting.length) throw refuse(`One or more hosts already in availability zone(s) ${pyList(conflicting)}`);
    if (checkServers && zoneOfAggregate(a) !== zone) {
      for (const h of hosts) {
        if ((await this.store.listServers({ host: h, limit: 100_000 })).some((s) => s.host === h)) throw refuse('One or more hosts contain instances in this zone');
      }
    }
  }

  private idOf(id: string): number {
    if (!/^-?\d+$/.test(id)) throw badRequest('Invalid input received: id must be an integer');
    return Number(id);
  }

  private async find(id: string): Promise<Aggregate> {
    const a = await this.store.getAggregate(this.idOf(id));
    if (!a) throw aggregateNotFound(id);
    return a;
  }

  /** after a change: the map rebuilt, and the zone of the servers on `hosts` following their host's */
  private async changed(id: number, hosts: string[]): Promise<Aggregate> {
    await this.refresh();
    for (const h of hosts) {
      const zone = this.zoneOf(h);
      for (const s of await this.store.listServers({ host: h, limit: 100_000 })) {
        if (s.host === h && s.availabilityZone !== zone) await this.store.updateServer(s.id, { availabilityZone: zone });
      }
    }
    const a = await this.store.getAggregate(id);
    if (!a) throw new ApiError('conflict', `Aggregate ${id} was deleted meanwhile.`);
    return a;
  }
}
