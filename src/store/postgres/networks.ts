/**
 * PostgreSQL repository of Neutron's resources (migration 10), as in sqlite/networks.ts with the same SQL and row
 * mappers. SQLite's IMMEDIATE transactions serialise writers; here (READ COMMITTED) the races are settled so:
 * addresses of one subnet are taken under an advisory xact lock of the subnet (the next taker's reads then see the
 * committed addresses), and (subnet_id, address) stays the primary key of port_ips; a MAC is unique per network and
 * a VXLAN id unique among networks by their unique keys: a racing insert that hits one (unique_violation) re-runs
 * its whole transaction, which then reads the winner's row and answers as SQLite would (a conflict, the next VNI).
 * A port's fixed IPs are read in `ctid` order, PostgreSQL's nearest to SQLite's rowid (the order they were taken).
 */
import type { NetworkRepo, NetworkChanges, PortChanges, PortQuery, PortsResult, SecurityGroupChanges, SubnetChanges } from '../repos/networks.js';
import type { IpRequest, Network, NewPort, Port, PortBind, PortIp, SecurityGroup, SecurityGroupRule, Subnet } from '../types.js';
import { now } from '../sqlite/columns.js';
import {
  b, Conflict, FIRST_VNI, FREE_VNI_SQL, GROUP_COLS, NETWORK_COLS, PORT_COLS, SUBNET_COLS, rowToNetwork, rowToPort, rowToSecurityGroup,
  rowToSecurityGroupRule, rowToSubnet, updateSql,
} from '../sqlite/networks.js';
import type { Queryable, Row } from './db.js';
import { PgRepository } from './repository.js';

/** PostgreSQL's unique_violation: a racing writer took the key first */
const UNIQUE_VIOLATION = '23505';
/** re-runs of a transaction that lost a unique-key race (each re-run sees the winner; a duplicate id fails on) */
const UNIQUE_RETRIES = 8;

async function one(q: Queryable, sql: string, params: readonly unknown[]): Promise<Row | undefined> {
  return (await q.query(sql, params)).rows[0];
}

/** the ports' rows with their fixed IPs, one query for the IPs of all */
async function portsOf(q: Queryable, rows: Row[]): Promise<Port[]> {
  if (rows.length === 0) return [];
  const ips = new Map<string, PortIp[]>();
  for (const x of (await q.query('SELECT port_id, subnet_id, address FROM port_ips WHERE port_id = ANY(?) ORDER BY ctid', [rows.map((r) => r.id)])).rows) {
    const list = ips.get(x.port_id as string) ?? [];
    list.push({ subnetId: x.subnet_id as string, address: x.address as string });
    ips.set(x.port_id as string, list);
  }
  return rows.map((r) => rowToPort(r, ips.get(r.id as string) ?? []));
}

async function portById(q: Queryable, id: string): Promise<Port> {
  return (await portsOf(q, [(await one(q, 'SELECT * FROM ports WHERE id = ?', [id]))!]))[0]!;
}

/** the addresses of one subnet are taken in turns (SQLite: the write lock) */
async function lockSubnet(q: Queryable, subnetId: string): Promise<void> {
  await q.query('SELECT pg_advisory_xact_lock(hashtextextended(?, 0))', [`port_ips/${subnetId}`]);
}

/** takes one address for the port (or throws Conflict) */
async function takeIp(q: Queryable, portId: string, req: IpRequest): Promise<void> {
  await lockSubnet(q, req.subnetId);
  const insert = 'INSERT INTO port_ips (port_id, subnet_id, address) VALUES (?, ?, ?)';
  if ('address' in req) {
    if (await one(q, 'SELECT 1 FROM port_ips WHERE subnet_id = ? AND address = ?', [req.subnetId, req.address])) {
      throw new Conflict({ kind: 'ip_in_use', subnetId: req.subnetId, address: req.address });
    }
    await q.query(insert, [portId, req.subnetId, req.address]);
    return;
  }
  const held = new Set((await q.query('SELECT address FROM port_ips WHERE subnet_id = ?', [req.subnetId])).rows.map((x) => x.address as string));
  for (const a of req.candidates()) {
    if (held.has(a)) continue;
    await q.query(insert, [portId, req.subnetId, a]);
    return;
  }
  throw new Conflict({ kind: 'exhausted', subnetId: req.subnetId });
}

async function insertPort(q: Queryable, p: NewPort): Promise<void> {
  if (await one(q, 'SELECT 1 FROM ports WHERE network_id = ? AND mac_address = ?', [p.networkId, p.macAddress])) throw new Conflict({ kind: 'mac_in_use', mac: p.macAddress });
  await q.query(`INSERT INTO ports (id, network_id, project_id, name, description, mac_address, device_id, device_owner, host_id, admin_state_up,
    port_security_enabled, security_groups, delete_with_device, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  [p.id, p.networkId, p.projectId, p.name, p.description, p.macAddress, p.deviceId, p.deviceOwner, p.hostId, b(p.adminStateUp),
    b(p.portSecurityEnabled), JSON.stringify(p.securityGroups), b(p.deleteWithDevice), p.createdAt, p.updatedAt]);
  for (const ip of p.ips) await takeIp(q, p.id, ip);
}

/** deletes a port and gives back its addresses */
async function removePort(q: Queryable, id: string): Promise<boolean> {
  await q.query('DELETE FROM port_ips WHERE port_id = ?', [id]);
  return (await q.query('DELETE FROM ports WHERE id = ?', [id])).rowCount === 1;
}

/** a server is gone (the store's delete transaction, tasks.ts, calls this too): its ports deleted or unbound */
export async function releaseDevicePorts(q: Queryable, deviceId: string): Promise<void> {
  for (const r of (await q.query('SELECT id FROM ports WHERE device_id = ? AND delete_with_device = 1', [deviceId])).rows) await removePort(q, r.id as string);
  await q.query("UPDATE ports SET device_id = '', device_owner = '', host_id = '', revision = revision + 1, updated_at = ? WHERE device_id = ?", [now(), deviceId]);
}

async function insertNetwork(q: Queryable, n: Omit<Network, 'revision'>): Promise<void> {
  await q.query(`INSERT INTO networks (id, name, project_id, description, shared, admin_state_up, mtu, network_type, physical_network, vni,
    router_external, port_security_enabled, legacy_bridge, legacy_libvirt_network, is_default, created_at, updated_at)
    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, [n.id, n.name, n.projectId, n.description, b(n.shared), b(n.adminStateUp), n.mtu,
    n.networkType, n.physicalNetwork, n.vni, b(n.routerExternal), b(n.portSecurityEnabled), n.legacyBridge, n.legacyLibvirtNetwork, b(n.isDefault),
    n.createdAt, n.updatedAt]);
}

async function insertSubnet(q: Queryable, s: Omit<Subnet, 'revision'>): Promise<void> {
  await q.query(`INSERT INTO subnets (id, network_id, project_id, name, description, cidr, ip_version, gateway_ip, enable_dhcp, allocation_pools,
    dns_nameservers, host_routes, ipv6_address_mode, ipv6_ra_mode, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  [s.id, s.networkId, s.projectId, s.name, s.description, s.cidr, s.ipVersion, s.gatewayIp, b(s.enableDhcp), JSON.stringify(s.allocationPools),
    JSON.stringify(s.dnsNameservers), JSON.stringify(s.hostRoutes), s.ipv6AddressMode, s.ipv6RaMode, s.createdAt, s.updatedAt]);
}

async function insertRule(q: Queryable, r: SecurityGroupRule): Promise<void> {
  await q.query(`INSERT INTO security_group_rules (id, security_group_id, project_id, direction, ethertype, protocol, port_range_min, port_range_max,
    remote_ip_prefix, remote_group_id, description, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, [r.id, r.securityGroupId, r.projectId,
    r.direction, r.ethertype, r.protocol, r.portRangeMin, r.portRangeMax, r.remoteIpPrefix, r.remoteGroupId, r.description, r.createdAt]);
}

async function insertGroup(q: Queryable, g: Omit<SecurityGroup, 'revision'>, rules: SecurityGroupRule[]): Promise<void> {
  await q.query('INSERT INTO security_groups (id, project_id, name, description, stateful, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)',
    [g.id, g.projectId, g.name, g.description, b(g.stateful), g.createdAt, g.updatedAt]);
  for (const r of rules) await insertRule(q, r);
}

/** UPDATE with revision + 1; false when no row */
async function update(q: Queryable, table: string, cols: Record<string, [string, (v: never) => unknown]>, id: string, c: object): Promise<boolean> {
  const [sql, params] = updateSql(table, cols, id, c);
  return (await q.query(sql, params)).rowCount === 1;
}

export class PgNetworks extends PgRepository implements NetworkRepo {
  /** one transaction, re-run when it lost a unique-key race (SQLite's single writer never races) */
  async #tx<T>(fn: (q: Queryable) => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.db.tx(fn);
      } catch (e) {
        if ((e as { code?: string }).code === UNIQUE_VIOLATION && attempt < UNIQUE_RETRIES) continue;
        throw e;
      }
    }
  }

  /** `#tx` answering a Conflict thrown inside (rolled back) as the result */
  async #portsTx(fn: (q: Queryable) => Promise<PortsResult>): Promise<PortsResult> {
    try {
      return await this.#tx(fn);
    } catch (err) {
      if (err instanceof Conflict) return { conflict: err.c };
      throw err;
    }
  }

  async createNetwork(n: Omit<Network, 'vni' | 'revision'>, allocateVni: boolean): Promise<Network> {
    return this.#tx(async (q) => {
      // racing creates may read the same free id: the loser hits networks' unique vni and re-runs (the next id)
      const vni = allocateVni ? ((await one(q, FREE_VNI_SQL, [FIRST_VNI, FIRST_VNI]))!.v as number) : null;
      await insertNetwork(q, { ...n, vni });
      return rowToNetwork((await one(q, 'SELECT * FROM networks WHERE id = ?', [n.id]))!);
    });
  }

  async seedNetwork(n: Omit<Network, 'revision'>, s: Omit<Subnet, 'revision'>, legacyPortId: (serverId: string, mac: string) => string): Promise<void> {
    await this.#tx(async (q) => {
      if (!(await one(q, 'SELECT 1 FROM networks WHERE id = ?', [n.id]))) await insertNetwork(q, n);
      if (!(await one(q, 'SELECT 1 FROM subnets WHERE id = ?', [s.id]))) await insertSubnet(q, s);
      const legacy = (await q.query(`SELECT f.server_id, f.mac, f.address, v.project_id, v.host, f.created_at FROM fixed_ips f
        JOIN servers v ON v.id = f.server_id WHERE f.network_id = ? AND v.deleted = 0
        AND NOT EXISTS (SELECT 1 FROM ports p WHERE p.network_id = f.network_id AND p.mac_address = f.mac)`, [n.id])).rows;
      for (const r of legacy) {
        await insertPort(q, {
          id: legacyPortId(r.server_id as string, r.mac as string), networkId: n.id, projectId: r.project_id as string, name: '', description: '',
          macAddress: r.mac as string, deviceId: r.server_id as string, deviceOwner: 'compute:nova', hostId: (r.host as string | null) ?? '',
          adminStateUp: true, portSecurityEnabled: false, securityGroups: [], deleteWithDevice: true, createdAt: r.created_at as string,
          updatedAt: r.created_at as string, ips: [{ subnetId: s.id, address: r.address as string }],
        });
      }
    });
  }

  async getNetwork(id: string): Promise<Network | null> {
    const r = await this.one('SELECT * FROM networks WHERE id = ?', [id]);
    return r ? rowToNetwork(r) : null;
  }

  async listNetworks(): Promise<Network[]> {
    return (await this.all('SELECT * FROM networks ORDER BY created_at, id')).map(rowToNetwork);
  }

  async updateNetwork(id: string, c: NetworkChanges): Promise<Network | null> {
    return (await update(this.q, 'networks', NETWORK_COLS, id, c)) ? this.getNetwork(id) : null;
  }

  async deleteNetwork(id: string): Promise<'deleted' | 'in_use' | 'not_found'> {
    return this.db.tx(async (q) => {
      // the row lock waits for a port insert in flight (its foreign key check shares the row), then sees its port
      if (!(await one(q, 'SELECT 1 FROM networks WHERE id = ? FOR UPDATE', [id]))) return 'not_found' as const;
      if (await one(q, 'SELECT 1 FROM ports WHERE network_id = ? LIMIT 1', [id])) return 'in_use' as const;
      await q.query('DELETE FROM subnets WHERE network_id = ?', [id]);
      await q.query('DELETE FROM networks WHERE id = ?', [id]);
      return 'deleted' as const;
    });
  }

  async createSubnet(s: Omit<Subnet, 'revision'>): Promise<Subnet> {
    await insertSubnet(this.q, s);
    return (await this.getSubnet(s.id))!;
  }

  async getSubnet(id: string): Promise<Subnet | null> {
    const r = await this.one('SELECT * FROM subnets WHERE id = ?', [id]);
    return r ? rowToSubnet(r) : null;
  }

  async listSubnets(networkId?: string): Promise<Subnet[]> {
    const rows = networkId === undefined
      ? await this.all('SELECT * FROM subnets ORDER BY created_at, id')
      : await this.all('SELECT * FROM subnets WHERE network_id = ? ORDER BY created_at, id', [networkId]);
    return rows.map(rowToSubnet);
  }

  async updateSubnet(id: string, c: SubnetChanges): Promise<Subnet | null> {
    return (await update(this.q, 'subnets', SUBNET_COLS, id, c)) ? this.getSubnet(id) : null;
  }

  async deleteSubnet(id: string): Promise<'deleted' | 'in_use' | 'not_found'> {
    return this.db.tx(async (q) => {
      await lockSubnet(q, id); // after any address being taken on it
      if (!(await one(q, 'SELECT 1 FROM subnets WHERE id = ?', [id]))) return 'not_found' as const;
      if (await one(q, 'SELECT 1 FROM port_ips WHERE subnet_id = ? LIMIT 1', [id])) return 'in_use' as const;
      await q.query('DELETE FROM subnets WHERE id = ?', [id]);
      return 'deleted' as const;
    });
  }

  async createPorts(ports: NewPort[], binds: PortBind[] = []): Promise<PortsResult> {
    return this.#portsTx(async (q) => {
      for (const p of ports) await insertPort(q, p);
      for (const x of binds) {
        const cur = await one(q, 'SELECT device_id FROM ports WHERE id = ? FOR UPDATE', [x.portId]);
        if (!cur) throw new Conflict({ kind: 'not_found', portId: x.portId });
        if (cur.device_id !== '' && cur.device_id !== x.deviceId) throw new Conflict({ kind: 'port_in_use', portId: x.portId, deviceId: cur.device_id as string });
        await q.query('UPDATE ports SET device_id = ?, device_owner = ?, host_id = ?, revision = revision + 1, updated_at = ? WHERE id = ?',
          [x.deviceId, x.deviceOwner, x.hostId, now(), x.portId]);
      }
      const ids = [...ports.map((p) => p.id), ...binds.map((x) => x.portId)];
      const out: Port[] = [];
      for (const id of ids) out.push(await portById(q, id));
      return { ports: out };
    });
  }

  async getPort(id: string): Promise<Port | null> {
    const r = await this.one('SELECT * FROM ports WHERE id = ?', [id]);
    return r ? (await portsOf(this.q, [r]))[0]! : null;
  }

  async listPorts(q: PortQuery = {}): Promise<Port[]> {
    const where: string[] = []; const p: unknown[] = [];
    if (q.networkId !== undefined) { where.push('network_id = ?'); p.push(q.networkId); }
    if (q.deviceId !== undefined) { where.push('device_id = ?'); p.push(q.deviceId); }
    if (q.projectId !== undefined) { where.push('project_id = ?'); p.push(q.projectId); }
    if (q.hostId !== undefined) { where.push('host_id = ?'); p.push(q.hostId); }
    if (q.ids !== undefined) { where.push('id = ANY(?)'); p.push(q.ids); }
    const sql = `SELECT * FROM ports${where.length ? ` WHERE ${where.join(' AND ')}` : ''} ORDER BY created_at, id`;
    return portsOf(this.q, await this.all(sql, p));
  }

  async updatePort(id: string, c: PortChanges, ips?: IpRequest[]): Promise<PortsResult> {
    return this.#portsTx(async (q) => {
      const cur = await one(q, 'SELECT * FROM ports WHERE id = ? FOR UPDATE', [id]);
      if (!cur) throw new Conflict({ kind: 'not_found', portId: id });
      if (c.macAddress !== undefined && c.macAddress !== cur.mac_address
        && await one(q, 'SELECT 1 FROM ports WHERE network_id = ? AND mac_address = ?', [cur.network_id, c.macAddress])) {
        throw new Conflict({ kind: 'mac_in_use', mac: c.macAddress });
      }
      await update(q, 'ports', PORT_COLS, id, c);
      if (ips) {
        await q.query('DELETE FROM port_ips WHERE port_id = ?', [id]);
        for (const ip of ips) await takeIp(q, id, ip);
      }
      return { ports: [await portById(q, id)] };
    });
  }

  async deletePort(id: string): Promise<boolean> {
    return this.db.tx((q) => removePort(q, id));
  }

  async releaseDevicePorts(deviceId: string): Promise<void> {
    await this.db.tx((q) => releaseDevicePorts(q, deviceId));
  }

  async countSubnetIps(subnetId: string): Promise<number> {
    return (await this.one('SELECT COUNT(*) AS n FROM port_ips WHERE subnet_id = ?', [subnetId]))!.n as number;
  }

  async createSecurityGroup(g: Omit<SecurityGroup, 'revision'>, rules: SecurityGroupRule[]): Promise<SecurityGroup> {
    await this.db.tx((q) => insertGroup(q, g, rules));
    return (await this.getSecurityGroup(g.id))!;
  }

  async ensureDefaultSecurityGroup(g: Omit<SecurityGroup, 'revision'>, rules: SecurityGroupRule[]): Promise<SecurityGroup> {
    // racing first callers: the loser hits default_security_groups' key, re-runs and finds the winner's group
    const id = await this.#tx(async (q) => {
      const cur = await one(q, 'SELECT security_group_id AS id FROM default_security_groups WHERE project_id = ?', [g.projectId]);
      if (cur) return cur.id as string;
      await insertGroup(q, g, rules);
      await q.query('INSERT INTO default_security_groups (project_id, security_group_id) VALUES (?, ?)', [g.projectId, g.id]);
      return g.id;
    });
    return (await this.getSecurityGroup(id))!;
  }

  async getSecurityGroup(id: string): Promise<SecurityGroup | null> {
    const r = await this.one('SELECT * FROM security_groups WHERE id = ?', [id]);
    return r ? rowToSecurityGroup(r) : null;
  }

  async listSecurityGroups(projectId?: string): Promise<SecurityGroup[]> {
    const rows = projectId === undefined
      ? await this.all('SELECT * FROM security_groups ORDER BY created_at, id')
      : await this.all('SELECT * FROM security_groups WHERE project_id = ? ORDER BY created_at, id', [projectId]);
    return rows.map(rowToSecurityGroup);
  }

  async updateSecurityGroup(id: string, c: SecurityGroupChanges): Promise<SecurityGroup | null> {
    return (await update(this.q, 'security_groups', GROUP_COLS, id, c)) ? this.getSecurityGroup(id) : null;
  }

  async deleteSecurityGroup(id: string): Promise<'deleted' | 'in_use' | 'not_found'> {
    return this.db.tx(async (q) => {
      if (!(await one(q, 'SELECT 1 FROM security_groups WHERE id = ? FOR UPDATE', [id]))) return 'not_found' as const;
      // security_groups is a JSON array of ids: a LIKE on the quoted id is portable and exact (ids are uuids)
      if (await one(q, 'SELECT 1 FROM ports WHERE security_groups LIKE ? LIMIT 1', [`%"${id}"%`])) return 'in_use' as const;
      await q.query('DELETE FROM security_group_rules WHERE security_group_id = ?', [id]);
      await q.query('DELETE FROM default_security_groups WHERE security_group_id = ?', [id]);
      await q.query('DELETE FROM security_groups WHERE id = ?', [id]);
      return 'deleted' as const;
    });
  }

  async defaultSecurityGroupOf(projectId: string): Promise<string | null> {
    const r = await this.one('SELECT security_group_id AS id FROM default_security_groups WHERE project_id = ?', [projectId]);
    return r ? (r.id as string) : null;
  }

  async createSecurityGroupRule(r: SecurityGroupRule): Promise<boolean> {
    return this.db.tx(async (q) => {
      // the group's row lock: identical rules created at once take turns, and the second finds the first
      await q.query('SELECT 1 FROM security_groups WHERE id = ? FOR UPDATE', [r.securityGroupId]);
      const same = await one(q, `SELECT 1 FROM security_group_rules WHERE security_group_id = ? AND direction = ? AND ethertype = ?
        AND COALESCE(protocol, '') = ? AND COALESCE(port_range_min, -1) = ? AND COALESCE(port_range_max, -1) = ?
        AND COALESCE(remote_ip_prefix, '') = ? AND COALESCE(remote_group_id, '') = ?`, [r.securityGroupId, r.direction, r.ethertype,
        r.protocol ?? '', r.portRangeMin ?? -1, r.portRangeMax ?? -1, r.remoteIpPrefix ?? '', r.remoteGroupId ?? '']);
      if (same) return false;
      await insertRule(q, r);
      await q.query('UPDATE security_groups SET revision = revision + 1, updated_at = ? WHERE id = ?', [now(), r.securityGroupId]);
      return true;
    });
  }

  async getSecurityGroupRule(id: string): Promise<SecurityGroupRule | null> {
    const r = await this.one('SELECT * FROM security_group_rules WHERE id = ?', [id]);
    return r ? rowToSecurityGroupRule(r) : null;
  }

  async listSecurityGroupRules(groupIds?: string[]): Promise<SecurityGroupRule[]> {
    const rows = groupIds === undefined
      ? await this.all('SELECT * FROM security_group_rules ORDER BY created_at, id')
      : await this.all('SELECT * FROM security_group_rules WHERE security_group_id = ANY(?) ORDER BY created_at, id', [groupIds]);
    return rows.map(rowToSecurityGroupRule);
  }

  async deleteSecurityGroupRule(id: string): Promise<boolean> {
    return (await this.run('DELETE FROM security_group_rules WHERE id = ?', [id])) === 1;
  }
}
