/**
 * SQLite repository of Neutron's resources (migration 10). Addresses are taken inside the port's transaction
 * (IMMEDIATE: one writer at a time), and (subnet_id, address) is the primary key of port_ips, so two creates can
 * never hold the same address whatever the interleaving; a MAC is unique per network the same way.
 */
import type { NetworkRepo, NetworkChanges, PortChanges, PortQuery, PortsResult, SecurityGroupChanges, SubnetChanges } from '../repos/networks.js';
import type { IpRequest, Network, NewPort, Port, PortBind, PortConflict, PortIp, SecurityGroup, SecurityGroupRule, Subnet } from '../types.js';
import { bool, now, type Row } from './columns.js';
import { SqliteRepository, type Connection } from './repository.js';

export const b = (v: boolean) => (v ? 1 : 0);
/** the first VXLAN id handed out (low ids are left to operators' provider segments) */
export const FIRST_VNI = 1001;
/** the lowest free VXLAN id at or above FIRST_VNI (params: FIRST_VNI twice): a gap left by a deleted network is reused */
export const FREE_VNI_SQL = `SELECT MIN(v) AS v FROM (SELECT CAST(? AS INTEGER) AS v UNION ALL SELECT vni + 1 FROM networks WHERE vni >= ?) c
  WHERE NOT EXISTS (SELECT 1 FROM networks x WHERE x.vni = c.v)`;

export const rowToNetwork = (r: Row): Network => ({
  id: r.id as string, name: r.name as string, projectId: r.project_id as string, description: r.description as string,
  shared: bool(r.shared), adminStateUp: bool(r.admin_state_up), mtu: r.mtu as number, networkType: r.network_type as Network['networkType'],
  physicalNetwork: (r.physical_network as string | null) ?? null, vni: (r.vni as number | null) ?? null, routerExternal: bool(r.router_external),
  portSecurityEnabled: bool(r.port_security_enabled), legacyBridge: (r.legacy_bridge as string | null) ?? null,
  legacyLibvirtNetwork: (r.legacy_libvirt_network as string | null) ?? null, isDefault: bool(r.is_default),
  createdAt: r.created_at as string, updatedAt: r.updated_at as string, revision: r.revision as number,
});

export const rowToSubnet = (r: Row): Subnet => ({
  id: r.id as string, networkId: r.network_id as string, projectId: r.project_id as string, name: r.name as string,
  description: r.description as string, cidr: r.cidr as string, ipVersion: r.ip_version as 4 | 6, gatewayIp: (r.gateway_ip as string | null) ?? null,
  enableDhcp: bool(r.enable_dhcp), allocationPools: JSON.parse(r.allocation_pools as string) as Subnet['allocationPools'],
  dnsNameservers: JSON.parse(r.dns_nameservers as string) as string[], hostRoutes: JSON.parse(r.host_routes as string) as Subnet['hostRoutes'],
  ipv6AddressMode: (r.ipv6_address_mode as string | null) ?? null, ipv6RaMode: (r.ipv6_ra_mode as string | null) ?? null,
  createdAt: r.created_at as string, updatedAt: r.updated_at as string, revision: r.revision as number,
});

export const rowToSecurityGroup = (r: Row): SecurityGroup => ({
  id: r.id as string, projectId: r.project_id as string, name: r.name as string, description: r.description as string,
  stateful: bool(r.stateful), createdAt: r.created_at as string, updatedAt: r.updated_at as string, revision: r.revision as number,
});

export const rowToSecurityGroupRule = (r: Row): SecurityGroupRule => ({
  id: r.id as string, securityGroupId: r.security_group_id as string, projectId: r.project_id as string,
  direction: r.direction as SecurityGroupRule['direction'], ethertype: r.ethertype as SecurityGroupRule['ethertype'],
  protocol: (r.protocol as string | null) ?? null, portRangeMin: (r.port_range_min as number | null) ?? null,
  portRangeMax: (r.port_range_max as number | null) ?? null, remoteIpPrefix: (r.remote_ip_prefix as string | null) ?? null,
  remoteGroupId: (r.remote_group_id as string | null) ?? null, description: r.description as string, createdAt: r.created_at as string,
});

/** thrown inside a transaction to roll it back with the conflict as the answer */
export class Conflict extends Error { constructor(readonly c: PortConflict) { super(c.kind); } }

function portOf(c: Connection, r: Row): Port {
  const ips = (c.cached('SELECT subnet_id, address FROM port_ips WHERE port_id = ? ORDER BY rowid').all(r.id) as Row[])
    .map((x): PortIp => ({ subnetId: x.subnet_id as string, address: x.address as string }));
  return rowToPort(r, ips);
}

/** a ports row with its fixed IPs (in the order they were taken) */
export function rowToPort(r: Row, ips: PortIp[]): Port {
  return {
    id: r.id as string, networkId: r.network_id as string, projectId: r.project_id as string, name: r.name as string,
    description: r.description as string, macAddress: r.mac_address as string, fixedIps: ips, deviceId: r.device_id as string,
    deviceOwner: r.device_owner as string, hostId: r.host_id as string, adminStateUp: bool(r.admin_state_up),
    portSecurityEnabled: bool(r.port_security_enabled), securityGroups: JSON.parse(r.security_groups as string) as string[],
    deleteWithDevice: bool(r.delete_with_device), createdAt: r.created_at as string, updatedAt: r.updated_at as string, revision: r.revision as number,
  };
}

/** takes one address for the port (or throws Conflict) */
function takeIp(c: Connection, portId: string, req: IpRequest): void {
  const insert = c.cached('INSERT INTO port_ips (port_id, subnet_id, address) VALUES (?, ?, ?)');
  const used = c.cached('SELECT 1 FROM port_ips WHERE subnet_id = ? AND address = ?');
  if ('address' in req) {
    if (used.get(req.subnetId, req.address)) throw new Conflict({ kind: 'ip_in_use', subnetId: req.subnetId, address: req.address });
    insert.run(portId, req.subnetId, req.address);
    return;
  }
  const held = new Set((c.cached('SELECT address FROM port_ips WHERE subnet_id = ?').all(req.subnetId) as Row[]).map((x) => x.address as string));
  for (const a of req.candidates()) {
    if (held.has(a)) continue;
    insert.run(portId, req.subnetId, a);
    return;
  }
  throw new Conflict({ kind: 'exhausted', subnetId: req.subnetId });
}

function insertPort(c: Connection, p: NewPort): void {
  if (c.cached('SELECT 1 FROM ports WHERE network_id = ? AND mac_address = ?').get(p.networkId, p.macAddress)) throw new Conflict({ kind: 'mac_in_use', mac: p.macAddress });
  c.cached(`INSERT INTO ports (id, network_id, project_id, name, description, mac_address, device_id, device_owner, host_id, admin_state_up,
    port_security_enabled, security_groups, delete_with_device, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)
    .run(p.id, p.networkId, p.projectId, p.name, p.description, p.macAddress, p.deviceId, p.deviceOwner, p.hostId, b(p.adminStateUp),
      b(p.portSecurityEnabled), JSON.stringify(p.securityGroups), b(p.deleteWithDevice), p.createdAt, p.updatedAt);
  for (const ip of p.ips) takeIp(c, p.id, ip);
}

/** deletes a port and gives back its addresses */
function removePort(c: Connection, id: string): boolean {
  c.cached('DELETE FROM port_ips WHERE port_id = ?').run(id);
  return c.cached('DELETE FROM ports WHERE id = ?').run(id).changes === 1;
}

/** a server is gone (the store's delete transaction calls this too): its ports deleted or unbound */
export function releaseDevicePorts(c: Connection, deviceId: string): void {
  for (const r of c.cached('SELECT id FROM ports WHERE device_id = ? AND delete_with_device = 1').all(deviceId) as Row[]) removePort(c, r.id as string);
  c.cached("UPDATE ports SET device_id = '', device_owner = '', host_id = '', revision = revision + 1, updated_at = ? WHERE device_id = ?").run(now(), deviceId);
}

export const NETWORK_COLS: Record<string, [string, (v: never) => unknown]> = {
  name: ['name', (v: string) => v], description: ['description', (v: string) => v], shared: ['shared', (v: boolean) => b(v)],
  adminStateUp: ['admin_state_up', (v: boolean) => b(v)], mtu: ['mtu', (v: number) => v], portSecurityEnabled: ['port_security_enabled', (v: boolean) => b(v)],
  routerExternal: ['router_external', (v: boolean) => b(v)], isDefault: ['is_default', (v: boolean) => b(v)],
};
export const SUBNET_COLS: Record<string, [string, (v: never) => unknown]> = {
  name: ['name', (v: string) => v], description: ['description', (v: string) => v], gatewayIp: ['gateway_ip', (v: string | null) => v],
  enableDhcp: ['enable_dhcp', (v: boolean) => b(v)], allocationPools: ['allocation_pools', (v: unknown) => JSON.stringify(v)],
  dnsNameservers: ['dns_nameservers', (v: unknown) => JSON.stringify(v)], hostRoutes: ['host_routes', (v: unknown) => JSON.stringify(v)],
};
export const PORT_COLS: Record<string, [string, (v: never) => unknown]> = {
  name: ['name', (v: string) => v], description: ['description', (v: string) => v], deviceId: ['device_id', (v: string) => v],
  deviceOwner: ['device_owner', (v: string) => v], hostId: ['host_id', (v: string) => v], adminStateUp: ['admin_state_up', (v: boolean) => b(v)],
  portSecurityEnabled: ['port_security_enabled', (v: boolean) => b(v)], securityGroups: ['security_groups', (v: unknown) => JSON.stringify(v)],
  deleteWithDevice: ['delete_with_device', (v: boolean) => b(v)], macAddress: ['mac_address', (v: string) => v],
};
export const GROUP_COLS: Record<string, [string, (v: never) => unknown]> = {
  name: ['name', (v: string) => v], description: ['description', (v: string) => v], stateful: ['stateful', (v: boolean) => b(v)],
};

/** `UPDATE table SET <changes>, revision + 1, updated_at WHERE id = ?` and its params (both stores) */
export function updateSql(table: string, cols: Record<string, [string, (v: never) => unknown]>, id: string, c: object): [string, unknown[]] {
  const sets: string[] = []; const params: unknown[] = [];
  for (const [k, v] of Object.entries(c)) {
    if (v === undefined) continue;
    const m = cols[k]; if (!m) throw new Error(`unknown ${table} field ${k}`);
    sets.push(`${m[0]} = ?`); params.push(m[1](v as never));
  }
  return [`UPDATE ${table} SET ${[...sets, 'revision = revision + 1', 'updated_at = ?'].join(', ')} WHERE id = ?`, [...params, now(), id]];
}

export class SqliteNetworks extends SqliteRepository implements NetworkRepo {
  /** UPDATE with revision + 1; false when no row */
  #update(table: string, cols: Record<string, [string, (v: never) => unknown]>, id: string, c: object): boolean {
    const [sql, params] = updateSql(table, cols, id, c);
    return this.db.prepare(sql).run(...params).changes === 1;
  }

  async createNetwork(n: Omit<Network, 'vni' | 'revision'>, allocateVni: boolean): Promise<Network> {
    return this.db.transaction(() => {
      let vni: number | null = null;
      if (allocateVni) {
        const r = this.db.prepare(FREE_VNI_SQL).get(FIRST_VNI, FIRST_VNI) as Row;
        vni = r.v as number;
      }
      this.#insertNetwork({ ...n, vni });
      return rowToNetwork(this.db.prepare('SELECT * FROM networks WHERE id = ?').get(n.id) as Row);
    }).immediate();
  }

  #insertNetwork(n: Omit<Network, 'revision'>): void {
    this.db.prepare(`INSERT INTO networks (id, name, project_id, description, shared, admin_state_up, mtu, network_type, physical_network, vni,
      router_external, port_security_enabled, legacy_bridge, legacy_libvirt_network, is_default, created_at, updated_at)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`).run(n.id, n.name, n.projectId, n.description, b(n.shared), b(n.adminStateUp), n.mtu,
      n.networkType, n.physicalNetwork, n.vni, b(n.routerExternal), b(n.portSecurityEnabled), n.legacyBridge, n.legacyLibvirtNetwork, b(n.isDefault),
      n.createdAt, n.updatedAt);
  }

  #insertSubnet(s: Omit<Subnet, 'revision'>): void {
    this.db.prepare(`INSERT INTO subnets (id, network_id, project_id, name, description, cidr, ip_version, gateway_ip, enable_dhcp, allocation_pools,
      dns_nameservers, host_routes, ipv6_address_mode, ipv6_ra_mode, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)
      .run(s.id, s.networkId, s.projectId, s.name, s.description, s.cidr, s.ipVersion, s.gatewayIp, b(s.enableDhcp), JSON.stringify(s.allocationPools),
        JSON.stringify(s.dnsNameservers), JSON.stringify(s.hostRoutes), s.ipv6AddressMode, s.ipv6RaMode, s.createdAt, s.updatedAt);
  }

  async seedNetwork(n: Omit<Network, 'revision'>, s: Omit<Subnet, 'revision'>, legacyPortId: (serverId: string, mac: string) => string): Promise<void> {
    this.db.transaction(() => {
      if (!this.db.prepare('SELECT 1 FROM networks WHERE id = ?').get(n.id)) this.#insertNetwork(n);
      if (!this.db.prepare('SELECT 1 FROM subnets WHERE id = ?').get(s.id)) this.#insertSubnet(s);
      const legacy = this.db.prepare(`SELECT f.server_id, f.mac, f.address, v.project_id, v.host, f.created_at FROM fixed_ips f
        JOIN servers v ON v.id = f.server_id WHERE f.network_id = ? AND v.deleted = 0
        AND NOT EXISTS (SELECT 1 FROM ports p WHERE p.network_id = f.network_id AND p.mac_address = f.mac)`).all(n.id) as Row[];
      for (const r of legacy) {
        insertPort(this.conn, {
          id: legacyPortId(r.server_id as string, r.mac as string), networkId: n.id, projectId: r.project_id as string, name: '', description: '',
          macAddress: r.mac as string, deviceId: r.server_id as string, deviceOwner: 'compute:nova', hostId: (r.host as string | null) ?? '',
          adminStateUp: true, portSecurityEnabled: false, securityGroups: [], deleteWithDevice: true, createdAt: r.created_at as string,
          updatedAt: r.created_at as string, ips: [{ subnetId: s.id, address: r.address as string }],
        });
      }
    }).immediate();
  }

  async getNetwork(id: string): Promise<Network | null> {
    const r = this.cached('SELECT * FROM networks WHERE id = ?').get(id) as Row | undefined;
    return r ? rowToNetwork(r) : null;
  }

  async listNetworks(): Promise<Network[]> {
    return (this.db.prepare('SELECT * FROM networks ORDER BY created_at, id').all() as Row[]).map(rowToNetwork);
  }

  async updateNetwork(id: string, c: NetworkChanges): Promise<Network | null> {
    return this.#update('networks', NETWORK_COLS, id, c) ? this.getNetwork(id) : null;
  }

  async deleteNetwork(id: string): Promise<'deleted' | 'in_use' | 'not_found'> {
    return this.db.transaction(() => {
      if (!this.db.prepare('SELECT 1 FROM networks WHERE id = ?').get(id)) return 'not_found' as const;
      if (this.db.prepare('SELECT 1 FROM ports WHERE network_id = ? LIMIT 1').get(id)) return 'in_use' as const;
      this.db.prepare('DELETE FROM subnets WHERE network_id = ?').run(id);
      this.db.prepare('DELETE FROM networks WHERE id = ?').run(id);
      return 'deleted' as const;
    }).immediate();
  }

  async createSubnet(s: Omit<Subnet, 'revision'>): Promise<Subnet> {
    this.#insertSubnet(s);
    return (await this.getSubnet(s.id))!;
  }

  async getSubnet(id: string): Promise<Subnet | null> {
    const r = this.cached('SELECT * FROM subnets WHERE id = ?').get(id) as Row | undefined;
    return r ? rowToSubnet(r) : null;
  }

  async listSubnets(networkId?: string): Promise<Subnet[]> {
    const rows = networkId === undefined
      ? this.db.prepare('SELECT * FROM subnets ORDER BY created_at, id').all()
      : this.cached('SELECT * FROM subnets WHERE network_id = ? ORDER BY created_at, id').all(networkId);
    return (rows as Row[]).map(rowToSubnet);
  }

  async updateSubnet(id: string, c: SubnetChanges): Promise<Subnet | null> {
    return this.#update('subnets', SUBNET_COLS, id, c) ? this.getSubnet(id) : null;
  }

  async deleteSubnet(id: string): Promise<'deleted' | 'in_use' | 'not_found'> {
    return this.db.transaction(() => {
      if (!this.db.prepare('SELECT 1 FROM subnets WHERE id = ?').get(id)) return 'not_found' as const;
      if (this.db.prepare('SELECT 1 FROM port_ips WHERE subnet_id = ? LIMIT 1').get(id)) return 'in_use' as const;
      this.db.prepare('DELETE FROM subnets WHERE id = ?').run(id);
      return 'deleted' as const;
    }).immediate();
  }

  async createPorts(ports: NewPort[], binds: PortBind[] = []): Promise<PortsResult> {
    try {
      return this.db.transaction((): PortsResult => {
        for (const p of ports) insertPort(this.conn, p);
        for (const x of binds) {
          const cur = this.cached('SELECT device_id FROM ports WHERE id = ?').get(x.portId) as Row | undefined;
          if (!cur) throw new Conflict({ kind: 'not_found', portId: x.portId });
          if (cur.device_id !== '' && cur.device_id !== x.deviceId) throw new Conflict({ kind: 'port_in_use', portId: x.portId, deviceId: cur.device_id as string });
          this.cached('UPDATE ports SET device_id = ?, device_owner = ?, host_id = ?, revision = revision + 1, updated_at = ? WHERE id = ?')
            .run(x.deviceId, x.deviceOwner, x.hostId, now(), x.portId);
        }
        const ids = [...ports.map((p) => p.id), ...binds.map((x) => x.portId)];
        return { ports: ids.map((id) => portOf(this.conn, this.cached('SELECT * FROM ports WHERE id = ?').get(id) as Row)) };
      }).immediate();
    } catch (err) {
      if (err instanceof Conflict) return { conflict: err.c };
      throw err;
    }
  }

  async getPort(id: string): Promise<Port | null> {
    const r = this.cached('SELECT * FROM ports WHERE id = ?').get(id) as Row | undefined;
    return r ? portOf(this.conn, r) : null;
  }

  async listPorts(q: PortQuery = {}): Promise<Port[]> {
    const where: string[] = []; const p: unknown[] = [];
    if (q.networkId !== undefined) { where.push('network_id = ?'); p.push(q.networkId); }
    if (q.deviceId !== undefined) { where.push('device_id = ?'); p.push(q.deviceId); }
    if (q.projectId !== undefined) { where.push('project_id = ?'); p.push(q.projectId); }
    if (q.hostId !== undefined) { where.push('host_id = ?'); p.push(q.hostId); }
    if (q.ids !== undefined) { where.push(`id IN (${q.ids.map(() => '?').join(', ') || 'NULL'})`); p.push(...q.ids); }
    const sql = `SELECT * FROM ports${where.length ? ` WHERE ${where.join(' AND ')}` : ''} ORDER BY created_at, id`;
    return (this.db.prepare(sql).all(...p) as Row[]).map((r) => portOf(this.conn, r));
  }

  async updatePort(id: string, c: PortChanges, ips?: IpRequest[]): Promise<PortsResult> {
    try {
      return this.db.transaction((): PortsResult => {
        const cur = this.cached('SELECT * FROM ports WHERE id = ?').get(id) as Row | undefined;
        if (!cur) throw new Conflict({ kind: 'not_found', portId: id });
        if (c.macAddress !== undefined && c.macAddress !== cur.mac_address
          && this.cached('SELECT 1 FROM ports WHERE network_id = ? AND mac_address = ?').get(cur.network_id, c.macAddress)) {
          throw new Conflict({ kind: 'mac_in_use', mac: c.macAddress });
        }
        this.#update('ports', PORT_COLS, id, c);
        if (ips) {
          this.cached('DELETE FROM port_ips WHERE port_id = ?').run(id);
          for (const ip of ips) takeIp(this.conn, id, ip);
        }
        return { ports: [portOf(this.conn, this.cached('SELECT * FROM ports WHERE id = ?').get(id) as Row)] };
      }).immediate();
    } catch (err) {
      if (err instanceof Conflict) return { conflict: err.c };
      throw err;
    }
  }

  async deletePort(id: string): Promise<boolean> {
    return this.db.transaction(() => removePort(this.conn, id)).immediate();
  }

  async releaseDevicePorts(deviceId: string): Promise<void> {
    this.db.transaction(() => releaseDevicePorts(this.conn, deviceId)).immediate();
  }

  async countSubnetIps(subnetId: string): Promise<number> {
    return (this.cached('SELECT COUNT(*) AS n FROM port_ips WHERE subnet_id = ?').get(subnetId) as Row).n as number;
  }

  #insertGroup(g: Omit<SecurityGroup, 'revision'>, rules: SecurityGroupRule[]): void {
    this.db.prepare('INSERT INTO security_groups (id, project_id, name, description, stateful, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)')
      .run(g.id, g.projectId, g.name, g.description, b(g.stateful), g.createdAt, g.updatedAt);
    for (const r of rules) this.#insertRule(r);
  }

  #insertRule(r: SecurityGroupRule): void {
    this.cached(`INSERT INTO security_group_rules (id, security_group_id, project_id, direction, ethertype, protocol, port_range_min, port_range_max,
      remote_ip_prefix, remote_group_id, description, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`).run(r.id, r.securityGroupId, r.projectId,
      r.direction, r.ethertype, r.protocol, r.portRangeMin, r.portRangeMax, r.remoteIpPrefix, r.remoteGroupId, r.description, r.createdAt);
  }

  async createSecurityGroup(g: Omit<SecurityGroup, 'revision'>, rules: SecurityGroupRule[]): Promise<SecurityGroup> {
    this.db.transaction(() => this.#insertGroup(g, rules)).immediate();
    return (await this.getSecurityGroup(g.id))!;
  }

  async ensureDefaultSecurityGroup(g: Omit<SecurityGroup, 'revision'>, rules: SecurityGroupRule[]): Promise<SecurityGroup> {
    const id = this.db.transaction(() => {
      const cur = this.cached('SELECT security_group_id AS id FROM default_security_groups WHERE project_id = ?').get(g.projectId) as Row | undefined;
      if (cur) return cur.id as string;
      this.#insertGroup(g, rules);
      this.db.prepare('INSERT INTO default_security_groups (project_id, security_group_id) VALUES (?, ?)').run(g.projectId, g.id);
      return g.id;
    }).immediate();
    return (await this.getSecurityGroup(id))!;
  }

  async getSecurityGroup(id: string): Promise<SecurityGroup | null> {
    const r = this.cached('SELECT * FROM security_groups WHERE id = ?').get(id) as Row | undefined;
    return r ? rowToSecurityGroup(r) : null;
  }

  async listSecurityGroups(projectId?: string): Promise<SecurityGroup[]> {
    const rows = projectId === undefined
      ? this.db.prepare('SELECT * FROM security_groups ORDER BY created_at, id').all()
      : this.cached('SELECT * FROM security_groups WHERE project_id = ? ORDER BY created_at, id').all(projectId);
    return (rows as Row[]).map(rowToSecurityGroup);
  }

  async updateSecurityGroup(id: string, c: SecurityGroupChanges): Promise<SecurityGroup | null> {
    return this.#update('security_groups', GROUP_COLS, id, c) ? this.getSecurityGroup(id) : null;
  }

  async deleteSecurityGroup(id: string): Promise<'deleted' | 'in_use' | 'not_found'> {
    return this.db.transaction(() => {
      if (!this.db.prepare('SELECT 1 FROM security_groups WHERE id = ?').get(id)) return 'not_found' as const;
      // security_groups is a JSON array of ids: a LIKE on the quoted id is portable and exact (ids are uuids)
      if (this.db.prepare('SELECT 1 FROM ports WHERE security_groups LIKE ? LIMIT 1').get(`%"${id}"%`)) return 'in_use' as const;
      this.db.prepare('DELETE FROM security_group_rules WHERE security_group_id = ?').run(id);
      this.db.prepare('DELETE FROM default_security_groups WHERE security_group_id = ?').run(id);
      this.db.prepare('DELETE FROM security_groups WHERE id = ?').run(id);
      return 'deleted' as const;
    }).immediate();
  }

  async defaultSecurityGroupOf(projectId: string): Promise<string | null> {
    const r = this.cached('SELECT security_group_id AS id FROM default_security_groups WHERE project_id = ?').get(projectId) as Row | undefined;
    return r ? (r.id as string) : null;
  }

  async createSecurityGroupRule(r: SecurityGroupRule): Promise<boolean> {
    return this.db.transaction(() => {
      const same = this.db.prepare(`SELECT 1 FROM security_group_rules WHERE security_group_id = ? AND direction = ? AND ethertype = ?
        AND COALESCE(protocol, '') = ? AND COALESCE(port_range_min, -1) = ? AND COALESCE(port_range_max, -1) = ?
        AND COALESCE(remote_ip_prefix, '') = ? AND COALESCE(remote_group_id, '') = ?`).get(r.securityGroupId, r.direction, r.ethertype,
        r.protocol ?? '', r.portRangeMin ?? -1, r.portRangeMax ?? -1, r.remoteIpPrefix ?? '', r.remoteGroupId ?? '');
      if (same) return false;
      this.#insertRule(r);
      this.db.prepare('UPDATE security_groups SET revision = revision + 1, updated_at = ? WHERE id = ?').run(now(), r.securityGroupId);
      return true;
    }).immediate();
  }

  async getSecurityGroupRule(id: string): Promise<SecurityGroupRule | null> {
    const r = this.cached('SELECT * FROM security_group_rules WHERE id = ?').get(id) as Row | undefined;
    return r ? rowToSecurityGroupRule(r) : null;
  }

  async listSecurityGroupRules(groupIds?: string[]): Promise<SecurityGroupRule[]> {
    const rows = groupIds === undefined
      ? this.db.prepare('SELECT * FROM security_group_rules ORDER BY created_at, id').all()
      : this.db.prepare(`SELECT * FROM security_group_rules WHERE security_group_id IN (${groupIds.map(() => '?').join(', ') || 'NULL'}) ORDER BY created_at, id`).all(...groupIds);
    return (rows as Row[]).map(rowToSecurityGroupRule);
  }

  async deleteSecurityGroupRule(id: string): Promise<boolean> {
    return this.db.prepare('DELETE FROM security_group_rules WHERE id = ?').run(id).changes === 1;
  }
}
