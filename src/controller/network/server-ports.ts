/**
 * The compute side of networking: the `networks` of a server create checked at the API (networks the project
 * may use, ports it owns and nobody uses, fixed IPs valid there, security groups that exist), the build's ports
 * allocated in one store transaction (ports Nova creates are deleted with the server; ports passed in are bound,
 * and only unbound at the end), the server's `addresses` from its ports, the NICs the agent gets, and the network
 * spec each host needs before a NIC of that network can be plugged there.
 */
import { createHash, randomUUID } from 'node:crypto';
import type { HostTransport } from '../hosts/transport.js';
import type { Network, NewPort, Port, RequestedNetwork, SecurityGroup, Server, ServerAddress, Store } from '../../store/index.js';
import type { NicSpec } from '../../rpc/protocol/server-spec.js';
import type { NetworkSpec, PortSecurity, FilterRule } from '../../rpc/protocol/networks.js';
import { badRequest, conflict, notFound } from '../errors.js';
import { isAdmin, type RequestContext } from '../context.js';
import { dhcpServerAddress, ipVersion, parseCidr, randomMac, usable } from './ip-math.js';
import { candidates, conflictError, type PortService } from './ports.js';
import type { NetworkService } from './networks.js';
import type { SecurityGroupService } from './security-groups.js';
import { PeerSync } from './peer-sync.js';

export const NOVA_OWNER = 'compute:nova';

/** the port id of a build's i-th NIC: derived, so a re-driven allocation finds the ports it made */
export function buildPortId(serverId: string, i: number): string {
  const h = createHash('sha1').update(`port/${serverId}/${i}`).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

/** a seeded config network: NICs plug into the host's bridge or libvirt network as before tenant networks existed */
export const isLegacy = (n: Network) => n.networkType === 'local';

export class ServerPorts {
  /** VXLAN peers of the other hosts by delta, coalesced per host (absent without a transport) */
  private readonly peerSync?: PeerSync;

  constructor(
    private readonly store: Store,
    readonly networks: NetworkService,
    readonly ports: PortService,
    readonly groups: SecurityGroupService,
    /** to push changed filters to live ports (absent: nothing is pushed) */
    private readonly hosts?: HostTransport,
  ) {
    if (hosts) {
      this.peerSync = new PeerSync(hosts, {
        carries: (n, h, without) => this.carries(n, h, without),
        tunnelIp: async (h) => (await this.store.getHost(h))?.hostIp ?? null,
        locked: (keys, fn) => this.locked(keys, fn),
        fullSpecs: async (host, networkIds, requestId) => {
          for (const n of networkIds) {
            const spec = await this.hostSpec(n, host, `${requestId}.${n}`);
            if (spec?.dhcpHosts.length) await hosts.ensureNetwork(host, n, spec);
          }
        },
      });
    }
  }

  /** a port changed or went through the network API: its server's addresses and its live filter follow */
  async portChanged(p: Port): Promise<void> {
    if (p.deviceId && p.deviceOwner.startsWith('compute:')) await this.syncAddresses(p.deviceId);
    const now = await this.store.getPort(p.id);
    if (now) await this.pushSecurity([now]);
    // its host's DHCP entries follow its addresses (or its removal)
    if (p.hostId) await this.portsLeft([p.networkId], p.hostId, `req-${randomUUID()}`);
  }

  /**
   * A port deleted through the network API (Neutron allows it for a port a server uses): its server's addresses
   * follow at once, and compute is told (Nova's network-vif-deleted event), which detaches the NIC from the guest
   * and the host. Best effort, as Neutron's notification: the delete has succeeded either way.
   */
  async portDeleted(p: Port): Promise<void> {
    await this.portChanged(p);
    if (p.deviceId && p.deviceOwner.startsWith('compute:') && this.vifDeleted) await this.vifDeleted(p).catch(() => undefined);
  }

  private vifDeleted?: (p: Port) => Promise<void>;
  /** compute's handler of network-vif-deleted (set by the compute services: network never imports compute) */
  onVifDeleted(fn: (p: Port) => Promise<void>): void { this.vifDeleted = fn; }

  /** a group's rules changed: every live port in it (or whose rules name it as remote group) gets its filter again */
  async groupChanged(groupId: string): Promise<void> {
    const all = await this.store.listPorts();
    const groups = (await this.groups.rules()).filter((r) => r.remoteGroupId === groupId).map((r) => r.securityGroupId);
    await this.pushSecurity(all.filter((p) => p.securityGroups.includes(groupId) || p.securityGroups.some((g) => groups.includes(g))));
  }

  /**
   * Best effort: a host that cannot take the filter now gets it again with the port's next NIC or network spec
   * (the API call that changed the rules has succeeded in the database either way, as in Neutron).
   */
  private async pushSecurity(ports: Port[]): Promise<void> {
    if (!this.hosts) return;
    for (const p of ports) {
      if (!p.hostId || !p.deviceId) continue;
      const net = await this.store.getNetwork(p.networkId);
      if (!net || isLegacy(net)) continue;
      await this.hosts.setPortSecurity(p.hostId, p.id, { requestId: `req-${randomUUID()}`, security: await this.security(p) }).catch(() => undefined);
    }
  }

  /**
   * A host back after being down (the host monitor's transition): what it missed while unreachable (peer deltas,
   * filters, removals are best effort) is sent again, whole, as the store says now. Each tenant network with live
   * ports bound there gets its full spec (peers, DHCP entries), each such port its filter, and each network the
   * host still carries without a port there any more (its servers were evacuated or deleted meanwhile) is removed
   * (the agent refuses while a NIC of its own uses it). Neutron's agents make the same full sync on reconnecting.
   */
  async resyncHost(host: string, requestId: string): Promise<{ ensured: string[]; removed: string[] }> {
    const out = { ensured: [] as string[], removed: [] as string[] };
    if (!this.hosts) return out;
    const hosts = this.hosts;
    const bound = await this.store.listPorts({ hostId: host });
    const wanted = new Set<string>();
    for (const id of [...new Set(bound.map((p) => p.networkId))].sort()) {
      await this.serial(`${id}/${host}`, async () => {
        const spec = await this.hostSpec(id, host, `${requestId}.net.${id}.${host}`);
        if (!spec?.dhcpHosts.length) return;
        wanted.add(id);
        await hosts.ensureNetwork(host, id, spec);
        out.ensured.push(id);
      });
    }
    await this.pushSecurity(bound);
    for (const id of (await hosts.hostNetworks(host)).sort()) {
      if (wanted.has(id)) continue;
      await this.serial(`${id}/${host}`, async () => {
        // asked again under the lock: a server may have landed there since
        const spec = await this.hostSpec(id, host, `${requestId}.net.${id}.${host}`);
        if (spec?.dhcpHosts.length) return;
        await hosts.removeNetwork(host, id);
        out.removed.push(id);
      }).catch(() => undefined);
    }
    return out;
  }

  /**
   * Nova's checks of a create's `networks`: unknown network 400, a port that is not the caller's 400 / in use 409,
   * a fixed IP outside the network 400 or taken 400; 'none' -> no NIC; 'auto' or nothing -> the default network.
   */
  async resolve(ctx: RequestContext, n: 'auto' | 'none' | Array<Record<string, unknown>> | null, count: number): Promise<RequestedNetwork[]> {
    if (n === 'none') return [];
    if (n === null || n === 'auto' || n.length === 0) {
      const d = (await this.networks.defaultNetwork()) ?? ((v) => (v.length === 1 ? v[0]! : null))(await this.networks.networks(ctx));
      return d ? [{ uuid: d.id, name: d.name }] : [];
    }
    const out: RequestedNetwork[] = [];
    for (const x of n) {
      const tag = typeof x.tag === 'string' ? { tag: x.tag } : {};
      if (typeof x.port === 'string' && x.port) {
        if (count > 1) throw badRequest('Unable to launch multiple instances with a single configured port ID. Please launch your instance one by one with different ports.');
        const p = await this.store.getPort(x.port);
        if (!p || (!isAdmin(ctx) && p.projectId !== ctx.projectId)) throw badRequest(`Port ${x.port} could not be found.`);
        if (p.deviceId) throw conflict(`Port ${x.port} is still in use.`);
        const net = (await this.store.getNetwork(p.networkId))!;
        out.push({ uuid: net.id, name: net.name, port: p.id, ...tag });
        continue;
      }
      const uuid = typeof x.uuid === 'string' ? x.uuid : '';
      const all = await this.networks.networks(ctx);
      const net = all.find((k) => k.id === uuid || k.id.replace(/-/g, '') === uuid.replace(/-/g, ''));
      if (!net) throw badRequest(`Network ${uuid} could not be found.`);
      if (typeof x.fixed_ip === 'string') {
        if (count > 1) throw badRequest('max_count cannot be greater than 1 if an fixed_ip is specified.');
        const ip = x.fixed_ip;
        const subnets = await this.store.listSubnets(net.id);
        const s = ipVersion(ip) ? subnets.find((k) => usable(parseCidr(k.cidr)!, ip)) : undefined;
        if (!s) throw badRequest(`Fixed IP address ${ip} is not valid on network ${net.id}.`);
        const used = (await this.store.listPorts({ networkId: net.id })).some((p) => p.fixedIps.some((f) => f.address === ip)) || ip === s.gatewayIp || ip === dhcpServerAddress(s);
        if (used) throw badRequest(`Fixed IP address ${ip} is already in use on instance.`);
      }
      out.push({ uuid: net.id, name: net.name, ...(typeof x.fixed_ip === 'string' ? { fixed_ip: x.fixed_ip } : {}), ...tag });
    }
    return out;
  }

  /** security groups of a create by name or id: each must exist in the project (Nova: 400); answered as names */
  async resolveGroups(ctx: RequestContext, names: string[]): Promise<string[]> {
    const out: string[] = [];
    for (const g of names) {
      const found = await this.groups.resolve(ctx, ctx.projectId, g);
      if (!found) throw badRequest(`Security group ${g} not found for project ${ctx.projectId}.`);
      if (!out.includes(found.name)) out.push(found.name);
    }
    return out;
  }

  /**
   * The build's ports on `host`, in the order requested, made in one transaction (so an exhausted subnet leaves
   * nothing behind). Idempotent: a re-driven step finds the ports the first attempt made and bound.
   */
  async allocate(s: Server, host: string): Promise<Port[]> {
    await this.networks.ready();
    const requested = s.requestedNetworks ?? [];
    const ids = requested.map((r, i) => r.port ?? buildPortId(s.id, i));
    const mine = await this.store.listPorts({ deviceId: s.id });
    if (requested.length && ids.every((id) => mine.some((p) => p.id === id))) {
      // a rescheduled build moves its ports to the new host
      for (const p of mine) if (ids.includes(p.id) && p.hostId !== host) await this.store.updatePort(p.id, { hostId: host });
      const now = await this.store.listPorts({ deviceId: s.id });
      return ids.map((id) => now.find((p) => p.id === id)!);
    }
    const groupIds = await this.groupIdsOf(s);
    const t = new Date().toISOString();
    const create: NewPort[] = [];
    const binds: Array<{ portId: string; deviceId: string; deviceOwner: string; hostId: string }> = [];
    for (const [i, r] of requested.entries()) {
      if (r.port) { binds.push({ portId: r.port, deviceId: s.id, deviceOwner: NOVA_OWNER, hostId: host }); continue; }
      const net = await this.store.getNetwork(r.uuid);
      if (!net) throw badRequest(`Network ${r.uuid} could not be found.`);
      const subnets = await this.store.listSubnets(net.id);
      const macAddress = randomMac();
      const ips = r.fixed_ip
        ? [{ subnetId: subnets.find((k) => usable(parseCidr(k.cidr)!, r.fixed_ip!))?.id ?? '', address: r.fixed_ip }]
        : await this.ports.ipRequests(net, undefined, macAddress);
      create.push({
        id: ids[i]!, networkId: net.id, projectId: s.projectId, name: '', description: '', macAddress, deviceId: s.id,
        deviceOwner: NOVA_OWNER, hostId: host, adminStateUp: true, portSecurityEnabled: net.portSecurityEnabled,
        securityGroups: net.portSecurityEnabled ? groupIds : [], deleteWithDevice: true, createdAt: t, updatedAt: t, ips,
      });
    }
    const res = await this.ports.createMany(create, binds);
    if ('conflict' in res) {
      const failed = res.conflict.kind === 'exhausted' ? (await this.store.getSubnet(res.conflict.subnetId))?.networkId : undefined;
      throw conflictError(res.conflict, failed ?? requested[0]?.uuid ?? '');
    }
    return ids.map((id) => res.ports.find((p) => p.id === id)!);
  }

  /** one more port for a running server (interface attach): the given one bound, or a new one on `networkId` */
  async attach(s: Server, host: string, o: { portId?: string; networkId?: string; fixedIps?: string[] }, newId: string): Promise<Port> {
    await this.networks.ready();
    const existing = await this.store.getPort(o.portId ?? newId);
    if (existing && existing.deviceId === s.id) return existing;
    if (o.portId) {
      const r = await this.ports.createMany([], [{ portId: o.portId, deviceId: s.id, deviceOwner: NOVA_OWNER, hostId: host }]);
      if ('conflict' in r) throw conflictError(r.conflict, existing?.networkId ?? '');
      return r.ports[0]!;
    }
    const net = (await this.store.getNetwork(o.networkId!))!;
    const subnets = await this.store.listSubnets(net.id);
    const macAddress = randomMac();
    const ips = o.fixedIps?.length
      ? o.fixedIps.map((a) => ({ subnetId: subnets.find((k) => usable(parseCidr(k.cidr)!, a))?.id ?? '', address: a }))
      : await this.ports.ipRequests(net, undefined, macAddress);
    const t = new Date().toISOString();
    const r = await this.ports.createMany([{
      id: newId, networkId: net.id, projectId: s.projectId, name: '', description: '', macAddress, deviceId: s.id,
      deviceOwner: NOVA_OWNER, hostId: host, adminStateUp: true, portSecurityEnabled: net.portSecurityEnabled,
      securityGroups: net.portSecurityEnabled ? await this.groupIdsOf(s) : [], deleteWithDevice: true, createdAt: t, updatedAt: t, ips,
    }]);
    if ('conflict' in r) throw conflictError(r.conflict, net.id);
    return r.ports[0]!;
  }

  /** the ports' binding:host_id moves to `host` (a migration's end: Nova's migrate_instance_finish) */
  async bind(ports: Port[], host: string): Promise<void> {
    for (const p of ports) if (p.hostId !== host) await this.store.updatePort(p.id, { hostId: host });
  }

  /** a detached port: deleted when compute made it, else unbound */
  async detach(portId: string): Promise<void> {
    const p = await this.store.getPort(portId);
    if (!p) return;
    if (p.deleteWithDevice) await this.store.deletePort(portId);
    else await this.store.updatePort(portId, { deviceId: '', deviceOwner: '', hostId: '' });
  }

  /** a build that failed: its ports go (made by compute) or are unbound (passed in) */
  release(serverId: string): Promise<void> { return this.store.releaseDevicePorts(serverId); }

  portsOf(serverId: string): Promise<Port[]> { return this.store.listPorts({ deviceId: serverId }); }

  /** the ports as the agent's NICs, in the order given */
  async nics(portIds: string[]): Promise<NicSpec[]> {
    const out: NicSpec[] = [];
    for (const id of portIds) {
      const p = await this.store.getPort(id);
      if (p) out.push(await this.nic(p));
    }
    return out;
  }

  private async groupIdsOf(s: Server): Promise<string[]> {
    const ids: string[] = [];
    const ctx = { projectId: s.projectId, roles: [] } as unknown as RequestContext;
    for (const name of s.securityGroups) {
      const g = await this.groups.resolve(ctx, s.projectId, name);
      if (g && !ids.includes(g.id)) ids.push(g.id);
    }
    return ids;
  }

  /** the server's groups (os-security-groups of a server): by the names it records, in its project */
  async serverGroups(s: Server): Promise<SecurityGroup[]> {
    const ctx = { projectId: s.projectId, roles: [] } as unknown as RequestContext;
    const out: SecurityGroup[] = [];
    for (const name of s.securityGroups) { const g = await this.groups.resolve(ctx, s.projectId, name); if (g) out.push(g); }
    return out;
  }

  /**
   * addSecurityGroup / removeSecurityGroup (Nova through Neutron): the server records the group's name and every
   * port of it with port security gets or loses the group; live ports get their new filter.
   */
  async changeServerGroup(ctx: RequestContext, s: Server, nameOrId: string, add: boolean): Promise<void> {
    const g = await this.groups.resolve(ctx, s.projectId, nameOrId);
    if (!g) throw notFound(`Security group ${nameOrId} not found for project ${s.projectId}.`);
    const has = s.securityGroups.includes(g.name);
    if (add && has) throw badRequest(`Security group ${g.name} is already associated with the instance ${s.id}`);
    if (!add && !has) throw badRequest(`Security group ${g.name} not associated with the instance ${s.id}`);
    const ports = await this.portsOf(s.id);
    for (const p of ports) {
      if (!p.portSecurityEnabled) continue;
      const groups = add ? [...new Set([...p.securityGroups, g.id])] : p.securityGroups.filter((x) => x !== g.id);
      await this.store.updatePort(p.id, { securityGroups: groups });
    }
    await this.store.updateServer(s.id, { securityGroups: add ? [...s.securityGroups, g.name] : s.securityGroups.filter((x) => x !== g.name) });
    await this.pushSecurity(await this.portsOf(s.id));
  }

  /** the server view's addresses, one per fixed IP of each port, by network name */
  async addresses(ports: Port[]): Promise<ServerAddress[]> {
    const out: ServerAddress[] = [];
    for (const p of ports) {
      const net = await this.store.getNetwork(p.networkId);
      for (const ip of p.fixedIps) out.push({ network: net?.name ?? p.networkId, addr: ip.address, version: ipVersion(ip.address) === 6 ? 6 : 4, mac: p.macAddress, type: 'fixed' });
    }
    return out;
  }

  /** the server's addresses written again from its ports (after an attach, a detach or a port update) */
  async syncAddresses(serverId: string): Promise<void> {
    const s = await this.store.getServer(serverId);
    if (!s || s.deleted) return;
    await this.store.updateServer(serverId, { addresses: await this.addresses(await this.portsOf(serverId)) });
  }

  /** the port as the agent's NIC: seeded networks keep today's attachment, tenant networks name the network */
  async nic(p: Port): Promise<NicSpec> {
    const net = (await this.store.getNetwork(p.networkId))!;
    const v4 = p.fixedIps.find((f) => ipVersion(f.address) === 4)?.address;
    if (isLegacy(net)) {
      return {
        portId: p.id, mac: p.macAddress, ...(v4 ? { ip: v4 } : {}),
        attachment: net.legacyBridge ? { type: 'bridge', bridge: net.legacyBridge } : { type: 'network', network: net.legacyLibvirtNetwork ?? net.name },
      };
    }
    return {
      portId: p.id, mac: p.macAddress, ...(v4 ? { ip: v4 } : {}), attachment: { type: 'tenant', network: net.id },
      ips: p.fixedIps.map((f) => ({ subnetId: f.subnetId, address: f.address })), security: await this.security(p), mtu: net.mtu,
    };
  }

  /** a port's filter for the agent: its groups' rules with remote groups expanded to their members' addresses */
  async security(p: Port): Promise<PortSecurity> {
    if (!p.portSecurityEnabled) return null;
    const rules = await this.groups.rules(p.securityGroups);
    const out: FilterRule[] = [];
    for (const r of rules) {
      let remotePrefixes: string[] = r.remoteIpPrefix ? [r.remoteIpPrefix] : [];
      if (r.remoteGroupId) {
        const members = (await this.store.listPorts()).filter((x) => x.securityGroups.includes(r.remoteGroupId!));
        remotePrefixes = members.flatMap((x) => x.fixedIps.map((f) => f.address)).filter((a) => (ipVersion(a) === 4) === (r.ethertype === 'IPv4'))
          .map((a) => `${a}/${ipVersion(a) === 4 ? 32 : 128}`);
        if (!remotePrefixes.length) continue; // a group with no members allows nothing
      }
      out.push({ direction: r.direction, ethertype: r.ethertype, protocol: r.protocol, portRangeMin: r.portRangeMin, portRangeMax: r.portRangeMax, remotePrefixes });
    }
    return { rules: out, allowedAddresses: p.fixedIps.map((f) => f.address) };
  }

  /**
   * What `host` must carry for a tenant network: its subnets, the tunnel addresses of the other hosts with ports
   * on it, and the DHCP entries of this host's ports. null for a seeded network (the host has it already).
   */
  async hostSpec(networkId: string, host: string, requestId: string, o: { withoutDevice?: string } = {}): Promise<NetworkSpec | null> {
    const net = await this.store.getNetwork(networkId);
    if (!net || isLegacy(net)) return null;
    const ports = await this.livePorts(networkId, o);
    // only the peers' host rows (a network on 100 of 1,000 hosts reads 100)
    const peerHosts = [...new Set(ports.map((p) => p.hostId).filter((h) => h && h !== host))];
    const ips = await Promise.all(peerHosts.map(async (h) => (await this.store.getHost(h))?.hostIp));
    const peers = [...new Set(ips.filter((ip): ip is string => !!ip))].sort();
    const subnets = await this.store.listSubnets(networkId);
    return {
      requestId, type: net.networkType === 'flat' ? 'flat' : 'vxlan', ...(net.vni !== null ? { vni: net.vni } : {}),
      ...(net.physicalNetwork ? { physicalNetwork: net.physicalNetwork } : {}), mtu: net.mtu,
      subnets: subnets.map((x) => ({
        id: x.id, cidr: x.cidr, ipVersion: x.ipVersion, gatewayIp: x.gatewayIp, enableDhcp: x.enableDhcp, dnsNameservers: x.dnsNameservers,
        hostRoutes: x.hostRoutes, ...(x.ipVersion === 6 ? { ipv6AddressMode: x.ipv6AddressMode as never } : {}),
      })),
      peers,
      dhcpHosts: ports.filter((p) => p.hostId === host).map((p) => ({ portId: p.id, mac: p.macAddress, ips: p.fixedIps.map((f) => ({ subnetId: f.subnetId, address: f.address })) })),
    };
  }

  /**
   * The network's ports that hosts must carry: not those of servers being deleted (their ports are still stored
   * until the delete's last transaction), so that two servers deleted at once never give each other's host the
   * network back.
   */
  async livePorts(networkId: string, o: { withoutDevice?: string } = {}): Promise<Port[]> {
    const ports = await this.store.listPorts({ networkId });
    const going = new Set<string>(o.withoutDevice ? [o.withoutDevice] : []);
    const devices = [...new Set(ports.filter((p) => p.deviceId && p.deviceOwner.startsWith('compute:')).map((p) => p.deviceId))];
    if (devices.length) {
      for (const s of await this.store.listServers({ ids: devices, withTask: true, viewFieldsOnly: true })) if (s.taskState === 'deleting') going.add(s.id);
    }
    return ports.filter((p) => !going.has(p.deviceId));
  }

  private readonly netLocks = new Map<string, Promise<unknown>>();
  /**
   * One spec of a network for one host at a time in this controller (`key` = network/host): the spec is computed
   * and sent under the lock, so an older view never reaches the host after a newer one (a network removed from a
   * host is not re-created by a spec computed before). Different hosts proceed in parallel.
   */
  async serial<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const prev = this.netLocks.get(key) ?? Promise.resolve();
    const run = prev.then(fn, fn);
    const tail = run.catch(() => undefined);
    this.netLocks.set(key, tail);
    try { return await run; } finally { if (this.netLocks.get(key) === tail) this.netLocks.delete(key); }
  }

  /**
   * `host` joined or left the network: the other hosts carrying it get their flood entry for it added or removed
   * (peer-sync.ts: a delta, coalesced per host, as the store says when it is sent).
   */
  async peersChanged(networkId: string, host: string, requestId: string, o: { withoutDevice?: string } = {}): Promise<void> {
    if (!this.peerSync) return;
    // the hosts carrying it now, and the ones it could have been removed from meanwhile are told by their own event
    await this.peerSync.changed(networkId, host, await this.otherHosts(networkId, host, o), requestId, o);
  }

  /** does `host` carry the network (ports bound there, not of servers being deleted nor of `without` devices) */
  async carries(networkId: string, host: string, without: ReadonlySet<string> = new Set()): Promise<boolean> {
    const ports = (await this.store.listPorts({ networkId, hostId: host })).filter((p) => !without.has(p.deviceId));
    const devices = [...new Set(ports.filter((p) => p.deviceId && p.deviceOwner.startsWith('compute:')).map((p) => p.deviceId))];
    // a port bound without a server (as livePorts counts it)
    if (ports.some((p) => !(p.deviceId && p.deviceOwner.startsWith('compute:')))) return true;
    const going = new Set<string>();
    if (devices.length) {
      for (const s of await this.store.listServers({ ids: devices, withTask: true, viewFieldsOnly: true })) if (s.taskState === 'deleting') going.add(s.id);
    }
    return ports.some((p) => !going.has(p.deviceId));
  }

  /** fn under several network/host locks, taken in sorted order (every other holder takes one only) */
  private locked<T>(keys: string[], fn: () => Promise<T>): Promise<T> {
    const sorted = [...new Set(keys)].sort();
    const take = (i: number): Promise<T> => (i === sorted.length ? fn() : this.serial(sorted[i]!, () => take(i + 1)));
    return take(0);
  }

  /** the hosts (other than `host`) that carry the network: their peers change when a host joins or leaves */
  async otherHosts(networkId: string, host: string, o: { withoutDevice?: string } = {}): Promise<string[]> {
    const ports = await this.livePorts(networkId, o);
    return [...new Set(ports.map((p) => p.hostId).filter((h) => h && h !== host))];
  }

  /**
   * The hosts' view after ports left `host` (a server deleted, an interface detached): the network is removed from
   * `host` when none of its ports is left there, else its DHCP entries are renewed; the other hosts' peers follow.
   * Best effort: a host that cannot be told now is told again by the next spec of that network.
   */
  async portsLeft(networkIds: string[], host: string, requestId: string, o: { withoutDevice?: string } = {}): Promise<void> {
    if (!this.hosts) return;
    const hosts = this.hosts;
    for (const id of [...new Set(networkIds)]) {
      const legacy = await this.serial(`${id}/${host}`, async () => {
        const spec = await this.hostSpec(id, host, `${requestId}.net.${id}.${host}`, o);
        if (!spec) return true;
        await (spec.dhcpHosts.length ? hosts.ensureNetwork(host, id, spec) : hosts.removeNetwork(host, id)).catch(() => undefined);
        return false;
      });
      if (legacy) continue;
      // the other hosts' peers change only when this host no longer carries the network (their DHCP entries never)
      if (!(await this.carries(id, host, new Set(o.withoutDevice ? [o.withoutDevice] : [])))) {
        await this.peersChanged(id, host, requestId, o).catch(() => undefined);
      }
    }
  }
}

export { candidates };
