/**
 * Networks and subnets (Neutron v2.0 subset). Project scoping as Neutron's policy: a project sees its own networks,
 * shared ones and external ones; another project's private network is 404. The config file's networks (and
 * `novalet up`'s NAT network) are seeded as shared networks on first use, so existing deployments keep working:
 * servers on them plug into the host's bridge or libvirt network as before.
 */
import { randomUUID } from 'node:crypto';
import type { Network, Store, Subnet, AllocationPool, HostRoute } from '../../store/index.js';
import { isAdmin, isAdminOrOwner, type RequestContext } from '../context.js';
import type { NetworkDef } from '../config.js';
import { invalidInput, networkInUse, networkNotFound, policy, subnetInUse, subnetNotFound } from './errors.js';
import { bool, int, list, nullableStr, str, type Body } from './input.js';
import { contains, defaultGateway, defaultPools, fromBig, ipVersion, parseCidr, toBig, usable } from './ip-math.js';
import { portIdFor } from './legacy.js';
import type { NetworkQuotas } from './quotas.js';

/** MTU of a VXLAN tenant network: 1500 minus the 50 bytes of VXLAN over IPv4 */
export const VXLAN_MTU = 1450;

export class NetworkService {
  private seeded: Promise<void> | null = null;

  constructor(private readonly store: Store, private readonly configured: NetworkDef[], private readonly quotas: NetworkQuotas) {}

  /** the configured networks as seeded shared networks (once per process; idempotent in the store) */
  ready(): Promise<void> {
    this.seeded ??= (async () => {
      const t = new Date().toISOString();
      for (const [i, d] of this.configured.entries()) {
        const cidr = parseCidr(d.cidr);
        if (!cidr) throw new Error(`network ${d.name}: bad CIDR ${d.cidr}`);
        await this.store.seedNetwork({
          id: d.id, name: d.name, projectId: '', description: '', shared: true, adminStateUp: true, mtu: 1500, networkType: 'local',
          physicalNetwork: null, vni: null, routerExternal: false, portSecurityEnabled: false, legacyBridge: d.bridge ?? null,
          legacyLibvirtNetwork: d.bridge ? null : (d.libvirtNetwork ?? d.name), isDefault: i === 0, createdAt: t, updatedAt: t,
        }, {
          id: d.subnetId, networkId: d.id, projectId: '', name: `${d.name}-subnet`, description: '', cidr: cidr.text, ipVersion: cidr.version,
          gatewayIp: d.gateway, enableDhcp: true, allocationPools: defaultPools(cidr, d.gateway), dnsNameservers: [], hostRoutes: [],
          ipv6AddressMode: null, ipv6RaMode: null, createdAt: t, updatedAt: t,
        }, portIdFor);
      }
    })().catch((err: unknown) => { this.seeded = null; throw err; });
    return this.seeded;
  }

  visible(ctx: RequestContext, n: Network): boolean {
    return isAdmin(ctx) || n.shared || n.routerExternal || n.projectId === ctx.projectId;
  }

  /** a network the caller may see, else NetworkNotFound */
  async network(ctx: RequestContext, id: string): Promise<Network> {
    await this.ready();
    const n = await this.store.getNetwork(id);
    if (!n || !this.visible(ctx, n)) throw networkNotFound(id);
    return n;
  }

  async networks(ctx: RequestContext): Promise<Network[]> {
    await this.ready();
    return (await this.store.listNetworks()).filter((n) => this.visible(ctx, n));
  }

  /** the caller owns it (or is admin): else 404 when it cannot even see it, 403 when it can */
  private async owned(ctx: RequestContext, id: string, action: string): Promise<Network> {
    const n = await this.network(ctx, id);
    if (!isAdminOrOwner(ctx, n.projectId)) throw policy(`${action}_network`);
    return n;
  }

  async createNetwork(ctx: RequestContext, b: Body): Promise<Network> {
    await this.ready();
    const projectId = str(b, 'project_id') ?? str(b, 'tenant_id') ?? ctx.projectId;
    if (projectId !== ctx.projectId && !isAdmin(ctx)) throw policy('create_network:tenant_id');
    const shared = bool(b, 'shared') ?? false;
    if (shared && !isAdmin(ctx)) throw policy('create_network:shared');
    const external = bool(b, 'router:external') ?? false;
    if (external && !isAdmin(ctx)) throw policy('create_network:router:external');
    const type = str(b, 'provider:network_type');
    const physical = str(b, 'provider:physical_network');
    if ((type !== undefined || physical !== undefined || b['provider:segmentation_id'] !== undefined) && !isAdmin(ctx)) throw policy('create_network:provider:network_type');
    if (type !== undefined && type !== 'vxlan' && type !== 'flat') throw invalidInput(`network_type value '${type}' not supported`);
    if (type === 'flat' && !physical) throw invalidInput('physical_network required for flat provider network');
    if (b['provider:segmentation_id'] !== undefined) throw invalidInput('provider:segmentation_id is allocated by novalet');
    const mtu = int(b, 'mtu') ?? (type === 'flat' ? 1500 : VXLAN_MTU);
    if (mtu < 68 || mtu > (type === 'flat' ? 9000 : VXLAN_MTU)) throw invalidInput(`Requested MTU is too big, maximum is ${type === 'flat' ? 9000 : VXLAN_MTU}`);
    await this.quotas.check(projectId, 'network', (await this.store.listNetworks()).filter((n) => n.projectId === projectId).length);
    const t = new Date().toISOString();
    return this.store.createNetwork({
      id: randomUUID(), name: str(b, 'name') ?? '', projectId, description: str(b, 'description') ?? '', shared, adminStateUp: bool(b, 'admin_state_up') ?? true,
      mtu, networkType: type === 'flat' ? 'flat' : 'vxlan', physicalNetwork: physical ?? null, routerExternal: external,
      portSecurityEnabled: bool(b, 'port_security_enabled') ?? true, legacyBridge: null, legacyLibvirtNetwork: null, isDefault: false,
      createdAt: t, updatedAt: t,
    }, type !== 'flat');
  }

  async updateNetwork(ctx: RequestContext, id: string, b: Body): Promise<Network> {
    const n = await this.owned(ctx, id, 'update');
    if ((b.shared !== undefined || b['router:external'] !== undefined || b.is_default !== undefined) && !isAdmin(ctx)) throw policy('update_network:shared');
    const mtu = int(b, 'mtu');
    if (mtu !== undefined && mtu !== null && (mtu < 68 || mtu > (n.networkType === 'vxlan' ? VXLAN_MTU : 9000))) throw invalidInput('Requested MTU is out of range');
    const u = await this.store.updateNetwork(id, {
      name: str(b, 'name'), description: str(b, 'description'), shared: bool(b, 'shared'), adminStateUp: bool(b, 'admin_state_up'),
      mtu: mtu ?? undefined, portSecurityEnabled: bool(b, 'port_security_enabled'), routerExternal: bool(b, 'router:external'), isDefault: bool(b, 'is_default'),
    });
    if (!u) throw networkNotFound(id);
    return u;
  }

  async deleteNetwork(ctx: RequestContext, id: string): Promise<void> {
    await this.owned(ctx, id, 'delete');
    const r = await this.store.deleteNetwork(id);
    if (r === 'in_use') throw networkInUse(id);
    if (r === 'not_found') throw networkNotFound(id);
  }

  /** subnets of networks the caller may see */
  async subnets(ctx: RequestContext): Promise<Subnet[]> {
    const nets = new Set((await this.networks(ctx)).map((n) => n.id));
    return (await this.store.listSubnets()).filter((s) => nets.has(s.networkId));
  }

  async subnet(ctx: RequestContext, id: string): Promise<Subnet> {
    await this.ready();
    const s = await this.store.getSubnet(id);
    const n = s ? await this.store.getNetwork(s.networkId) : null;
    if (!s || !n || !this.visible(ctx, n)) throw subnetNotFound(id);
    return s;
  }

  async createSubnet(ctx: RequestContext, b: Body): Promise<Subnet> {
    const networkId = str(b, 'network_id');
    if (!networkId) throw invalidInput("Failed to parse request. Required attribute 'network_id' not specified");
    const n = await this.network(ctx, networkId);
    if (!isAdminOrOwner(ctx, n.projectId)) throw policy('create_subnet');
    const cidrText = str(b, 'cidr');
    if (b.subnetpool_id !== undefined && b.subnetpool_id !== null) throw invalidInput('subnet pools are not supported');
    if (!cidrText) throw invalidInput('A cidr must be specified in the absence of a subnet pool');
    const cidr = parseCidr(cidrText);
    if (!cidr) throw invalidInput(`'${cidrText}' is not a valid IP subnet`);
    const version = int(b, 'ip_version') ?? cidr.version;
    if (version !== cidr.version) throw invalidInput('Cidr and IP version are inconsistent');
    if (cidr.version === 4 && cidr.prefix > 30) throw invalidInput(`'${cidrText}' is too small: at most /30`);
    if (cidr.version === 6 && cidr.prefix > 126) throw invalidInput(`'${cidrText}' is too small`);
    let gateway = nullableStr(b, 'gateway_ip');
    if (gateway === undefined) gateway = defaultGateway(cidr);
    if (gateway !== null && !usable(cidr, gateway)) throw invalidInput(`Gateway IP ${gateway} conflicts with the subnet ${cidr.text}`);
    const pools = this.pools(b, cidr, gateway);
    const others = await this.store.listSubnets(networkId);
    for (const o of others) {
      const oc = parseCidr(o.cidr)!;
      if (oc.version === cidr.version && (contains(oc, fromBig(cidr.base, cidr.version)) || contains(cidr, fromBig(oc.base, oc.version)))) {
        throw invalidInput(`Requested subnet with cidr: ${cidr.text} for network: ${networkId} overlaps with another subnet`);
      }
    }
    const mode = nullableStr(b, 'ipv6_address_mode') ?? null;
    const ra = nullableStr(b, 'ipv6_ra_mode') ?? null;
    for (const m of [mode, ra]) if (m !== null && (cidr.version === 4 || !['slaac', 'dhcpv6-stateful', 'dhcpv6-stateless'].includes(m))) throw invalidInput(`ipv6 mode '${m}' is not valid here`);
    // Neutron's _validate_eui64_applicable: guests form EUI-64 addresses, which need a /64
    if ((mode === 'slaac' || mode === 'dhcpv6-stateless') && cidr.prefix !== 64) {
      throw invalidInput(`Invalid CIDR ${cidr.text} for IPv6 address mode. OpenStack uses the EUI-64 address format, which requires the prefix to be /64`);
    }
    await this.quotas.check(n.projectId, 'subnet', (await this.store.listSubnets()).filter((s) => s.projectId === (str(b, 'project_id') ?? ctx.projectId)).length);
    const t = new Date().toISOString();
    return this.store.createSubnet({
      id: randomUUID(), networkId, projectId: str(b, 'project_id') ?? str(b, 'tenant_id') ?? ctx.projectId, name: str(b, 'name') ?? '',
      description: str(b, 'description') ?? '', cidr: cidr.text, ipVersion: cidr.version, gatewayIp: gateway, enableDhcp: bool(b, 'enable_dhcp') ?? true,
      allocationPools: pools, dnsNameservers: this.nameservers(b) ?? [], hostRoutes: this.routes(b, cidr.version) ?? [],
      ipv6AddressMode: mode, ipv6RaMode: ra, createdAt: t, updatedAt: t,
    });
  }

  private pools(b: Body, cidr: NonNullable<ReturnType<typeof parseCidr>>, gateway: string | null): AllocationPool[] {
    const given = list(b, 'allocation_pools');
    if (given === undefined) return defaultPools(cidr, gateway);
    const pools = given.map((p) => {
      const x = p as Body;
      const start = str(x, 'start'); const end = str(x, 'end');
      if (!start || !end || !usable(cidr, start) || !usable(cidr, end) || toBig(start) > toBig(end)) {
        throw invalidInput(`The allocation pool ${start}-${end} spans beyond the subnet cidr ${cidr.text}.`);
      }
      if (gateway && toBig(gateway) >= toBig(start) && toBig(gateway) <= toBig(end)) throw invalidInput(`Gateway ip ${gateway} conflicts with allocation pool ${start}-${end}`);
      return { start, end };
    });
    const sorted = [...pools].sort((a, c) => (toBig(a.start) < toBig(c.start) ? -1 : 1));
    for (let i = 1; i < sorted.length; i++) if (toBig(sorted[i]!.start) <= toBig(sorted[i - 1]!.end)) throw invalidInput('Found overlapping allocation pools');
    return pools;
  }

  private nameservers(b: Body): string[] | undefined {
    const v = list(b, 'dns_nameservers');
    if (v === undefined) return undefined;
    return v.map((x) => { if (typeof x !== 'string' || !ipVersion(x)) throw invalidInput(`'${String(x)}' is not a valid nameserver`); return x; });
  }

  private routes(b: Body, version: 4 | 6): HostRoute[] | undefined {
    const v = list(b, 'host_routes');
    if (v === undefined) return undefined;
    return v.map((r) => {
      const x = r as Body; const destination = str(x, 'destination'); const nexthop = str(x, 'nexthop');
      const d = destination ? parseCidr(destination) : null;
      if (!d || !nexthop || ipVersion(nexthop) !== version || d.version !== version) throw invalidInput(`Invalid host route ${JSON.stringify(r)}`);
      return { destination: d.text, nexthop };
    });
  }

  async updateSubnet(ctx: RequestContext, id: string, b: Body): Promise<Subnet> {
    const s = await this.subnet(ctx, id);
    const n = (await this.store.getNetwork(s.networkId))!;
    if (!isAdminOrOwner(ctx, n.projectId) && !isAdminOrOwner(ctx, s.projectId)) throw policy('update_subnet');
    const cidr = parseCidr(s.cidr)!;
    const gateway = nullableStr(b, 'gateway_ip');
    if (gateway !== undefined && gateway !== null && !usable(cidr, gateway)) throw invalidInput(`Gateway IP ${gateway} conflicts with the subnet ${cidr.text}`);
    const pools = b.allocation_pools !== undefined ? this.pools(b, cidr, gateway === undefined ? s.gatewayIp : gateway) : undefined;
    const u = await this.store.updateSubnet(id, {
      name: str(b, 'name'), description: str(b, 'description'), gatewayIp: gateway, enableDhcp: bool(b, 'enable_dhcp'),
      allocationPools: pools, dnsNameservers: this.nameservers(b), hostRoutes: this.routes(b, s.ipVersion),
    });
    if (!u) throw subnetNotFound(id);
    return u;
  }

  async deleteSubnet(ctx: RequestContext, id: string): Promise<void> {
    const s = await this.subnet(ctx, id);
    const n = (await this.store.getNetwork(s.networkId))!;
    if (!isAdminOrOwner(ctx, n.projectId) && !isAdminOrOwner(ctx, s.projectId)) throw policy('delete_subnet');
    const r = await this.store.deleteSubnet(id);
    if (r === 'in_use') throw subnetInUse(id);
    if (r === 'not_found') throw subnetNotFound(id);
  }

  /** the network a server gets for networks "auto" (or none given): the default (first configured) one, else none */
  async defaultNetwork(): Promise<Network | null> {
    await this.ready();
    const all = await this.store.listNetworks();
    return all.find((n) => n.isDefault) ?? null;
  }
}
