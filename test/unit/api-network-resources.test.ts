/** The Network API's resources: networks, subnets, ports, security groups and rules, quotas; errors and scoping. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHarness, type Harness } from '../support/harness.js';
import { SqliteStore } from '../../src/store/index.js';
import { databaseOf } from '../../src/store/sqlite/sqlite-store.js';
import { NetworkController } from '../../src/controller/network/index.js';
import { DEFAULT_NETWORK } from '../../src/controller/config.js';
import { portIdFor } from '../../src/controller/network/legacy.js';

const N = '/network/v2.0';

async function tenantNet(h: Harness, token: string, name = 'net1', cidr = '192.168.10.0/29', extra: Record<string, unknown> = {}) {
  const n = await h.req(token, 'POST', `${N}/networks`, { network: { name } });
  assert.equal(n.statusCode, 201, n.body);
  const s = await h.req(token, 'POST', `${N}/subnets`, { subnet: { network_id: n.json().network.id, cidr, ip_version: 4, name: `${name}-sub`, ...extra } });
  assert.equal(s.statusCode, 201, s.body);
  return { net: n.json().network, subnet: s.json().subnet };
}

test('networks and subnets: create with Neutron defaults, VNIs unique, fields and filters, update, delete', async () => {
  const h = await createHarness();
  const { net, subnet } = await tenantNet(h, h.tokens.demo, 'net1', '192.168.10.0/24', { dns_nameservers: ['10.1.1.1'], host_routes: [{ destination: '10.9.0.0/16', nexthop: '192.168.10.254' }] });
  assert.equal(net.project_id, h.ids.demoProject);
  assert.equal(net.mtu, 1450);
  assert.equal(net.shared, false);
  assert.equal(net.admin_state_up, true);
  assert.equal(net.port_security_enabled, true);
  assert.equal(net.status, 'ACTIVE');
  assert.equal(net['provider:network_type'], undefined, 'provider attributes are for admins');
  assert.equal(subnet.gateway_ip, '192.168.10.1');
  assert.deepEqual(subnet.allocation_pools, [{ start: '192.168.10.2', end: '192.168.10.254' }]);
  assert.deepEqual(subnet.dns_nameservers, ['10.1.1.1']);
  assert.deepEqual(subnet.host_routes, [{ destination: '10.9.0.0/16', nexthop: '192.168.10.254' }]);
  assert.equal(subnet.enable_dhcp, true);
  // the network lists its subnet; admins see the provider attributes and a VNI per network
  let r = await h.req(h.tokens.admin, 'GET', `${N}/networks/${net.id}`);
  assert.deepEqual(r.json().network.subnets, [subnet.id]);
  assert.equal(r.json().network['provider:network_type'], 'vxlan');
  const vni1 = r.json().network['provider:segmentation_id'];
  const net2 = (await h.req(h.tokens.other, 'POST', `${N}/networks`, { network: { name: 'net2' } })).json().network;
  const vni2 = (await h.req(h.tokens.admin, 'GET', `${N}/networks/${net2.id}`)).json().network['provider:segmentation_id'];
  assert.ok(Number.isInteger(vni1) && Number.isInteger(vni2) && vni1 !== vni2, `${vni1} ${vni2}`);
  // fields and filters as clients send them
  r = await h.req(h.tokens.demo, 'GET', `${N}/networks?name=net1&fields=id&fields=name`);
  assert.deepEqual(r.json().networks, [{ id: net.id, name: 'net1' }]);
  r = await h.req(h.tokens.demo, 'GET', `${N}/networks/${net.id}?fields=mtu`);
  assert.deepEqual(r.json().network, { mtu: 1450 });
  assert.deepEqual((await h.req(h.tokens.demo, 'GET', `${N}/subnets?network_id=${net.id}`)).json().subnets.map((s: { id: string }) => s.id), [subnet.id]);
  assert.equal((await h.req(h.tokens.demo, 'GET', `${N}/networks?shared=True`)).json().networks.length, 1, 'only the seeded network is shared');
  // update
  r = await h.req(h.tokens.demo, 'PUT', `${N}/networks/${net.id}`, { network: { name: 'renamed', mtu: 1400 } });
  assert.equal(r.json().network.name, 'renamed');
  assert.equal(r.json().network.mtu, 1400);
  r = await h.req(h.tokens.demo, 'PUT', `${N}/subnets/${subnet.id}`, { subnet: { dns_nameservers: [] } });
  assert.deepEqual(r.json().subnet.dns_nameservers, []);
  // delete (subnets go with the network)
  assert.equal((await h.req(h.tokens.demo, 'DELETE', `${N}/networks/${net.id}`)).statusCode, 204);
  assert.equal((await h.req(h.tokens.demo, 'GET', `${N}/subnets/${subnet.id}`)).statusCode, 404);
  await h.close();
});

test('scoping: another project\'s private network is 404; shared networks are visible; policies are 403', async () => {
  const h = await createHarness();
  const { net, subnet } = await tenantNet(h, h.tokens.demo);
  let r = await h.req(h.tokens.other, 'GET', `${N}/networks/${net.id}`);
  assert.equal(r.statusCode, 404);
  assert.deepEqual(r.json(), { NeutronError: { type: 'NetworkNotFound', message: `Network ${net.id} could not be found.`, detail: '' } });
  assert.equal((await h.req(h.tokens.other, 'GET', `${N}/subnets/${subnet.id}`)).json().NeutronError.type, 'SubnetNotFound');
  assert.ok(!(await h.req(h.tokens.other, 'GET', `${N}/networks`)).json().networks.some((n: { id: string }) => n.id === net.id));
  assert.equal((await h.req(h.tokens.other, 'DELETE', `${N}/networks/${net.id}`)).statusCode, 404);
  r = await h.req(h.tokens.other, 'POST', `${N}/ports`, { port: { network_id: net.id } });
  assert.equal(r.json().NeutronError.type, 'NetworkNotFound');
  // shared: admin only; then visible to everyone, and others may make ports on it
  assert.equal((await h.req(h.tokens.demo, 'POST', `${N}/networks`, { network: { name: 'x', shared: true } })).statusCode, 403);
  const shared = (await h.req(h.tokens.admin, 'POST', `${N}/networks`, { network: { name: 'pub', shared: true } })).json().network;
  await h.req(h.tokens.admin, 'POST', `${N}/subnets`, { subnet: { network_id: shared.id, cidr: '172.30.0.0/24', ip_version: 4 } });
  assert.equal((await h.req(h.tokens.other, 'GET', `${N}/networks/${shared.id}`)).statusCode, 200);
  r = await h.req(h.tokens.other, 'POST', `${N}/ports`, { port: { network_id: shared.id } });
  assert.equal(r.statusCode, 201, r.body);
  assert.equal((await h.req(h.tokens.other, 'PUT', `${N}/networks/${shared.id}`, { network: { name: 'mine' } })).statusCode, 403);
  // a reader cannot write
  assert.equal((await h.req(h.tokens.reader, 'POST', `${N}/networks`, { network: { name: 'r' } })).statusCode, 403);
  await h.close();
});

test('subnet validation: bad CIDR, gateway outside, pools outside or overlapping, overlapping subnets', async () => {
  const h = await createHarness();
  const net = (await h.req(h.tokens.demo, 'POST', `${N}/networks`, { network: { name: 'v' } })).json().network;
  const bad = async (subnet: Record<string, unknown>) => {
    const r = await h.req(h.tokens.demo, 'POST', `${N}/subnets`, { subnet: { network_id: net.id, ip_version: 4, ...subnet } });
    assert.equal(r.statusCode, 400, `${JSON.stringify(subnet)}: ${r.body}`);
    assert.ok(r.json().NeutronError.message);
  };
  await bad({ cidr: '10.0.0.0/33' });
  await bad({ cidr: 'nope' });
  await bad({ cidr: '10.5.0.0/24', gateway_ip: '10.6.0.1' });
  await bad({ cidr: '10.5.0.0/24', allocation_pools: [{ start: '10.5.0.10', end: '10.5.1.20' }] });
  await bad({ cidr: '10.5.0.0/24', allocation_pools: [{ start: '10.5.0.10', end: '10.5.0.20' }, { start: '10.5.0.15', end: '10.5.0.30' }] });
  await bad({ cidr: '10.5.0.0/24', allocation_pools: [{ start: '10.5.0.1', end: '10.5.0.20' }] });
  await bad({ cidr: '10.5.0.0/24', ip_version: 6 });
  assert.equal((await h.req(h.tokens.demo, 'POST', `${N}/subnets`, { subnet: { network_id: net.id, ip_version: 4, cidr: '10.5.0.0/24', gateway_ip: null } })).json().subnet.gateway_ip, null);
  await bad({ cidr: '10.5.0.128/25' });
  const v6 = await h.req(h.tokens.demo, 'POST', `${N}/subnets`, { subnet: { network_id: net.id, ip_version: 6, cidr: 'fd00:1::/64', ipv6_address_mode: 'dhcpv6-stateful', ipv6_ra_mode: 'dhcpv6-stateful' } });
  assert.equal(v6.statusCode, 201, v6.body);
  assert.equal(v6.json().subnet.gateway_ip, 'fd00:1::1');
  // a port gets one address of each family
  const p = (await h.req(h.tokens.demo, 'POST', `${N}/ports`, { port: { network_id: net.id } })).json().port;
  assert.deepEqual(p.fixed_ips.map((f: { ip_address: string }) => f.ip_address), ['10.5.0.1', 'fd00:1::2']);
  await h.close();
});

test('ports: fixed IPs and MACs, 409 IpAddressAlreadyAllocated, exhaustion, MacAddressInUse, release on delete, 409 deleting a network with ports', async () => {
  const h = await createHarness();
  const { net, subnet } = await tenantNet(h, h.tokens.demo, 'p', '192.168.20.0/29'); // 2..6 usable
  let r = await h.req(h.tokens.demo, 'POST', `${N}/ports`, { port: { network_id: net.id, name: 'port1', fixed_ips: [{ ip_address: '192.168.20.5' }] } });
  assert.equal(r.statusCode, 201, r.body);
  const p1 = r.json().port;
  assert.deepEqual(p1.fixed_ips, [{ subnet_id: subnet.id, ip_address: '192.168.20.5' }]);
  assert.match(p1.mac_address, /^fa:16:3e(:[0-9a-f]{2}){3}$/);
  assert.equal(p1.status, 'DOWN');
  assert.equal(p1.admin_state_up, true);
  assert.equal(p1.port_security_enabled, true);
  assert.equal(p1.security_groups.length, 1, "the project's default group");
  r = await h.req(h.tokens.demo, 'POST', `${N}/ports`, { port: { network_id: net.id, fixed_ips: [{ subnet_id: subnet.id, ip_address: '192.168.20.5' }] } });
  assert.equal(r.statusCode, 409);
  assert.deepEqual(r.json().NeutronError, { type: 'IpAddressAlreadyAllocated', message: `IP address 192.168.20.5 already allocated in subnet ${subnet.id}`, detail: '' });
  r = await h.req(h.tokens.demo, 'POST', `${N}/ports`, { port: { network_id: net.id, fixed_ips: [{ ip_address: '192.168.30.5' }] } });
  assert.equal(r.statusCode, 400);
  r = await h.req(h.tokens.demo, 'POST', `${N}/ports`, { port: { network_id: net.id, fixed_ips: [{ subnet_id: subnet.id, ip_address: '192.168.20.1' }] } });
  assert.equal(r.statusCode, 409, 'the gateway is taken');
  r = await h.req(h.tokens.demo, 'POST', `${N}/ports`, { port: { network_id: net.id, mac_address: p1.mac_address } });
  assert.equal(r.json().NeutronError.type, 'MacAddressInUse');
  const ips: string[] = [];
  r = await h.req(h.tokens.demo, 'POST', `${N}/ports`, { port: { network_id: net.id, fixed_ips: [{ subnet_id: subnet.id, ip_address: '192.168.20.6' }] } });
  assert.equal(r.statusCode, 409, "the hosts' DHCP server address (the last usable one) is taken, as Neutron's DHCP port's");
  for (let i = 0; i < 3; i++) ips.push((await h.req(h.tokens.demo, 'POST', `${N}/ports`, { port: { network_id: net.id } })).json().port.fixed_ips[0].ip_address);
  assert.deepEqual(ips, ['192.168.20.2', '192.168.20.3', '192.168.20.4']);
  r = await h.req(h.tokens.demo, 'POST', `${N}/ports`, { port: { network_id: net.id } });
  assert.equal(r.statusCode, 409);
  assert.deepEqual(r.json().NeutronError, { type: 'IpAddressGenerationFailure', message: `No more IP addresses available on network ${net.id}.`, detail: '' });
  // filters clients use
  assert.deepEqual((await h.req(h.tokens.demo, 'GET', `${N}/ports?fixed_ips=ip_address%3D192.168.20.5`)).json().ports.map((p: { id: string }) => p.id), [p1.id]);
  assert.deepEqual((await h.req(h.tokens.demo, 'GET', `${N}/ports?name=port1`)).json().ports.map((p: { id: string }) => p.id), [p1.id]);
  assert.equal((await h.req(h.tokens.other, 'GET', `${N}/ports/${p1.id}`)).json().NeutronError.type, 'PortNotFound');
  // a network with ports cannot go; a subnet with addresses neither
  r = await h.req(h.tokens.demo, 'DELETE', `${N}/networks/${net.id}`);
  assert.equal(r.statusCode, 409);
  assert.equal(r.json().NeutronError.type, 'NetworkInUse');
  assert.equal((await h.req(h.tokens.demo, 'DELETE', `${N}/subnets/${subnet.id}`)).json().NeutronError.type, 'SubnetInUse');
  // deleting a port gives its address back
  assert.equal((await h.req(h.tokens.demo, 'DELETE', `${N}/ports/${p1.id}`)).statusCode, 204);
  r = await h.req(h.tokens.demo, 'POST', `${N}/ports`, { port: { network_id: net.id } });
  assert.equal(r.json().port.fixed_ips[0].ip_address, '192.168.20.5');
  // update: name, fixed IP move, port security needs no groups
  const pid = r.json().port.id;
  r = await h.req(h.tokens.demo, 'PUT', `${N}/ports/${pid}`, { port: { port_security_enabled: false } });
  assert.equal(r.json().NeutronError.type, 'PortSecurityPortHasSecurityGroup');
  r = await h.req(h.tokens.demo, 'PUT', `${N}/ports/${pid}`, { port: { port_security_enabled: false, security_groups: [], name: 'nosec' } });
  assert.equal(r.statusCode, 200, r.body);
  assert.equal(r.json().port.port_security_enabled, false);
  assert.equal(r.json().port.name, 'nosec');
  // binding:host_id is for admins
  assert.equal((await h.req(h.tokens.demo, 'PUT', `${N}/ports/${pid}`, { port: { 'binding:host_id': 'h1' } })).statusCode, 403);
  assert.equal((await h.req(h.tokens.admin, 'GET', `${N}/ports/${pid}`)).json().port['binding:host_id'], '');
  await h.close();
});

test('ports: many concurrent creates never share an address, and all are given back', async () => {
  const h = await createHarness();
  const { net } = await tenantNet(h, h.tokens.demo, 'c', '10.77.0.0/26'); // 60 for ports (61 in the pool, .62 the hosts' DHCP server)
  const rs = await Promise.all(Array.from({ length: 70 }, () => h.req(h.tokens.demo, 'POST', `${N}/ports`, { port: { network_id: net.id } })));
  const ok = rs.filter((r) => r.statusCode === 201).map((r) => r.json().port);
  assert.equal(ok.length, 60);
  assert.ok(rs.filter((r) => r.statusCode !== 201).every((r) => r.json().NeutronError.type === 'IpAddressGenerationFailure'));
  const addrs = ok.map((p) => p.fixed_ips[0].ip_address);
  assert.equal(new Set(addrs).size, 60, 'no duplicate address');
  assert.equal(new Set(ok.map((p) => p.mac_address)).size, 60, 'no duplicate MAC');
  await Promise.all(ok.map((p) => h.req(h.tokens.demo, 'DELETE', `${N}/ports/${p.id}`)));
  assert.equal((await h.req(h.tokens.demo, 'GET', `${N}/ports?network_id=${net.id}`)).json().ports.length, 0);
  assert.equal((await h.req(h.tokens.demo, 'DELETE', `${N}/networks/${net.id}`)).statusCode, 204);
  await h.close();
});

test('security groups: default group with Neutron\'s rules, create, rules with validation, duplicates, in-use, default undeletable', async () => {
  const h = await createHarness();
  let r = await h.req(h.tokens.demo, 'GET', `${N}/security-groups?name=default`);
  const def = r.json().security_groups[0];
  assert.equal(def.project_id, h.ids.demoProject);
  const rules = def.security_group_rules as Array<Record<string, unknown>>;
  assert.equal(rules.length, 4);
  assert.deepEqual(rules.filter((x) => x.direction === 'ingress').map((x) => [x.ethertype, x.remote_group_id]).sort(), [['IPv4', def.id], ['IPv6', def.id]]);
  assert.deepEqual(rules.filter((x) => x.direction === 'egress').map((x) => [x.ethertype, x.remote_ip_prefix]).sort(), [['IPv4', null], ['IPv6', null]]);
  assert.equal((await h.req(h.tokens.demo, 'DELETE', `${N}/security-groups/${def.id}`)).json().NeutronError.type, 'SecurityGroupCannotRemoveDefault');
  r = await h.req(h.tokens.demo, 'POST', `${N}/security-groups`, { security_group: { name: 'web', description: 'w' } });
  assert.equal(r.statusCode, 201);
  const web = r.json().security_group;
  assert.equal(web.security_group_rules.length, 2, 'egress only');
  const rule = { security_group_id: web.id, direction: 'ingress', protocol: 'tcp', port_range_min: 22, port_range_max: 22, remote_ip_prefix: '0.0.0.0/0', ethertype: 'IPv4' };
  r = await h.req(h.tokens.demo, 'POST', `${N}/security-group-rules`, { security_group_rule: rule });
  assert.equal(r.statusCode, 201, r.body);
  assert.equal(r.json().security_group_rule.port_range_min, 22);
  assert.equal((await h.req(h.tokens.demo, 'POST', `${N}/security-group-rules`, { security_group_rule: rule })).json().NeutronError.type, 'SecurityGroupRuleExists');
  const bad = async (x: Record<string, unknown>) => assert.equal((await h.req(h.tokens.demo, 'POST', `${N}/security-group-rules`, { security_group_rule: { ...rule, ...x } })).statusCode, 400, JSON.stringify(x));
  await bad({ direction: 'sideways' });
  await bad({ port_range_min: 30, port_range_max: 20 });
  await bad({ protocol: 'bogus' });
  await bad({ remote_ip_prefix: '::/0' });
  await bad({ remote_group_id: def.id });
  r = await h.req(h.tokens.demo, 'POST', `${N}/security-group-rules`, { security_group_rule: { security_group_id: web.id, direction: 'ingress', protocol: 'icmp' } });
  assert.equal(r.statusCode, 201, r.body);
  assert.equal((await h.req(h.tokens.demo, 'GET', `${N}/security-group-rules?security_group_id=${web.id}`)).json().security_group_rules.length, 4);
  assert.equal((await h.req(h.tokens.demo, 'DELETE', `${N}/security-group-rules/${r.json().security_group_rule.id}`)).statusCode, 204);
  assert.equal((await h.req(h.tokens.other, 'GET', `${N}/security-groups/${web.id}`)).json().NeutronError.type, 'SecurityGroupNotFound');
  // a group a port uses cannot go
  const { net } = await tenantNet(h, h.tokens.demo);
  const port = (await h.req(h.tokens.demo, 'POST', `${N}/ports`, { port: { network_id: net.id, security_groups: [web.id] } })).json().port;
  assert.deepEqual(port.security_groups, [web.id]);
  assert.equal((await h.req(h.tokens.demo, 'DELETE', `${N}/security-groups/${web.id}`)).json().NeutronError.type, 'SecurityGroupInUse');
  await h.req(h.tokens.demo, 'DELETE', `${N}/ports/${port.id}`);
  assert.equal((await h.req(h.tokens.demo, 'DELETE', `${N}/security-groups/${web.id}`)).statusCode, 204);
  await h.close();
});

test('quotas: Neutron defaults with usage, admin update, enforcement, other projects admin-only', async () => {
  const h = await createHarness();
  await tenantNet(h, h.tokens.demo);
  let r = await h.req(h.tokens.demo, 'GET', `${N}/quotas/${h.ids.demoProject}/details.json`);
  assert.deepEqual(r.json().quota.network, { limit: 100, used: 1, reserved: 0 });
  assert.equal(r.json().quota.subnet.used, 1);
  assert.equal((await h.req(h.tokens.demo, 'GET', `${N}/quotas/${h.ids.otherProject}`)).statusCode, 403);
  assert.equal((await h.req(h.tokens.demo, 'PUT', `${N}/quotas/${h.ids.demoProject}`, { quota: { network: 1 } })).statusCode, 403);
  r = await h.req(h.tokens.admin, 'PUT', `${N}/quotas/${h.ids.demoProject}`, { quota: { network: 1 } });
  assert.equal(r.json().quota.network, 1);
  r = await h.req(h.tokens.demo, 'POST', `${N}/networks`, { network: { name: 'two' } });
  assert.equal(r.statusCode, 409);
  assert.equal(r.json().NeutronError.type, 'OverQuota');
  // Nova's quota view is not disturbed by Neutron's limits
  const q = (await h.req(h.tokens.demo, 'GET', `/compute/v2.1/os-quota-sets/${h.ids.demoProject}`)).json().quota_set;
  assert.ok(!Object.keys(q).some((k) => k.includes(':')));
  await h.close();
});

test('seeding: the config networks become shared networks; fixed IPs of servers from before become their ports', async () => {
  const store = new SqliteStore(':memory:');
  const t = new Date().toISOString();
  const db = databaseOf(store);
  db.prepare(`INSERT INTO servers (id, name, project_id, user_id, image_ref, flavor_id, flavor, vm_state, power_state, status, reservation_id,
    hostname, host, created_at, updated_at) VALUES ('s-old', 'old', 'p1', 'u1', 'img', '1', '{}', 'active', 1, 'ACTIVE', 'r-1', 'old', 'h1', ?, ?)`).run(t, t);
  db.prepare("INSERT INTO fixed_ips (network_id, address, server_id, mac, created_at) VALUES (?, '10.0.0.7', 's-old', 'fa:16:3e:00:00:07', ?)").run(DEFAULT_NETWORK.id, t);
  const net = new NetworkController(store, { networks: [DEFAULT_NETWORK] });
  await net.networks.ready();
  const n = (await store.getNetwork(DEFAULT_NETWORK.id))!;
  assert.equal(n.shared, true);
  assert.equal(n.isDefault, true);
  assert.equal(n.legacyLibvirtNetwork, 'private');
  const [p] = await store.listPorts({ deviceId: 's-old' });
  assert.equal(p!.id, portIdFor('s-old', 'fa:16:3e:00:00:07'), 'the id the agent knows the NIC by');
  assert.deepEqual(p!.fixedIps, [{ subnetId: DEFAULT_NETWORK.subnetId, address: '10.0.0.7' }]);
  assert.equal(p!.hostId, 'h1');
  assert.equal(p!.deleteWithDevice, true);
  // a new port never takes the old address; seeding again changes nothing
  await new NetworkController(store, { networks: [DEFAULT_NETWORK] }).networks.ready();
  assert.equal((await store.listPorts()).length, 1);
  const r = await store.createPorts([{ id: 'p2', networkId: n.id, projectId: 'p1', name: '', description: '', macAddress: 'fa:16:3e:00:00:08', deviceId: '', deviceOwner: '',
    hostId: '', adminStateUp: true, portSecurityEnabled: false, securityGroups: [], deleteWithDevice: false, createdAt: t, updatedAt: t,
    ips: [{ subnetId: DEFAULT_NETWORK.subnetId, address: '10.0.0.7' }] }]);
  assert.deepEqual(r, { conflict: { kind: 'ip_in_use', subnetId: DEFAULT_NETWORK.subnetId, address: '10.0.0.7' } });
  await store.close();
});

test('IPv6 SLAAC: a port holds the EUI-64 address its guest takes', async () => {
  const h = await createHarness();
  const net = (await h.req(h.tokens.demo, 'POST', `${N}/networks`, { network: { name: 'v6' } })).json().network;
  const r = await h.req(h.tokens.demo, 'POST', `${N}/subnets`, { subnet: { network_id: net.id, ip_version: 6, cidr: 'fd00:2::/64', ipv6_address_mode: 'slaac', ipv6_ra_mode: 'slaac' } });
  assert.equal(r.statusCode, 201, r.body);
  // SLAAC needs a /64 (Neutron: the EUI-64 address format)
  const bad = await h.req(h.tokens.demo, 'POST', `${N}/subnets`, { subnet: { network_id: net.id, ip_version: 6, cidr: 'fd00:3::/80', ipv6_address_mode: 'slaac' } });
  assert.equal(bad.statusCode, 400, bad.body);
  assert.match(bad.json().NeutronError.message, /requires the prefix to be \/64/);
  const p = (await h.req(h.tokens.demo, 'POST', `${N}/ports`, { port: { network_id: net.id, mac_address: 'fa:16:3e:12:34:56' } })).json().port;
  assert.deepEqual(p.fixed_ips.map((f: { ip_address: string }) => f.ip_address), ['fd00:2::f816:3eff:fe12:3456']);
  // the subnet named without an address: the EUI-64 address too (Neutron), not one from the pool
  const sub = r.json().subnet;
  const q = (await h.req(h.tokens.demo, 'POST', `${N}/ports`, { port: { network_id: net.id, mac_address: 'fa:16:3e:12:34:57', fixed_ips: [{ subnet_id: sub.id }] } })).json().port;
  assert.deepEqual(q.fixed_ips, [{ subnet_id: sub.id, ip_address: 'fd00:2::f816:3eff:fe12:3457' }]);
  // the hosts' RA/DHCPv6 server address (the subnet's last) is never a port's
  const srv = await h.req(h.tokens.demo, 'POST', `${N}/ports`, { port: { network_id: net.id, fixed_ips: [{ subnet_id: sub.id, ip_address: 'fd00:2::ffff:ffff:ffff:ffff' }] } });
  assert.equal(srv.statusCode, 409, srv.body);
  await h.close();
});
