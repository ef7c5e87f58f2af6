/**
 * Tenant networks, the pure parts (names, fdb diffing, nftables scripts, dnsmasq files) and the agent's side of
 * the contract on the fake hypervisor: PUT/DELETE/GET /v1/networks, port security, tenant NICs in the domain,
 * refusals. The kernel side is test/integration/agent-tenant-networks.test.ts.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import type { FastifyInstance } from 'fastify';
import { loadConfig } from '../../src/agent/config.js';
import { agentBackend } from '../../src/agent/rpc-backend.js';
import { Journal } from '../../src/agent/journal/journal.js';
import { dnsmasqConf, dnsmasqHosts, dnsmasqOpts, type DnsmasqFiles } from '../../src/agent/network/dnsmasq-config.js';
import { diffPeers, parseFloodPeers } from '../../src/agent/network/fdb.js';
import { dhcpServerAddress } from '../../src/agent/network/ipv4.js';
import { bridgeName, egressMark, ingressMark, tapName, vxlanName } from '../../src/agent/network/names.js';
import { baseScript, networkScript, portScript, removePortScript, ruleMatch } from '../../src/agent/network/nft-rules.js';
import { dhcpServerAddress6, linkLocal } from '../../src/agent/network/ipv6.js';
import { TenantNetworks, type NetworkDriver } from '../../src/agent/network/tenant-networks.js';
import type { FilterRule, NetworkSpec } from '../../src/rpc/protocol/networks.js';
import { createRpcServer } from '../../src/rpc/server.js';
import { HEADER_PROTOCOL, PROTOCOL } from '../../src/rpc/protocol/version.js';
import { harness, silentLog, spawnParams, testConfig, tmpDir, uuid, type Harness } from './agent-doubles.js';

const NET = '3f2a9c1e-7b4d-4e21-9a0b-1c2d3e4f5a6b';
const PORT = 'a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d';

const spec = (over: Partial<NetworkSpec> = {}): NetworkSpec => ({
  requestId: 'req-net-1', type: 'vxlan', vni: 4242, mtu: 1450, peers: ['192.0.2.2', '192.0.2.3'],
  subnets: [{ id: 'sub-1', cidr: '10.0.0.0/24', ipVersion: 4, gatewayIp: '10.0.0.1', enableDhcp: true, dnsNameservers: ['10.0.0.53'], hostRoutes: [] }],
  dhcpHosts: [{ portId: PORT, mac: 'FA:16:3E:00:00:01', ips: [{ subnetId: 'sub-1', address: '10.0.0.5' }], hostname: 'vm-1' }],
  ...over,
});
const rule = (over: Partial<FilterRule>): FilterRule => ({
  direction: 'ingress', ethertype: 'IPv4', protocol: null, portRangeMin: null, portRangeMax: null, remotePrefixes: [], ...over,
});

describe('agent config: tunnelIp and physicalNetworks are checked', () => {
  it('accepts an IPv4 tunnel address and a bridge map; refuses anything else', () => {
    const t = tmpDir();
    try {
      const file = `${t.dir}/agent.json`;
      writeFileSync(file, JSON.stringify({ tunnelIp: '192.0.2.7', physicalNetworks: { physnet1: 'br-ex' } }));
      const c = loadConfig(file);
      assert.equal(c.tunnelIp, '192.0.2.7');
      assert.deepEqual(c.physicalNetworks, { physnet1: 'br-ex' });
      assert.deepEqual(loadConfig(undefined).physicalNetworks, {});
      writeFileSync(file, JSON.stringify({ tunnelIp: '192.0.2.300' }));
      assert.throws(() => loadConfig(file), /tunnelIp/);
      writeFileSync(file, JSON.stringify({ physicalNetworks: { physnet1: 'a-bridge-name-too-long' } }));
      assert.throws(() => loadConfig(file), /physicalNetworks/);
    } finally {
      t.cleanup();
    }
  });
});

describe('tenant network names', () => {
  it('are derived from the ids, fit in 15 characters and carry our prefixes', () => {
    assert.equal(bridgeName(NET), 'nvb3f2a9c1e7b4d');
    assert.equal(vxlanName(NET), 'nvx3f2a9c1e7b4d');
    assert.equal(tapName(PORT), 'nvta1b2c3d4e5f6');
    for (const n of [bridgeName('net-one'), vxlanName('x'), tapName('port-with-a-long-name-that-is-no-uuid')]) {
      assert.ok(n.length <= 15, n);
      assert.match(n, /^nv[bxt][0-9a-f]{12}$/);
    }
    assert.notEqual(bridgeName('net-one'), bridgeName('net-two'));
  });

  it('egress and ingress marks of a port differ and never collide across ports', () => {
    assert.notEqual(egressMark(1), ingressMark(1));
    assert.notEqual(ingressMark(1), egressMark(2));
    assert.equal(egressMark(7) >>> 24, 0x6e);
  });
});

describe('VXLAN flood entries follow the peers', () => {
  const show = `00:00:00:00:00:00 dst 192.0.2.2 self permanent
00:00:00:00:00:00 dst 192.0.2.9 self permanent
fa:16:3e:00:00:01 dst 192.0.2.2 self
`;
  it('parses the all-zeros entries of bridge fdb show', () => {
    assert.deepEqual(parseFloodPeers(show), ['192.0.2.2', '192.0.2.9']);
  });
  it('adds the missing peers and removes the others, nothing else', () => {
    assert.deepEqual(diffPeers(parseFloodPeers(show), ['192.0.2.2', '192.0.2.3', '192.0.2.3']), { add: ['192.0.2.3'], remove: ['192.0.2.9'] });
    assert.deepEqual(diffPeers(['192.0.2.2'], ['192.0.2.2']), { add: [], remove: [] });
  });
});

describe('nftables: security group rules and port filters', () => {
  it('translates protocols, port ranges, ICMP type/code and remote prefixes', () => {
    assert.equal(ruleMatch(rule({ protocol: 'tcp', portRangeMin: 22, portRangeMax: 22 })), 'meta nfproto ipv4 meta l4proto tcp th dport 22');
    assert.equal(ruleMatch(rule({ protocol: 'udp', portRangeMin: 1000, portRangeMax: 2000, remotePrefixes: ['10.1.0.0/16', '2001:db8::/32'] })),
      'meta nfproto ipv4 meta l4proto udp th dport 1000-2000 ip saddr { 10.1.0.0/16 }');
    assert.equal(ruleMatch(rule({ protocol: 'icmp', portRangeMin: 8, portRangeMax: 0 })), 'meta nfproto ipv4 meta l4proto icmp icmp type 8 icmp code 0');
    assert.equal(ruleMatch(rule({ ethertype: 'IPv6', protocol: 'icmp', direction: 'egress', remotePrefixes: ['2001:db8::/32'] })),
      'meta nfproto ipv6 meta l4proto ipv6-icmp ip6 daddr { 2001:db8::/32 }');
    assert.equal(ruleMatch(rule({})), 'meta nfproto ipv4');
    assert.equal(ruleMatch(rule({ protocol: '47' })), 'meta nfproto ipv4 meta l4proto 47');
  });

  it('a rule whose prefixes are all of the other family matches nothing; bad input is refused', () => {
    assert.equal(ruleMatch(rule({ remotePrefixes: ['2001:db8::/32'] })), null);
    assert.throws(() => ruleMatch(rule({ protocol: 'tcp; drop' })), /unknown protocol/);
    assert.throws(() => ruleMatch(rule({ remotePrefixes: ['10.0.0.0/33'] })), /not an IP prefix/);
    assert.throws(() => portScript({ tap: 'nvt1', mac: 'fa:16:3e:00:00:01', markId: 1, security: { rules: [], allowedAddresses: ['1.2.3.4; flush ruleset'] } }), /not an IP prefix/);
  });

  it('a port filter: anti-spoofing by MAC and addresses, stateful chains ending in drop, reached by mark', () => {
    const s = portScript({ tap: 'nvta1b2c3d4e5f6', mac: 'FA:16:3E:00:00:01', markId: 3, security: { rules: [rule({ protocol: 'icmp' })], allowedAddresses: ['10.0.0.5'] } });
    assert.match(s, /add rule bridge novalet spoof_nvta1b2c3d4e5f6 ether saddr != fa:16:3e:00:00:01 drop/);
    assert.match(s, /ip saddr != \{ 10\.0\.0\.5 \} drop/);
    assert.match(s, /arp saddr ip != \{ 0\.0\.0\.0, 10\.0\.0\.5 \} drop/);
    assert.match(s, /add rule inet novalet ingress_nvta1b2c3d4e5f6 ct state established,related accept/);
    assert.match(s, /add rule inet novalet ingress_nvta1b2c3d4e5f6 meta nfproto ipv4 meta l4proto icmp accept/);
    const ing = s.split('\n').filter((l) => l.startsWith('add rule inet novalet ingress_'));
    assert.equal(ing.at(-1), 'add rule inet novalet ingress_nvta1b2c3d4e5f6 drop');
    assert.match(s, /add element inet novalet ingress_ports \{ 0x6e800003 : jump ingress_nvta1b2c3d4e5f6 \}/);
    assert.match(s, /add element bridge novalet egress_marks \{ "nvta1b2c3d4e5f6" : 0x6e000003 \}/);
    // no egress rule: only DHCP and neighbour discovery leave the port, then drop
    assert.doesNotMatch(s, /add rule inet novalet egress_nvta1b2c3d4e5f6 meta nfproto ipv4 accept/);
  });

  it('removing a port deletes its elements before its chains', () => {
    const s = removePortScript({ tap: 'nvt1', markId: 3 }).split('\n');
    const lastElement = s.map((l) => l.startsWith('delete element')).lastIndexOf(true);
    const firstChain = s.findIndex((l) => l.startsWith('delete chain'));
    assert.ok(lastElement >= 0 && firstChain > lastElement);
  });
});

describe('dnsmasq files', () => {
  const files: DnsmasqFiles = { dir: '/d', conf: '/d/dnsmasq.conf', hosts: '/d/hosts', opts: '/d/opts', pid: '/d/dnsmasq.pid' };
  it('serves only the static entries of this host, no dynamic range, no DNS', () => {
    const conf = dnsmasqConf({ bridge: 'nvb1', mtu: 1450, subnets: spec().subnets, dhcpHosts: spec().dhcpHosts, files });
    assert.match(conf, /^dhcp-range=set:s0,10\.0\.0\.0,static,255\.255\.255\.0,86400s$/m);
    assert.match(conf, /^dhcp-ignore=tag:!known$/m);
    assert.match(conf, /^port=0$/m);
    assert.match(conf, /^interface=nvb1$/m);
    assert.equal(dnsmasqHosts(spec()), 'fa:16:3e:00:00:01,10.0.0.5,vm-1,86400s\n');
  });

  it('options: router, DNS, MTU; host routes with the default route; no router without a gateway', () => {
    assert.equal(dnsmasqOpts({ mtu: 1450, subnets: spec().subnets }),
      'tag:s0,option:router,10.0.0.1\ntag:s0,option:dns-server,10.0.0.53\ntag:s0,option:mtu,1450\n');
    const sub = { ...spec().subnets[0]!, gatewayIp: null, dnsNameservers: [] };
    assert.match(dnsmasqOpts({ mtu: 1500, subnets: [sub] }), /^tag:s0,option:router$/m);
    const routed = { ...spec().subnets[0]!, hostRoutes: [{ destination: '172.16.0.0/12', nexthop: '10.0.0.254' }] };
    assert.match(dnsmasqOpts({ mtu: 1450, subnets: [routed] }), /option:classless-static-route,172\.16\.0\.0\/12,10\.0\.0\.254,0\.0\.0\.0\/0,10\.0\.0\.1/);
  });

  it('the DHCP server address is the last usable one (below a gateway there); a port may not take it', () => {
    assert.equal(dhcpServerAddress('10.0.0.0/24', '10.0.0.1'), '10.0.0.254');
    assert.equal(dhcpServerAddress('10.0.0.0/24', '10.0.0.254'), '10.0.0.253');
    const bad = spec({ dhcpHosts: [{ portId: PORT, mac: 'fa:16:3e:00:00:01', ips: [{ subnetId: 'sub-1', address: '10.0.0.254' }] }] });
    assert.throws(() => dnsmasqHosts(bad), /DHCP server address/);
    assert.throws(() => dnsmasqHosts(spec({ dhcpHosts: [{ portId: PORT, mac: 'fa:16:3e:00:00:01', ips: [{ subnetId: 'sub-1', address: '10.9.0.5' }] }] })), /not in subnet/);
  });
});

describe('IPv6 on the hosts: router advertisements, DHCPv6 with static entries, filters', () => {
  const files: DnsmasqFiles = { dir: '/d', conf: '/d/dnsmasq.conf', hosts: '/d/hosts', opts: '/d/opts', pid: '/d/dnsmasq.pid' };
  const v6 = (id: string, cidr: string, mode: 'slaac' | 'dhcpv6-stateful' | 'dhcpv6-stateless' | null, over: Partial<NetworkSpec['subnets'][number]> = {}) =>
    ({ id, cidr, ipVersion: 6 as const, gatewayIp: cidr.replace('/64', '1'), enableDhcp: true, dnsNameservers: [], hostRoutes: [], ipv6AddressMode: mode, ...over });
  const dual = spec({
    subnets: [...spec().subnets, v6('s6a', 'fd00:a::/64', 'slaac'), v6('s6b', 'fd00:b::/64', 'dhcpv6-stateful', { dnsNameservers: ['fd00:b::53'] }), v6('s6c', 'fd00:c::/64', 'dhcpv6-stateless')],
    dhcpHosts: [{ portId: PORT, mac: 'fa:16:3e:00:00:01', hostname: 'vm-1', ips: [
      { subnetId: 'sub-1', address: '10.0.0.5' }, { subnetId: 's6a', address: 'fd00:a::f816:3eff:fe00:1' },
      { subnetId: 's6b', address: 'fd00:b::5' }, { subnetId: 's6c', address: 'fd00:c::f816:3eff:fe00:1' }] }],
  });

  it('RAs with router lifetime 0 and the MTU; SLAAC ra-only, stateless ra-stateless, stateful static (no dynamic range)', () => {
    const conf = dnsmasqConf({ bridge: 'nvb1', mtu: 1450, subnets: dual.subnets, dhcpHosts: dual.dhcpHosts, files });
    assert.match(conf, /^enable-ra$/m);
    assert.match(conf, /^ra-param=nvb1,mtu:1450,30,0$/m);
    assert.match(conf, /^dhcp-range=set:v6s0,fd00:a::,ra-only,64,86400s$/m);
    assert.match(conf, /^dhcp-range=set:v6s1,fd00:b::,static,64,86400s$/m);
    assert.match(conf, /^dhcp-range=set:v6s2,fd00:c::,ra-stateless,64,86400s$/m);
    // an IPv4-only network sends no RA
    assert.doesNotMatch(dnsmasqConf({ bridge: 'nvb1', mtu: 1450, subnets: spec().subnets, dhcpHosts: [], files }), /enable-ra/);
    // a subnet without a mode is served as Neutron does (stateful); one with DHCP off only when SLAAC
    const none = dnsmasqConf({ bridge: 'nvb1', mtu: 1450, subnets: [v6('x', 'fd00:d::/64', null), v6('y', 'fd00:e::/64', 'dhcpv6-stateful', { enableDhcp: false }), v6('z', 'fd00:f::/64', 'slaac', { enableDhcp: false })], dhcpHosts: [], files });
    assert.match(none, /^dhcp-range=set:v6s0,fd00:d::,static,64,86400s$/m);
    assert.match(none, /^dhcp-range=set:v6s1,fd00:f::,ra-only,64,86400s$/m);
    assert.doesNotMatch(none, /fd00:e::/);
    assert.throws(() => dnsmasqConf({ bridge: 'nvb1', mtu: 1450, subnets: [v6('s', 'fd00:a::/80', 'slaac')], dhcpHosts: [], files }), /SLAAC needs a \/64/);
  });

  it('one host line per MAC: its IPv4 address and only its DHCPv6-stateful addresses; DNS servers per subnet', () => {
    assert.equal(dnsmasqHosts(dual), 'fa:16:3e:00:00:01,10.0.0.5,[fd00:b::5],vm-1,86400s\n');
    const v6only = { subnets: [v6('s6b', 'fd00:b::/64', 'dhcpv6-stateful')], dhcpHosts: [{ portId: PORT, mac: 'fa:16:3e:00:00:02', ips: [{ subnetId: 's6b', address: 'fd00:b::7' }] }] };
    assert.equal(dnsmasqHosts(v6only), 'fa:16:3e:00:00:02,[fd00:b::7],86400s\n');
    assert.throws(() => dnsmasqHosts({ ...v6only, dhcpHosts: [{ portId: PORT, mac: 'fa:16:3e:00:00:02', ips: [{ subnetId: 's6b', address: 'fd00:9::7' }] }] }), /not in subnet/);
    assert.throws(() => dnsmasqHosts({ ...v6only, dhcpHosts: [{ portId: PORT, mac: 'fa:16:3e:00:00:02', ips: [{ subnetId: 's6b', address: 'fd00:b::ffff:ffff:ffff:ffff' }] }] }), /DHCP server address/);
    const opts = dnsmasqOpts({ mtu: 1450, subnets: dual.subnets });
    assert.match(opts, /^tag:v6s1,option6:dns-server,\[fd00:b::53\]$/m);
    assert.match(opts, /^tag:v6s0,option6:dns-server$/m);
  });

  it('the IPv6 server address is the last of the subnet (below a gateway there), never an EUI-64 one', () => {
    assert.equal(dhcpServerAddress6('fd00:a::/64', 'fd00:a::1'), 'fd00:a::ffff:ffff:ffff:ffff');
    assert.equal(dhcpServerAddress6('fd00:a::/64', 'fd00:a::ffff:ffff:ffff:ffff'), 'fd00:a::ffff:ffff:ffff:fffe');
    assert.equal(linkLocal('FA:16:3E:12:34:56'), 'fe80::f816:3eff:fe12:3456');
  });

  it('port filter: IPv6 sources only its addresses and its own link-local; DHCPv6 replies let in; tunnels carry no RA', () => {
    const s = portScript({ tap: 'nvt1', mac: 'fa:16:3e:12:34:56', markId: 3, security: { rules: [], allowedAddresses: ['10.0.0.5', 'fd00:a::5'] } });
    assert.match(s, /ip6 saddr != \{ ::, fe80::f816:3eff:fe12:3456, fd00:a::5 \} drop/);
    assert.doesNotMatch(s, /fe80::\/10/);
    assert.match(s, /add rule inet novalet ingress_nvt1 meta nfproto ipv6 udp sport 547 udp dport 546 accept/);
    assert.match(s, /add rule inet novalet egress_nvt1 meta nfproto ipv6 udp sport 546 udp dport 547 accept/);
    const base = baseScript();
    assert.match(base, /prerouting iifname @tunnels ether type ip6 icmpv6 type nd-router-advert drop/);
    assert.match(base, /tunnel_out oifname @tunnels ether type ip6 icmpv6 type nd-router-advert drop/);
    assert.match(base, /bridge_input meta nfproto ipv6 udp sport 546 udp dport 547 accept/);
    const n = networkScript({ bridge: 'nvb1', vxlan: 'nvx1', dhcpAddresses: ['10.0.0.254', 'fd00:a::ffff:ffff:ffff:ffff'] });
    assert.match(n, /tunnel_dhcp \{ "nvx1" \. 10\.0\.0\.254 \}/);
    assert.match(n, /tunnel_dhcp6 \{ "nvx1" \. fd00:a::ffff:ffff:ffff:ffff \}/);
  });
});

/** Records what the agent asked of the host (the real driver is exercised by the integration test). */
class RecordingDriver implements NetworkDriver {
  calls: string[] = [];
  links: string[] = [];
  taps = new Map<string, number>();
  async ensure(id: string, s: NetworkSpec, o: { local: string | undefined }): Promise<void> { this.calls.push(`ensure ${id} vni=${s.vni ?? ''} local=${o.local ?? ''}`); }
  async remove(id: string): Promise<void> { this.calls.push(`remove ${id}`); }
  async setPeers(id: string, peers: readonly string[]): Promise<void> { this.calls.push(`setPeers ${id} ${peers.join(',')}`); }
  async removeLinks(br: string): Promise<void> { this.calls.push(`removeLinks ${br}`); }
  async installPort(p: { tap: string; markId: number }): Promise<void> { this.calls.push(`installPort ${p.tap}`); this.taps.set(p.tap, p.markId); }
  async removePort(p: { tap: string }): Promise<void> { this.calls.push(`removePort ${p.tap}`); this.taps.delete(p.tap); }
  async presentLinks(): Promise<string[]> { return this.links; }
  async filteredTaps(): Promise<Map<string, number>> { return new Map(this.taps); }
  async pruneStateDirs(): Promise<string[]> { return []; }
  async dropAll(): Promise<void> { this.calls.push('dropAll'); }
}

describe('TenantNetworks: journal first, then the host; reconcile after a restart', () => {
  const t = tmpDir();
  let journal: Journal;
  const driver = new RecordingDriver();
  let nets: TenantNetworks;
  before(() => {
    journal = Journal.open(`${t.dir}/journal.sqlite`);
    nets = new TenantNetworks({ journal, config: testConfig(t.dir, { tunnelIp: '192.0.2.1' }), log: silentLog, driver });
  });
  after(() => { journal.close(); t.cleanup(); });

  it('put journals and realises; the view reports bridge, peers without ourselves, and ports', async () => {
    const v = await nets.put(NET, spec({ peers: ['192.0.2.2', '192.0.2.1'] }));
    assert.deepEqual(v, { id: NET, type: 'vxlan', vni: 4242, bridge: bridgeName(NET), mtu: 1450, peers: ['192.0.2.2'], ports: [] });
    assert.deepEqual(driver.calls, [`ensure ${NET} vni=4242 local=192.0.2.1`]);
  });

  it('refuses bad specs before touching anything', async () => {
    driver.calls = [];
    await assert.rejects(() => nets.put('n2', spec({ vni: 4242 })), (e: Error & { code?: string }) => e.code === 'invalid_state');
    await assert.rejects(() => nets.put('n3', spec({ vni: undefined })), (e: Error & { code?: string }) => e.code === 'bad_request');
    await assert.rejects(() => nets.put('n4', spec({ vni: 9, type: 'flat', physicalNetwork: 'physnet1' })), (e: Error & { code?: string }) => e.code === 'invalid_state');
    await assert.rejects(() => nets.put('n5', spec({ vni: 10, peers: ['not-an-ip'] })), (e: Error & { code?: string }) => e.code === 'bad_request');
    assert.deepEqual(driver.calls, []);
    assert.deepEqual(nets.list().map((n) => n.id), [NET]);
  });

  it('peer deltas: journaled, only the flood entries touched, idempotent; unknown networks skipped; bad addresses refused', async () => {
    driver.calls = [];
    const r = await nets.changePeers({ requestId: 'req-p1', changes: [{ networkId: NET, add: ['192.0.2.9', '192.0.2.1'], remove: ['192.0.2.2'] }, { networkId: 'nope', add: ['192.0.2.9'], remove: [] }] });
    assert.deepEqual(r, { networks: [{ id: NET, peers: ['192.0.2.9'] }], unknown: ['nope'] });
    assert.deepEqual(nets.journal.get(NET)!.spec.peers, ['192.0.2.1', '192.0.2.9']);
    assert.deepEqual(driver.calls, [`setPeers ${NET} 192.0.2.1,192.0.2.9`]);
    // the same request again: same peers, realised again, nothing else
    assert.deepEqual(await nets.changePeers({ requestId: 'req-p1', changes: [{ networkId: NET, add: ['192.0.2.9'], remove: ['192.0.2.2'] }] }), { networks: [{ id: NET, peers: ['192.0.2.9'] }], unknown: [] });
    await assert.rejects(() => nets.changePeers({ requestId: 'req-p2', changes: [{ networkId: NET, add: ['bad; rm'], remove: [] }] }), (e: Error & { code?: string }) => e.code === 'bad_request');
    assert.deepEqual(nets.list()[0]!.peers, ['192.0.2.9']);
    // back to the spec's peers for the tests below
    await nets.changePeers({ requestId: 'req-p3', changes: [{ networkId: NET, add: ['192.0.2.2'], remove: ['192.0.2.9'] }] });
  });

  it('reconcile re-ensures the journaled networks and removes links and filters that are not ours any more', async () => {
    driver.calls = [];
    driver.links = [bridgeName(NET), vxlanName(NET), 'nvbdeadbeef0000', 'nvxdeadbeef0000'];
    driver.taps.set('nvt000000000001', 5);
    await nets.reconcile(() => false);
    assert.deepEqual(driver.calls, [`ensure ${NET} vni=4242 local=192.0.2.1`, 'removeLinks nvbdeadbeef0000', 'removePort nvt000000000001']);
  });

  it('a flat network attaches to the operator bridge of its physical network', async () => {
    const flat = new TenantNetworks({ journal, config: testConfig(t.dir, { physicalNetworks: { physnet1: 'br-ex' } }), log: silentLog, driver });
    const v = await flat.put('flat-1', spec({ type: 'flat', vni: undefined, physicalNetwork: 'physnet1', peers: [], dhcpHosts: [] }));
    assert.equal(v.bridge, 'br-ex');
    const n = flat.resolveNic({ portId: PORT, mac: 'fa:16:3e:00:00:01', attachment: { type: 'tenant', network: 'flat-1' } });
    assert.deepEqual(n, { portId: PORT, mac: 'fa:16:3e:00:00:01', attachment: { type: 'bridge', bridge: 'br-ex' }, tap: tapName(PORT), mtu: 1450 });
    await flat.delete('flat-1');
  });

  it('delete removes it from the host and the journal; the last one drops the tables', async () => {
    driver.calls = [];
    await nets.delete(NET);
    assert.deepEqual(driver.calls, [`remove ${NET}`, 'dropAll']);
    assert.deepEqual(nets.list(), []);
  });
});

describe('TenantNetworks: a port security PUT during a reconcile pass is not undone by it', () => {
  const t = tmpDir();
  after(() => t.cleanup());

  it('the reconcile pass installs the rules journaled when the port\'s turn comes, not the ones it listed first', async () => {
    const journal = Journal.open(`${t.dir}/journal.sqlite`);
    try {
      let release!: () => void;
      const gate = new Promise<void>((r) => { release = r; });
      let ensuring!: () => void;
      const inEnsure = new Promise<void>((r) => { ensuring = r; });
      const installed: string[] = [];
      let held = false;
      const driver = new (class extends RecordingDriver {
        override async ensure(): Promise<void> { if (held) { ensuring(); await gate; } }
        override async installPort(p: { tap: string; markId: number; security: { rules: FilterRule[] } }): Promise<void> {
          installed.push(p.security.rules.map((r) => `${r.ethertype}/${r.protocol ?? 'any'}`).join(','));
          await super.installPort(p);
        }
      })();
      const nets = new TenantNetworks({ journal, config: testConfig(t.dir, { tunnelIp: '192.0.2.1' }), log: silentLog, driver });
      await nets.put(NET, spec());
      const v4 = { rules: [rule({ protocol: 'icmp' })], allowedAddresses: ['10.0.0.5'] };
      const both = { rules: [rule({ protocol: 'icmp' }), rule({ ethertype: 'IPv6', protocol: 'ipv6-icmp' })], allowedAddresses: ['10.0.0.5'] };
      const id = uuid();
      journal.putServer({
        uuid: id, status: 'active', desiredPower: 'running', power: 'running', task: null, opId: null, files: [], resizeOld: null,
        spec: { ...spawnParams(id, '/nonexistent').spec, nics: [{ portId: PORT, mac: 'fa:16:3e:00:00:01', attachment: { type: 'tenant', network: NET }, security: v4 }] },
      });
      held = true;
      const pass = nets.reconcile(() => false);
      await inEnsure; // the pass has listed the NICs with the IPv4 rule only
      await nets.setPortSecurity(PORT, both);
      release();
      await pass;
      assert.deepEqual(installed, ['IPv4/icmp,IPv6/ipv6-icmp', 'IPv4/icmp,IPv6/ipv6-icmp']);
      assert.deepEqual(journal.getServer(id)!.spec.nics![0]!.security, both);
      assert.ok(driver.taps.has(tapName(PORT)), 'the filter stays installed');
    } finally {
      journal.close();
    }
  });
});

describe('agent RPC: networks, tenant NICs, port security (fake hypervisor)', () => {
  let h: Harness;
  let app: FastifyInstance;
  const SECRET = 'unit-test-secret-0123456789';
  const headers = { authorization: `Bearer ${SECRET}`, [HEADER_PROTOCOL]: PROTOCOL };
  const call = async (method: 'GET' | 'PUT' | 'DELETE' | 'POST', url: string, payload?: unknown) => {
    const r = await app.inject({ method, url, headers, ...(payload !== undefined ? { payload: payload as object } : {}) });
    return { status: r.statusCode, body: r.body ? JSON.parse(r.body) as Record<string, unknown> : undefined };
  };
  const tenantNic = (network: string) => ({ portId: PORT, mac: 'fa:16:3e:00:00:01', attachment: { type: 'tenant', network }, ips: [{ subnetId: 'sub-1', address: '10.0.0.5' }], security: null });
  const srv = uuid();

  before(async () => {
    h = await harness();
    app = createRpcServer({ backend: agentBackend(h.agent), secret: SECRET, log: silentLog });
  });
  after(async () => { await app.close(); await h.cleanup(); });

  it('a spawn on a network this host was not given is refused with 409 invalid_state', async () => {
    const r = await call('POST', '/v1/operations', { requestId: 'req-spawn-0', serverUuid: srv, kind: 'spawn', params: spawnParams(srv, h.imageFile, { nics: [tenantNic(NET)] }) });
    assert.equal(r.status, 409);
    assert.equal((r.body?.['error'] as { code: string }).code, 'invalid_state');
  });

  it('PUT, then a spawn puts the NIC on the network bridge with a tap named from the port and the MTU', async () => {
    const put = await call('PUT', `/v1/networks/${NET}`, spec());
    assert.equal(put.status, 200);
    assert.equal((put.body?.['network'] as { bridge: string }).bridge, bridgeName(NET));
    const sub = await call('POST', '/v1/operations?wait=20', { requestId: 'req-spawn-1', serverUuid: srv, kind: 'spawn', params: spawnParams(srv, h.imageFile, { nics: [tenantNic(NET)] }) });
    assert.equal((sub.body?.['operation'] as { state: string }).state, 'succeeded', JSON.stringify(sub.body));
    const xml = await h.hv.getDomainXml(srv);
    assert.match(xml, new RegExp(`<interface type='bridge'>[\\s\\S]*<source bridge='${bridgeName(NET)}'/>[\\s\\S]*<target dev='${tapName(PORT)}'/>[\\s\\S]*<mtu size='1450'/>`));
    const list = await call('GET', '/v1/networks');
    assert.deepEqual((list.body?.['networks'] as { ports: string[] }[])[0]?.ports, [PORT]);
  });

  it('DELETE while a NIC uses it: 409 network_in_use; port security of a live port: 200; of an unknown port: 404', async () => {
    const del = await call('DELETE', `/v1/networks/${NET}`);
    assert.equal(del.status, 409);
    assert.equal((del.body?.['error'] as { code: string }).code, 'network_in_use');
    const sec = { requestId: 'req-sec-1', security: { rules: [rule({ protocol: 'icmp' })], allowedAddresses: ['10.0.0.5'] } };
    assert.equal((await call('PUT', `/v1/ports/${PORT}/security`, sec)).status, 200);
    const nic = (h.agent.getServer(srv).server.spec.nics ?? [])[0];
    assert.deepEqual(nic?.security, sec.security);
    const unknown = await call('PUT', '/v1/ports/no-such-port/security', sec);
    assert.equal(unknown.status, 404);
    assert.equal((unknown.body?.['error'] as { code: string }).code, 'unknown_port');
  });

  it('after destroy the network can be deleted (204) and is gone', async () => {
    const d = await call('POST', '/v1/operations?wait=20', { requestId: 'req-destroy-1', serverUuid: srv, kind: 'destroy', params: {} });
    assert.equal((d.body?.['operation'] as { state: string }).state, 'succeeded');
    // the filter's mark id went with the port
    assert.equal(h.agent.deps.networks.journal.marks().size, 0);
    assert.equal((await call('DELETE', `/v1/networks/${NET}`)).status, 204);
    assert.deepEqual((await call('GET', '/v1/networks')).body?.['networks'], []);
    assert.equal((await call('DELETE', `/v1/networks/${NET}`)).status, 204);
  });
});
