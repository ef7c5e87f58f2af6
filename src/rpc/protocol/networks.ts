/**
 * Tenant networks on a host (issue 12): the controller tells each agent which networks it must carry and who its
 * VXLAN peers are; the agent realises a network as a Linux bridge + a VXLAN device (one VNI per network) + a DHCP
 * server answering only the addresses the controller allocated, and each port as a tap on that bridge with its
 * security groups as nftables rules. Every call is an idempotent "make it so" (same body twice = no change).
 *
 *   PUT    /v1/networks/:networkId      NetworkSpec            -> 200 {network: HostNetworkView}
 *   DELETE /v1/networks/:networkId                             -> 204 (409 network_in_use while a local NIC uses it)
 *   GET    /v1/networks                                        -> 200 {networks: HostNetworkView[]}
 *   PUT    /v1/ports/:portId/security   PortSecurity           -> 200 (rules of a live port changed)
 *   POST   /v1/network-peers            PeerChangesRequest     -> 200 PeerChangesResponse
 *
 * POST /v1/network-peers is the delta of the VXLAN peers alone, for many networks of this host at once: when a host
 * joins or leaves a network, the other hosts carrying it are told only that (one flood entry added or removed),
 * not the whole spec again. Idempotent (add = present, remove = absent); journaled with the network's spec, so it
 * survives a restart; a network this host does not carry is skipped (listed in `unknown`: its full spec, when it
 * comes, has the peers).
 *
 * A server's NIC names its network with a `{type: 'tenant', network: <networkId>}` attachment of NicSpec
 * (server-spec.ts; added with the agent side, issue 12), and carries `ips`, `security` and `mtu`; the agent refuses a
 * spawn/attach_nic on a network it was not given (409 invalid_state) so the controller ensures networks first.
 */
import { Type, type Static } from '@sinclair/typebox';
import { RequestId } from './common.js';

export const NetworkId = Type.String({ minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9-]+$' });

export const SubnetSpec = Type.Object({
  id: Type.String({ minLength: 1, maxLength: 64 }),
  cidr: Type.String({ minLength: 1, maxLength: 64 }),
  ipVersion: Type.Union([Type.Literal(4), Type.Literal(6)]),
  gatewayIp: Type.Union([Type.Null(), Type.String()]),
  enableDhcp: Type.Boolean(),
  dnsNameservers: Type.Array(Type.String()),
  hostRoutes: Type.Array(Type.Object({ destination: Type.String(), nexthop: Type.String() })),
  /** IPv6 only: Neutron's ipv6_address_mode */
  ipv6AddressMode: Type.Optional(Type.Union([Type.Literal('slaac'), Type.Literal('dhcpv6-stateful'), Type.Literal('dhcpv6-stateless'), Type.Null()])),
});
export type SubnetSpec = Static<typeof SubnetSpec>;

/** One port's addresses on this host, for the network's DHCP static entries (no dynamic ranges). */
export const DhcpHost = Type.Object({
  portId: Type.String({ minLength: 1, maxLength: 64 }),
  mac: Type.String({ pattern: '^([0-9a-fA-F]{2}:){5}[0-9a-fA-F]{2}$' }),
  ips: Type.Array(Type.Object({ subnetId: Type.String(), address: Type.String() })),
  hostname: Type.Optional(Type.String({ maxLength: 63 })),
});
export type DhcpHost = Static<typeof DhcpHost>;

export const NetworkSpec = Type.Object({
  requestId: RequestId,
  /** `vxlan`: a tenant network carried between hosts by VXLAN; `flat`: a provider network on an existing host bridge */
  type: Type.Union([Type.Literal('vxlan'), Type.Literal('flat')]),
  /** VXLAN network identifier (vxlan only), unique per network in the cloud */
  vni: Type.Optional(Type.Integer({ minimum: 1, maximum: 16_777_215 })),
  /** flat only: the operator's existing bridge on this host (Neutron's physical_network mapped by the agent config) */
  physicalNetwork: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
  mtu: Type.Integer({ minimum: 68, maximum: 9000 }),
  subnets: Type.Array(SubnetSpec),
  /** tunnel (underlay) addresses of the OTHER hosts that have ports on this network: head-end replication fdb */
  peers: Type.Array(Type.String()),
  /** the ports of this network that live on this host (DHCP answers exactly these) */
  dhcpHosts: Type.Array(DhcpHost),
}, { additionalProperties: false });
export type NetworkSpec = Static<typeof NetworkSpec>;

export const HostNetworkView = Type.Object({
  id: Type.String(),
  type: Type.String(),
  vni: Type.Optional(Type.Integer()),
  bridge: Type.String(),
  mtu: Type.Integer(),
  peers: Type.Array(Type.String()),
  ports: Type.Array(Type.String()),
});
export type HostNetworkView = Static<typeof HostNetworkView>;

/**
 * A security group rule as the agent applies it (the controller expands remote groups to prefixes).
 * Null comes first in every union: the RPC server's validator coerces types, and would turn a null into the 0 or ""
 * of a first branch (`icmp` with a null type would become echo-reply only).
 */
export const FilterRule = Type.Object({
  direction: Type.Union([Type.Literal('ingress'), Type.Literal('egress')]),
  ethertype: Type.Union([Type.Literal('IPv4'), Type.Literal('IPv6')]),
  protocol: Type.Union([Type.Null(), Type.String({ maxLength: 16 })]),
  portRangeMin: Type.Union([Type.Null(), Type.Integer({ minimum: 0, maximum: 65535 })]),
  portRangeMax: Type.Union([Type.Null(), Type.Integer({ minimum: 0, maximum: 65535 })]),
  /** CIDRs; empty = any */
  remotePrefixes: Type.Array(Type.String()),
});
export type FilterRule = Static<typeof FilterRule>;

/**
 * A port's filter: null = port security disabled (no filtering, no anti-spoofing); otherwise stateful allow-list
 * (established/related always allowed, everything else dropped unless a rule allows it) plus anti-spoofing of the
 * port's own MAC and addresses (and DHCP).
 */
export const PortSecurity = Type.Union([
  Type.Null(),
  Type.Object({ rules: Type.Array(FilterRule), allowedAddresses: Type.Array(Type.String()) }),
]);
export type PortSecurity = Static<typeof PortSecurity>;

export const PutPortSecurityRequest = Type.Object({ requestId: RequestId, security: PortSecurity }, { additionalProperties: false });
export type PutPortSecurityRequest = Static<typeof PutPortSecurityRequest>;

export const PeerChange = Type.Object({
  networkId: NetworkId,
  /** tunnel addresses to have flood entries for (already present: nothing to do) */
  add: Type.Array(Type.String(), { maxItems: 4096 }),
  /** tunnel addresses to have none for (absent: nothing to do) */
  remove: Type.Array(Type.String(), { maxItems: 4096 }),
}, { additionalProperties: false });
export type PeerChange = Static<typeof PeerChange>;

export const PeerChangesRequest = Type.Object({
  requestId: RequestId,
  changes: Type.Array(PeerChange, { maxItems: 4096 }),
}, { additionalProperties: false });
export type PeerChangesRequest = Static<typeof PeerChangesRequest>;

export const PeerChangesResponse = Type.Object({
  /** the networks changed, with their peers now */
  networks: Type.Array(Type.Object({ id: Type.String(), peers: Type.Array(Type.String()) })),
  /** networks of the request this host does not carry (skipped) */
  unknown: Type.Array(Type.String()),
});
export type PeerChangesResponse = Static<typeof PeerChangesResponse>;

// --- route schemas of the agent RPC (src/rpc/server.ts) -----------------------------------------------------------

export const NetworkIdParams = Type.Object({ networkId: NetworkId });
export const PortIdParams = Type.Object({ portId: Type.String({ minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9-]+$' }) });
export const NetworkResponse = Type.Object({ network: HostNetworkView });
export type NetworkResponse = Static<typeof NetworkResponse>;
export const ListNetworksResponse = Type.Object({ networks: Type.Array(HostNetworkView) });
export type ListNetworksResponse = Static<typeof ListNetworksResponse>;
