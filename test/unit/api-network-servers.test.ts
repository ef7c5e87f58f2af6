/** The compute side of networks: ports on create, addresses from ports, hosts told about networks, os-interface. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHarness, type Harness } from '../support/harness.js';
import type { NicSpec } from '../../src/rpc/protocol/server-spec.js';

const N = '/network/v2.0';
const C = '/compute/v2.1';

async function tenantNet(h: Harness, name = 'tn', cidr = '192.168.50.0/29') {
  const net = (await h.req(h.tokens.demo, 'POST', `${N}/networks`, { network: { name } })).json().network;
  const subnet = (await h.req(h.tokens.demo, 'POST', `${N}/subnets`, { subnet: { network_id: net.id, cidr, ip_version: 4 } })).json().subnet;
  return { net, subnet };
}

/** the NICs of every spawn and attach_nic, as the fake hosts got them */
function recordNics(h: Harness): NicSpec[] {
  const nics: NicSpec[] = [];
  h.driver.on('spawn', async (c) => { nics.push(...((c.params as { spec: { nics: NicSpec[] } }).spec.nics)); h.driver.guests.set(c.serverId, { host: c.host, power: 'running' }); return { power: 'running' }; });
  h.driver.on('attach_nic', async (c) => { nics.push((c.params as { nic: NicSpec }).nic); return {}; });
  return nics;
}

const ports = async (h: Harness, q: string) => (await h.req(h.tokens.admin, 'GET', `${N}/ports?${q}`)).json().ports as Array<Record<string, any>>;

test('create on a tenant network: a port per NIC, addresses with MAC and type, the host gets the network first', async () => {
  const h = await createHarness();
  const nics = recordNics(h);
  const { net, subnet } = await tenantNet(h);
  const id = await h.boot(h.tokens.demo, 't1', { networks: [{ uuid: net.id }] });
  const s = (await h.req(h.tokens.demo, 'GET', `${C}/servers/${id}`)).json().server;
  assert.equal(s.status, 'ACTIVE');
  const [p] = await ports(h, `device_id=${id}`);
  assert.equal(p!.device_owner, 'compute:nova');
  assert.equal(p!['binding:host_id'], 'fake-host');
  assert.equal(p!.status, 'ACTIVE');
  assert.deepEqual(s.addresses, { tn: [{ version: 4, addr: '192.168.50.2', 'OS-EXT-IPS:type': 'fixed', 'OS-EXT-IPS-MAC:mac_addr': p!.mac_address }] });
  assert.deepEqual(p!.fixed_ips, [{ subnet_id: subnet.id, ip_address: '192.168.50.2' }]);
  // the NIC names the tenant network and carries the filter (default group: ingress from the group, all egress)
  assert.equal(nics.length, 1);
  assert.deepEqual(nics[0]!.attachment, { type: 'tenant', network: net.id });
  assert.equal(nics[0]!.portId, p!.id);
  assert.equal(nics[0]!.mtu, 1450);
  assert.ok(nics[0]!.security && nics[0]!.security.rules.some((r) => r.direction === 'egress'));
  // the host was told about the network before the spawn
  const order = h.driver.calls.filter((c) => c.op === 'ensure_network' || c.op === 'spawn').map((c) => c.op);
  assert.deepEqual(order, ['ensure_network', 'spawn']);
  const spec = h.driver.networks.get('fake-host')!.get(net.id)!;
  assert.equal(spec.type, 'vxlan');
  assert.ok(spec.vni! >= 1);
  assert.deepEqual(spec.peers, []);
  assert.deepEqual(spec.dhcpHosts.map((d) => [d.mac, d.ips[0]!.address]), [[p!.mac_address, '192.168.50.2']]);
  // the config network keeps today's attachment
  const legacy = await h.boot(h.tokens.demo, 'l1', { networks: [{ uuid: '3cb9bc59-5699-4588-a4b1-b87f96708bc6' }] });
  assert.deepEqual(nics[1]!.attachment, { type: 'network', network: 'private' });
  assert.equal(Object.keys((await h.req(h.tokens.demo, 'GET', `${C}/servers/${legacy}`)).json().server.addresses)[0], 'private');
  // delete: the port Nova made goes, its address with it
  await h.req(h.tokens.demo, 'DELETE', `${C}/servers/${id}`);
  await h.idle();
  assert.equal((await ports(h, `network_id=${net.id}`)).length, 0);
  await h.close();
});

test('create with a port, a fixed IP, a tag; ports passed in are kept (unbound) at delete; port in use is 409', async () => {
  const h = await createHarness();
  recordNics(h);
  const { net } = await tenantNet(h);
  const port = (await h.req(h.tokens.demo, 'POST', `${N}/ports`, { port: { network_id: net.id, name: 'mine', fixed_ips: [{ ip_address: '192.168.50.5' }] } })).json().port;
  const id = await h.boot(h.tokens.demo, 'p1', { networks: [{ port: port.id, tag: 'a' }, { uuid: net.id, fixed_ip: '192.168.50.4' }] });
  const s = (await h.req(h.tokens.demo, 'GET', `${C}/servers/${id}`)).json().server;
  assert.deepEqual(s.addresses.tn.map((a: { addr: string }) => a.addr), ['192.168.50.5', '192.168.50.4']);
  let r = await h.req(h.tokens.demo, 'POST', `${C}/servers`, { server: { name: 'x', imageRef: '70a599e0-31e7-49b7-b260-868f441e862b', flavorRef: '1', networks: [{ port: port.id }] } });
  assert.equal(r.statusCode, 409);
  assert.equal(r.json().conflictingRequest.message, `Port ${port.id} is still in use.`);
  r = await h.req(h.tokens.demo, 'POST', `${C}/servers`, { server: { name: 'x', imageRef: '70a599e0-31e7-49b7-b260-868f441e862b', flavorRef: '1', networks: [{ uuid: net.id, fixed_ip: '192.168.50.4' }] } });
  assert.equal(r.statusCode, 400);
  r = await h.req(h.tokens.other, 'POST', `${C}/servers`, { server: { name: 'x', imageRef: '70a599e0-31e7-49b7-b260-868f441e862b', flavorRef: '1', networks: [{ uuid: net.id }] } });
  assert.equal(r.statusCode, 400, "another project's network");
  // port list --server
  assert.equal((await h.req(h.tokens.demo, 'GET', `${N}/ports?device_id=${id}`)).json().ports.length, 2);
  await h.req(h.tokens.demo, 'DELETE', `${C}/servers/${id}`);
  await h.idle();
  const left = await ports(h, `network_id=${net.id}`);
  assert.deepEqual(left.map((p) => [p.id, p.device_id, p['binding:host_id']]), [[port.id, '', '']]);
  await h.close();
});

test('an exhausted subnet: the build goes to ERROR with a fault and leaves no port behind', async () => {
  const h = await createHarness();
  recordNics(h);
  const { net } = await tenantNet(h, 'small', '192.168.60.0/30'); // one address: .2
  const a = await h.boot(h.tokens.demo, 'a', { networks: [{ uuid: net.id }] });
  assert.equal((await h.req(h.tokens.demo, 'GET', `${C}/servers/${a}`)).json().server.status, 'ACTIVE');
  const b = await h.boot(h.tokens.demo, 'b', { networks: [{ uuid: '3cb9bc59-5699-4588-a4b1-b87f96708bc6' }, { uuid: net.id }] });
  const s = (await h.req(h.tokens.demo, 'GET', `${C}/servers/${b}`)).json().server;
  assert.equal(s.status, 'ERROR');
  assert.equal(s.fault.code, 409);
  assert.equal(s.fault.message, `No more IP addresses available on network ${net.id}.`);
  assert.equal((await ports(h, `device_id=${b}`)).length, 0, 'nothing leaked, not even the NIC on the other network');
  assert.deepEqual(s.addresses, {});
  await h.close();
});

test('security groups on create: by name or id, unknown is 400; ports get the groups', async () => {
  const h = await createHarness();
  recordNics(h);
  const { net } = await tenantNet(h);
  const web = (await h.req(h.tokens.demo, 'POST', `${N}/security-groups`, { security_group: { name: 'web' } })).json().security_group;
  let r = await h.req(h.tokens.demo, 'POST', `${C}/servers`, { server: { name: 'x', imageRef: '70a599e0-31e7-49b7-b260-868f441e862b', flavorRef: '1', networks: [{ uuid: net.id }], security_groups: [{ name: 'nope' }] } });
  assert.equal(r.statusCode, 400);
  assert.equal(r.json().badRequest.message, `Security group nope not found for project ${h.ids.demoProject}.`);
  const id = await h.boot(h.tokens.demo, 'sg', { networks: [{ uuid: net.id }], security_groups: [{ name: web.id }, { name: 'default' }] });
  r = await h.req(h.tokens.demo, 'GET', `${C}/servers/${id}`);
  assert.deepEqual(r.json().server.security_groups, [{ name: 'web' }, { name: 'default' }]);
  const [p] = await ports(h, `device_id=${id}`);
  assert.equal(p!.security_groups.length, 2);
  assert.ok(p!.security_groups.includes(web.id));
  // a rule added to the group reaches the live port's host
  await h.req(h.tokens.demo, 'POST', `${N}/security-group-rules`, { security_group_rule: { security_group_id: web.id, direction: 'ingress', protocol: 'icmp' } });
  const pushed = h.driver.portSecurity.get(p!.id as string);
  assert.ok(pushed?.security?.rules.some((x) => x.protocol === 'icmp' && x.direction === 'ingress'));
  await h.close();
});

test('two hosts on one network: each gets the other as VXLAN peer', async () => {
  const h = await createHarness();
  recordNics(h);
  await h.app.novalet.compute.hosts.heartbeat('host-b', { vcpus: 8, memoryMb: 16384, diskGb: 100, hostIp: '192.0.2.2' });
  await h.app.novalet.compute.placement.refresh();
  const { net } = await tenantNet(h);
  await h.boot(h.tokens.admin, 'a', { networks: [{ uuid: net.id }], availability_zone: 'nova:fake-host' });
  const specsToFirst = () => h.driver.calls.filter((c) => c.op === 'ensure_network' && c.host === 'fake-host').length;
  const before = specsToFirst();
  await h.boot(h.tokens.admin, 'b', { networks: [{ uuid: net.id }], availability_zone: 'nova:host-b' });
  assert.deepEqual(h.driver.networks.get('host-b')!.get(net.id)!.peers, ['127.0.0.1']);
  assert.deepEqual(h.driver.networks.get('fake-host')!.get(net.id)!.peers, ['192.0.2.2'], 'the first host was told');
  // ... by a peer delta, not the network's whole spec again
  assert.equal(specsToFirst(), before);
  assert.ok(h.driver.calls.some((c) => c.op === 'change_peers' && c.host === 'fake-host' && c.serverId === net.id));
  // the second server goes: its host drops the network, the first host its peer
  const b = (await h.req(h.tokens.admin, 'GET', `${C}/servers?name=^b$&all_tenants=1`)).json().servers[0].id;
  await h.req(h.tokens.admin, 'DELETE', `${C}/servers/${b}`);
  await h.idle();
  assert.equal(h.driver.networks.get('host-b')!.has(net.id), false);
  assert.deepEqual(h.driver.networks.get('fake-host')!.get(net.id)!.peers, []);
  assert.equal(h.driver.networks.get('fake-host')!.get(net.id)!.dhcpHosts.length, 1);
  await h.close();
});

test('os-interface: list, attach a port and a network, a port bound elsewhere is 409, detach; revisions rise', async () => {
  const h = await createHarness();
  const nics = recordNics(h);
  const { net } = await tenantNet(h);
  const id = await h.boot(h.tokens.demo, 'i1', { networks: [{ uuid: net.id }] });
  const rev0 = (await h.store.getServer(id))!.revision;
  let r = await h.req(h.tokens.demo, 'GET', `${C}/servers/${id}/os-interface`);
  assert.equal(r.json().interfaceAttachments.length, 1);
  assert.equal(r.json().interfaceAttachments[0].net_id, net.id);
  const port = (await h.req(h.tokens.demo, 'POST', `${N}/ports`, { port: { network_id: net.id, name: 'extra' } })).json().port;
  r = await h.req(h.tokens.demo, 'POST', `${C}/servers/${id}/os-interface`, { interfaceAttachment: { port_id: port.id } });
  assert.equal(r.statusCode, 200, r.body);
  assert.equal(r.json().interfaceAttachment.port_id, port.id);
  assert.equal(r.json().interfaceAttachment.mac_addr, port.mac_address);
  assert.equal(nics.at(-1)!.portId, port.id);
  r = await h.req(h.tokens.demo, 'POST', `${C}/servers/${id}/os-interface`, { interfaceAttachment: { net_id: net.id, fixed_ips: [{ ip_address: '192.168.50.5' }] } });
  assert.equal(r.statusCode, 200, r.body);
  const made = r.json().interfaceAttachment;
  assert.deepEqual(made.fixed_ips.map((f: { ip_address: string }) => f.ip_address), ['192.168.50.5']);
  let s = (await h.req(h.tokens.demo, 'GET', `${C}/servers/${id}`)).json().server;
  assert.deepEqual(s.addresses.tn.map((a: { addr: string }) => a.addr), ['192.168.50.2', port.fixed_ips[0].ip_address, '192.168.50.5']);
  assert.ok((await h.store.getServer(id))!.revision > rev0);
  // a port another server uses
  const other = await h.boot(h.tokens.demo, 'i2', { networks: [{ uuid: net.id }] });
  const [otherPort] = await ports(h, `device_id=${other}`);
  r = await h.req(h.tokens.demo, 'POST', `${C}/servers/${id}/os-interface`, { interfaceAttachment: { port_id: otherPort!.id } });
  assert.equal(r.statusCode, 409);
  r = await h.req(h.tokens.demo, 'POST', `${C}/servers/${id}/os-interface`, { interfaceAttachment: { port_id: port.id, net_id: net.id } });
  assert.equal(r.statusCode, 400);
  assert.equal((await h.req(h.tokens.other, 'GET', `${C}/servers/${id}/os-interface`)).statusCode, 404);
  // detach: the port passed in stays (unbound), the one made for the attach goes
  assert.equal((await h.req(h.tokens.demo, 'DELETE', `${C}/servers/${id}/os-interface/${port.id}`)).statusCode, 202);
  await h.idle();
  assert.equal((await h.req(h.tokens.demo, 'DELETE', `${C}/servers/${id}/os-interface/${made.port_id}`)).statusCode, 202);
  await h.idle();
  assert.equal((await h.req(h.tokens.demo, 'GET', `${N}/ports/${port.id}`)).json().port.device_id, '');
  assert.equal((await h.req(h.tokens.demo, 'GET', `${N}/ports/${made.port_id}`)).statusCode, 404);
  s = (await h.req(h.tokens.demo, 'GET', `${C}/servers/${id}`)).json().server;
  assert.deepEqual(s.addresses.tn.map((a: { addr: string }) => a.addr), ['192.168.50.2']);
  assert.deepEqual(h.driver.calls.filter((c) => c.op === 'detach_nic').length, 2);
  const actions = (await h.req(h.tokens.demo, 'GET', `${C}/servers/${id}/os-instance-actions`)).json().instanceActions.map((a: { action: string }) => a.action);
  assert.deepEqual(actions.filter((a: string) => a.includes('interface')).sort(), ['attach_interface', 'attach_interface', 'detach_interface', 'detach_interface']);
  assert.equal((await h.req(h.tokens.demo, 'DELETE', `${C}/servers/${id}/os-interface/${port.id}`)).statusCode, 404);
  await h.close();
});

test('a failed attach gives the port back', async () => {
  const h = await createHarness();
  recordNics(h);
  const { net } = await tenantNet(h);
  const id = await h.boot(h.tokens.demo, 'f1', { networks: [{ uuid: net.id }] });
  h.driver.on('attach_nic', async () => { throw new (await import('../../src/controller/hosts/transport.js')).HostCallError('internal', 'libvirt said no'); });
  const r = await h.req(h.tokens.demo, 'POST', `${C}/servers/${id}/os-interface`, { interfaceAttachment: { net_id: net.id } });
  assert.equal(r.statusCode, 500);
  assert.equal((await ports(h, `network_id=${net.id}`)).length, 1, 'only the boot NIC');
  assert.equal((await h.req(h.tokens.demo, 'GET', `${C}/servers/${id}`)).json().server.status, 'ACTIVE');
  await h.close();
});

test('addSecurityGroup / removeSecurityGroup and os-security-groups of a server', async () => {
  const h = await createHarness();
  recordNics(h);
  const { net } = await tenantNet(h);
  const web = (await h.req(h.tokens.demo, 'POST', `${N}/security-groups`, { security_group: { name: 'web' } })).json().security_group;
  const id = await h.boot(h.tokens.demo, 'g1', { networks: [{ uuid: net.id }] });
  let r = await h.req(h.tokens.demo, 'POST', `${C}/servers/${id}/action`, { addSecurityGroup: { name: 'web' } });
  assert.equal(r.statusCode, 202, r.body);
  assert.deepEqual((await h.req(h.tokens.demo, 'GET', `${C}/servers/${id}`)).json().server.security_groups, [{ name: 'default' }, { name: 'web' }]);
  const [p] = await ports(h, `device_id=${id}`);
  assert.ok(p!.security_groups.includes(web.id));
  assert.ok(h.driver.portSecurity.has(p!.id as string), 'the live port got its new filter');
  r = await h.req(h.tokens.demo, 'POST', `${C}/servers/${id}/action`, { addSecurityGroup: { name: 'web' } });
  assert.equal(r.statusCode, 400);
  r = await h.req(h.tokens.demo, 'POST', `${C}/servers/${id}/action`, { addSecurityGroup: { name: 'nope' } });
  assert.equal(r.statusCode, 404);
  r = await h.req(h.tokens.demo, 'GET', `${C}/servers/${id}/os-security-groups`);
  assert.deepEqual(r.json().security_groups.map((g: { name: string }) => g.name), ['default', 'web']);
  r = await h.req(h.tokens.demo, 'POST', `${C}/servers/${id}/action`, { removeSecurityGroup: { name: 'web' } });
  assert.equal(r.statusCode, 202);
  assert.ok(!(await ports(h, `device_id=${id}`))[0]!.security_groups.includes(web.id));
  assert.equal((await h.req(h.tokens.demo, 'POST', `${C}/servers/${id}/action`, { removeSecurityGroup: { name: 'web' } })).statusCode, 400);
  await h.close();
});
