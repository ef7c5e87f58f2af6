/** Neutron's resources (migration 10): networks, subnets, ports with their fixed IPs, security groups and rules. */
import type {
  Network, NewPort, Port, PortBind, PortConflict, IpRequest, SecurityGroup, SecurityGroupRule, Subnet,
} from '../types.js';

export type NetworkChanges = Partial<Pick<Network, 'name' | 'description' | 'shared' | 'adminStateUp' | 'mtu' | 'portSecurityEnabled' | 'routerExternal' | 'isDefault'>>;
export type SubnetChanges = Partial<Pick<Subnet, 'name' | 'description' | 'gatewayIp' | 'enableDhcp' | 'allocationPools' | 'dnsNameservers' | 'hostRoutes'>>;
export type PortChanges = Partial<Pick<Port, 'name' | 'description' | 'deviceId' | 'deviceOwner' | 'hostId' | 'adminStateUp' | 'portSecurityEnabled' | 'securityGroups' | 'deleteWithDevice' | 'macAddress'>>;
export type SecurityGroupChanges = Partial<Pick<SecurityGroup, 'name' | 'description' | 'stateful'>>;

export interface PortQuery { networkId?: string; deviceId?: string; projectId?: string; hostId?: string; ids?: string[]; }

export type PortsResult = { ports: Port[] } | { conflict: PortConflict };

export interface NetworkRepo {
  /**
   * Inserts the network; `allocateVni`: a VXLAN id unique among all networks is taken in the same transaction (the
   * unique index decides between concurrent creates). Returns the network as stored.
   */
  createNetwork(n: Omit<Network, 'vni' | 'revision'>, allocateVni: boolean): Promise<Network>;
  /**
   * a seeded network and its subnet: inserted when missing, left as they are otherwise; the fixed IPs servers got
   * on it before ports were stored become their ports (id `legacyPortId(server, mac)`, deleted with the server)
   */
  seedNetwork(n: Omit<Network, 'revision'>, s: Omit<Subnet, 'revision'>, legacyPortId: (serverId: string, mac: string) => string): Promise<void>;
  getNetwork(id: string): Promise<Network | null>;
  listNetworks(): Promise<Network[]>;
  updateNetwork(id: string, c: NetworkChanges): Promise<Network | null>;
  /** with its subnets; refused while ports exist */
  deleteNetwork(id: string): Promise<'deleted' | 'in_use' | 'not_found'>;

  createSubnet(s: Omit<Subnet, 'revision'>): Promise<Subnet>;
  getSubnet(id: string): Promise<Subnet | null>;
  listSubnets(networkId?: string): Promise<Subnet[]>;
  updateSubnet(id: string, c: SubnetChanges): Promise<Subnet | null>;
  /** refused while a port holds an address of it */
  deleteSubnet(id: string): Promise<'deleted' | 'in_use' | 'not_found'>;

  /**
   * Creates the ports and binds the existing ones, all or nothing, in one transaction: each fixed IP is taken
   * there (never twice: (subnet, address) is unique), a MAC is unique per network, a bind is a compare-and-swap on
   * an unbound port. A conflict changes nothing and says what failed.
   */
  createPorts(ports: NewPort[], binds?: PortBind[]): Promise<PortsResult>;
  getPort(id: string): Promise<Port | null>;
  listPorts(q?: PortQuery): Promise<Port[]>;
  /** `ips`: the port's fixed IPs are replaced (kept addresses stay held; new ones are taken as in createPorts) */
  updatePort(id: string, c: PortChanges, ips?: IpRequest[]): Promise<PortsResult>;
  deletePort(id: string): Promise<boolean>;
  /** a server is gone: its compute-created ports are deleted (addresses released), the others unbound */
  releaseDevicePorts(deviceId: string): Promise<void>;
  /** the used addresses of a subnet (for quotas and tests) */
  countSubnetIps(subnetId: string): Promise<number>;

  /** creates the group with its rules */
  createSecurityGroup(g: Omit<SecurityGroup, 'revision'>, rules: SecurityGroupRule[]): Promise<SecurityGroup>;
  /** the project's `default` group: created by the first caller (with `rules`), found by the others */
  ensureDefaultSecurityGroup(g: Omit<SecurityGroup, 'revision'>, rules: SecurityGroupRule[]): Promise<SecurityGroup>;
  getSecurityGroup(id: string): Promise<SecurityGroup | null>;
  listSecurityGroups(projectId?: string): Promise<SecurityGroup[]>;
  updateSecurityGroup(id: string, c: SecurityGroupChanges): Promise<SecurityGroup | null>;
  /** refused while a port uses it; a project's default group is refused by the controller */
  deleteSecurityGroup(id: string): Promise<'deleted' | 'in_use' | 'not_found'>;
  defaultSecurityGroupOf(projectId: string): Promise<string | null>;
  /** false when an identical rule exists (Neutron's SecurityGroupRuleExists) */
  createSecurityGroupRule(r: SecurityGroupRule): Promise<boolean>;
  getSecurityGroupRule(id: string): Promise<SecurityGroupRule | null>;
  listSecurityGroupRules(groupIds?: string[]): Promise<SecurityGroupRule[]>;
  deleteSecurityGroupRule(id: string): Promise<boolean>;
}
