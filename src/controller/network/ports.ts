/**
 * Ports (Neutron): fixed IPs and MACs are allocated by the store inside the port's transaction (ip-math gives
 * the candidates, the store takes the first free one), so concurrent creates never share an address; a MAC that
 * collides is drawn again. Compute's ports for servers are made here too (server-ports.ts).
 */
import { randomUUID } from 'node:crypto';
import type { IpRequest, Network, NewPort, Port, PortConflict, PortsResult, Store, Subnet } from '../../store/index.js';
import { isAdmin, isAdminOrOwner, type RequestContext } from '../context.js';
import {
  NeutronError, invalidInput, invalidIpForSubnet, ipInUse, macInUse, noMoreIps, policy, portInUse, portNotFound, securityGroupNotFound, subnetNotFound,
} from './errors.js';
import { bool, list, str, type Body } from './input.js';
import { dhcpServerAddress, eui64, isMac, parseCidr, poolAddresses, randomMac, usable, ipVersion } from './ip-math.js';
import type { NetworkService } from './networks.js';
import type { NetworkQuotas } from './quotas.js';
import type { SecurityGroupService } from './security-groups.js';

/** a conflict from the store as Neutron's error */
export function conflictError(c: PortConflict, networkId: string): Error {
  switch (c.kind) {
    case 'ip_in_use': return ipInUse(c.address, c.subnetId);
    case 'exhausted': return noMoreIps(networkId);
    case 'mac_in_use': return macInUse(networkId, c.mac);
    case 'port_in_use': return portInUse(c.portId, networkId, c.deviceId);
    case 'not_found': return portNotFound(c.portId);
  }
}

/** IPv6 subnets whose guests address themselves (SLAAC, DHCPv6-stateless) */
export const isAutoAddressed = (s: Subnet) => s.ipVersion === 6 && (s.ipv6AddressMode === 'slaac' || s.ipv6AddressMode === 'dhcpv6-stateless');

/** free addresses of a subnet, in order: its pools without the gateway and the hosts' DHCP server address */
export function candidates(s: Subnet): () => Iterable<string> {
  const dhcp = dhcpServerAddress(s);
  return function* () { for (const a of poolAddresses(s.allocationPools, s.ipVersion)) if (a !== s.gatewayIp && a !== dhcp) yield a; };
}

export class PortService {
  constructor(
    private readonly store: Store,
    private readonly networks: NetworkService,
    private readonly groups: SecurityGroupService,
    private readonly quotas: NetworkQuotas,
  ) {}

  visible(ctx: RequestContext, p: Port, net?: Network | null): boolean {
    return isAdmin(ctx) || p.projectId === ctx.projectId || (!!net && net.projectId === ctx.projectId);
  }

  async port(ctx: RequestContext, id: string): Promise<Port> {
    await this.networks.ready();
    const p = await this.store.getPort(id);
    if (!p || !this.visible(ctx, p, await this.store.getNetwork(p.networkId))) throw portNotFound(id);
    return p;
  }

  async ports(ctx: RequestContext, q: { deviceId?: string; networkId?: string } = {}): Promise<Port[]> {
    await this.networks.ready();
    const all = await this.store.listPorts(q);
    if (isAdmin(ctx)) return all;
    const own = new Set((await this.store.listNetworks()).filter((n) => n.projectId === ctx.projectId).map((n) => n.id));
    return all.filter((p) => p.projectId === ctx.projectId || own.has(p.networkId));
  }

  /**
   * The addresses a port asks for: `fixed_ips` entries ({subnet_id}, {ip_address}, or both), else one from the
   * network's first IPv4 subnet and one from its first IPv6 subnet (Neutron's default).
   */
  async ipRequests(n: Network, fixed: unknown[] | undefined, mac?: string): Promise<IpRequest[]> {
    const subnets = await this.store.listSubnets(n.id);
    if (fixed === undefined) {
      const out: IpRequest[] = [];
      for (const v of [4, 6] as const) {
        const s = subnets.find((x) => x.ipVersion === v);
        // SLAAC: the guest takes its EUI-64 address itself; the port holds exactly that one
        if (s && mac && isAutoAddressed(s)) out.push({ subnetId: s.id, address: eui64(parseCidr(s.cidr)!, mac) });
        else if (s) out.push({ subnetId: s.id, candidates: candidates(s) });
      }
      return out;
    }
    return fixed.map((f) => {
      const x = (f ?? {}) as Body;
      const subnetId = str(x, 'subnet_id'); const address = str(x, 'ip_address');
      if (address !== undefined && !ipVersion(address)) throw invalidInput(`'${address}' is not a valid IP address`);
      let s: Subnet | undefined;
      if (subnetId !== undefined) {
        s = subnets.find((k) => k.id === subnetId);
        if (!s) throw subnetNotFound(subnetId);
      } else if (address !== undefined) {
        s = subnets.find((k) => usable(parseCidr(k.cidr)!, address));
        if (!s) throw new NeutronError('InvalidIpForNetwork', 'bad_request', `IP address ${address} is not a valid IP for any of the subnets on the specified network.`);
      } else throw invalidInput('fixed_ips entries need subnet_id or ip_address');
      // a SLAAC subnet named without an address: the EUI-64 address the guest will take (Neutron)
      if (address === undefined) return mac && isAutoAddressed(s) ? { subnetId: s.id, address: eui64(parseCidr(s.cidr)!, mac) } : { subnetId: s.id, candidates: candidates(s) };
      if (!usable(parseCidr(s.cidr)!, address)) throw invalidIpForSubnet(address);
      if (address === s.gatewayIp || address === dhcpServerAddress(s)) throw ipInUse(address, s.id);
      return { subnetId: s.id, address };
    });
  }

  /** security group ids of a new port (the project's default group when port security is on and none given) */
  async groupIds(ctx: RequestContext, projectId: string, given: unknown[] | undefined, portSecurity: boolean, owner: string): Promise<string[]> {
    if (given === undefined) return portSecurity && !owner.startsWith('network:') ? [(await this.groups.defaultGroup(projectId)).id] : [];
    const ids: string[] = [];
    for (const g of given) {
      if (typeof g !== 'string') throw invalidInput(`'${JSON.stringify(g)}' is not a valid UUID`);
      const found = await this.groups.resolve(ctx, projectId, g);
      if (!found) throw securityGroupNotFound(g);
      if (!ids.includes(found.id)) ids.push(found.id);
    }
    if (ids.length && !portSecurity) throw new NeutronError('PortSecurityAndIPRequiredForSecurityGroups', 'bad_request', 'Port security must be enabled and port must have an IP address in order to use security groups.');
    return ids;
  }

  /**
   * creates ports (all or nothing), drawing MACs again while one collides (a SLAAC address derived from the first
   * MAC is then refused by the store as taken or kept as given: a collision in 2^24 MACs per network is left at that)
   */
  async createMany(ports: NewPort[], binds: Parameters<Store['createPorts']>[1] = [], fixedMac = false): Promise<PortsResult> {
    for (let attempt = 0; ; attempt++) {
      const r = await this.store.createPorts(ports, binds);
      if (!('conflict' in r) || r.conflict.kind !== 'mac_in_use' || fixedMac || attempt >= 16) return r;
      ports = ports.map((p) => (p.macAddress === (r.conflict as { mac: string }).mac ? { ...p, macAddress: randomMac() } : p));
    }
  }

  async create(ctx: RequestContext, b: Body): Promise<Port> {
    const networkId = str(b, 'network_id');
    if (!networkId) throw invalidInput("Failed to parse request. Required attribute 'network_id' not specified");
    const n = await this.networks.network(ctx, networkId);
    const projectId = str(b, 'project_id') ?? str(b, 'tenant_id') ?? ctx.projectId;
    if (projectId !== ctx.projectId && !isAdmin(ctx)) throw policy('create_port:tenant_id');
    const mac = str(b, 'mac_address');
    if (mac !== undefined && !isAdminOrOwner(ctx, n.projectId)) throw policy('create_port:mac_address');
    if (mac !== undefined && !isMac(mac)) throw invalidInput(`'${mac}' is not a valid MAC address`);
    const hostId = str(b, 'binding:host_id');
    if (hostId !== undefined && !isAdmin(ctx)) throw policy('create_port:binding:host_id');
    const fixed = list(b, 'fixed_ips');
    if (fixed !== undefined && fixed.some((f) => (f as Body | null)?.ip_address !== undefined) && !isAdminOrOwner(ctx, n.projectId) && !n.shared) throw policy('create_port:fixed_ips:ip_address');
    const owner = str(b, 'device_owner') ?? '';
    const portSecurity = bool(b, 'port_security_enabled') ?? n.portSecurityEnabled;
    const groups = await this.groupIds(ctx, projectId, list(b, 'security_groups'), portSecurity, owner);
    await this.quotas.check(projectId, 'port', (await this.store.listPorts({ projectId })).length);
    const t = new Date().toISOString();
    const macAddress = (mac ?? randomMac()).toLowerCase();
    const r = await this.createMany([{
      id: randomUUID(), networkId, projectId, name: str(b, 'name') ?? '', description: str(b, 'description') ?? '', macAddress,
      deviceId: str(b, 'device_id') ?? '', deviceOwner: owner, hostId: hostId ?? '', adminStateUp: bool(b, 'admin_state_up') ?? true,
      portSecurityEnabled: portSecurity, securityGroups: groups, deleteWithDevice: false, createdAt: t, updatedAt: t,
      ips: await this.ipRequests(n, fixed, macAddress),
    }], [], mac !== undefined);
    if ('conflict' in r) throw conflictError(r.conflict, networkId);
    return r.ports[0]!;
  }

  async update(ctx: RequestContext, id: string, b: Body): Promise<Port> {
    const p = await this.port(ctx, id);
    const n = (await this.store.getNetwork(p.networkId))!;
    if ((b['binding:host_id'] !== undefined || b.mac_address !== undefined) && !isAdmin(ctx)) throw policy('update_port:binding:host_id');
    const mac = str(b, 'mac_address');
    if (mac !== undefined && (!isMac(mac) || p.deviceId)) throw invalidInput(mac && isMac(mac) ? 'a bound port keeps its MAC address' : `'${mac}' is not a valid MAC address`);
    const portSecurity = bool(b, 'port_security_enabled');
    const given = list(b, 'security_groups');
    const security = portSecurity ?? p.portSecurityEnabled;
    const groups = given !== undefined ? await this.groupIds(ctx, p.projectId, given, security, p.deviceOwner) : undefined;
    if (!security && (groups ?? p.securityGroups).length > 0) {
      throw new NeutronError('PortSecurityPortHasSecurityGroup', 'conflict', 'Port has security group associated. Cannot disable port security or ip address until security group is removed');
    }
    const fixed = list(b, 'fixed_ips');
    let ips: IpRequest[] | undefined;
    if (fixed !== undefined) {
      // addresses the port keeps are asked for again by value (the store frees and retakes them in one transaction)
      ips = await this.ipRequests(n, fixed);
    }
    const r = await this.store.updatePort(id, {
      name: str(b, 'name'), description: str(b, 'description'), deviceId: str(b, 'device_id'), deviceOwner: str(b, 'device_owner'),
      hostId: str(b, 'binding:host_id'), adminStateUp: bool(b, 'admin_state_up'), portSecurityEnabled: portSecurity, securityGroups: groups,
      macAddress: mac?.toLowerCase(),
    }, ips);
    if ('conflict' in r) throw conflictError(r.conflict, p.networkId);
    return r.ports[0]!;
  }

  async delete(ctx: RequestContext, id: string): Promise<Port> {
    const p = await this.port(ctx, id);
    const n = await this.store.getNetwork(p.networkId);
    if (!isAdminOrOwner(ctx, p.projectId) && !(n && isAdminOrOwner(ctx, n.projectId))) throw policy('delete_port');
    if (!(await this.store.deletePort(id))) throw portNotFound(id);
    return p;
  }
}
