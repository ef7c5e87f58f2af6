/** Neutron's resource bodies, with the attributes (and admin-only ones) Neutron shows. */
import type { Network, Port, SecurityGroup, SecurityGroupRule, Subnet } from '../../store/index.js';

/** Neutron's timestamps: seconds, Z */
const ts = (iso: string) => iso.replace(/\.\d+Z$/, 'Z');

export function networkView(n: Network, subnets: string[], admin: boolean): Record<string, unknown> {
  return {
    id: n.id, name: n.name, tenant_id: n.projectId, project_id: n.projectId, admin_state_up: n.adminStateUp, mtu: n.mtu,
    status: 'ACTIVE', subnets, shared: n.shared, availability_zone_hints: [], availability_zones: ['nova'], ipv4_address_scope: null,
    ipv6_address_scope: null, 'router:external': n.routerExternal, description: n.description, port_security_enabled: n.portSecurityEnabled,
    is_default: n.isDefault, l2_adjacency: true, tags: [], created_at: ts(n.createdAt), updated_at: ts(n.updatedAt), revision_number: n.revision,
    ...(admin ? {
      'provider:network_type': n.networkType === 'local' ? 'flat' : n.networkType,
      'provider:physical_network': n.physicalNetwork ?? (n.networkType === 'local' ? (n.legacyBridge ?? n.legacyLibvirtNetwork) : null),
      'provider:segmentation_id': n.vni,
    } : {}),
  };
}

export function subnetView(s: Subnet): Record<string, unknown> {
  return {
    id: s.id, name: s.name, tenant_id: s.projectId, project_id: s.projectId, network_id: s.networkId, ip_version: s.ipVersion,
    subnetpool_id: null, enable_dhcp: s.enableDhcp, ipv6_ra_mode: s.ipv6RaMode, ipv6_address_mode: s.ipv6AddressMode, gateway_ip: s.gatewayIp,
    cidr: s.cidr, allocation_pools: s.allocationPools, host_routes: s.hostRoutes, dns_nameservers: s.dnsNameservers,
    description: s.description, service_types: [], dns_publish_fixed_ip: false, tags: [], created_at: ts(s.createdAt), updated_at: ts(s.updatedAt),
    revision_number: s.revision,
  };
}

export function portView(p: Port, admin: boolean): Record<string, unknown> {
  const bound = p.hostId !== '';
  return {
    id: p.id, name: p.name, network_id: p.networkId, tenant_id: p.projectId, project_id: p.projectId, mac_address: p.macAddress,
    admin_state_up: p.adminStateUp, status: p.deviceId && bound ? 'ACTIVE' : 'DOWN', device_id: p.deviceId, device_owner: p.deviceOwner,
    fixed_ips: p.fixedIps.map((f) => ({ subnet_id: f.subnetId, ip_address: f.address })), allowed_address_pairs: [], extra_dhcp_opts: [],
    security_groups: p.securityGroups, description: p.description, port_security_enabled: p.portSecurityEnabled, dns_name: '',
    dns_assignment: [], ip_allocation: 'immediate', propagate_uplink_status: false, tags: [], created_at: ts(p.createdAt),
    updated_at: ts(p.updatedAt), revision_number: p.revision, 'binding:vnic_type': 'normal',
    ...(admin ? {
      'binding:host_id': p.hostId, 'binding:profile': {}, 'binding:vif_type': bound ? 'bridge' : 'unbound',
      'binding:vif_details': bound ? { port_filter: p.portSecurityEnabled } : {},
    } : {}),
  };
}

export function ruleView(r: SecurityGroupRule, defaultGroup: boolean): Record<string, unknown> {
  return {
    id: r.id, tenant_id: r.projectId, project_id: r.projectId, security_group_id: r.securityGroupId, direction: r.direction,
    ethertype: r.ethertype, protocol: r.protocol, port_range_min: r.portRangeMin, port_range_max: r.portRangeMax,
    remote_ip_prefix: r.remoteIpPrefix, remote_group_id: r.remoteGroupId, remote_address_group_id: null,
    normalized_cidr: r.remoteIpPrefix, description: r.description, belongs_to_default_sg: defaultGroup,
    created_at: ts(r.createdAt), updated_at: ts(r.createdAt), revision_number: 0,
  };
}

export function groupView(g: SecurityGroup, rules: SecurityGroupRule[], isDefault: boolean): Record<string, unknown> {
  return {
    id: g.id, name: g.name, tenant_id: g.projectId, project_id: g.projectId, description: g.description, stateful: g.stateful,
    shared: false, security_group_rules: rules.map((r) => ruleView(r, isDefault)), tags: [], created_at: ts(g.createdAt),
    updated_at: ts(g.updatedAt), revision_number: g.revision,
  };
}
