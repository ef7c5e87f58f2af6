/**
 * Tenant networks with real kernel objects, two hosts = two network namespaces joined by an underlay veth. Each
 * host realises the networks with the agent's own code (TenantNetworks + HostNetworkDriver running every command
 * in its namespace): bridge, VXLAN with head-end replication to the other host, per-host dnsmasq, nftables.
 * The "guests" are namespaces whose eth0 is the far end of a veth named like the tap libvirt would create for the
 * port (nvt…), enslaved to the bridge as libvirt does; they ask for their address with busybox udhcpc and ping
 * with busybox ping. One real QEMU guest (the tiny test guest, on the root libvirtd; its tap moved into host 1)
 * gets its address by DHCP from host 1 and is pinged from a guest on host 2: the tiny guest has no command
 * channel to ping from itself.
 *
 * Shows: DHCP from each host's own dnsmasq (exact address, router, MTU 1450) and no answer for an unknown MAC;
 * ping across hosts over VXLAN; a second network with the same CIDR is isolated; a security group without an
 * ingress ICMP rule blocks ping and adding the rule allows it; anti-spoofing drops a forged source address;
 * IPv6 on a dual-stack network: router advertisements from each host's dnsmasq (the guests' kernels take exactly
 * the EUI-64 addresses allocated for their MACs), DHCPv6-stateful hands out exactly the allocated address (a small
 * DHCPv6 client of the test: nothing on these hosts has one), ping6 across hosts through the port filters, and
 * IPv6 anti-spoofing.
 * Teardown leaves no bridge, VXLAN device, tap filter, nftables table or dnsmasq.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes, randomInt, randomUUID } from 'node:crypto';
import { chmodSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { DEFAULT_CONFIG, type AgentConfig } from '../../src/agent/config.js';
import { Journal } from '../../src/agent/journal/journal.js';
import { HostNetworkDriver } from '../../src/agent/network/host-driver.js';
import { hostExec } from '../../src/agent/network/host-exec.js';
import { eui64Address, parseCidr6 } from '../../src/agent/network/ipv6.js';
import { bridgeName, tapName, vxlanName } from '../../src/agent/network/names.js';
import { TenantNetworks } from '../../src/agent/network/tenant-networks.js';
import type { FilterRule, NetworkSpec, PortSecurity } from '../../src/rpc/protocol/networks.js';
import type { NicSpec } from '../../src/rpc/protocol/server-spec.js';
import { ConsoleLog, detectDomainType, guestDomainXml } from '../support/guest.js';
import { defineXml, destroyAndUndefine, ensureGuestBuilt, ROOT_URI, uniqueName, virsh } from '../support/virsh.js';

const isRoot = process.getuid?.() === 0;
const haveTools = ['nft', 'dnsmasq', 'busybox'].every((t) => spawnSync('sh', ['-c', `command -v ${t}`]).status === 0);

const sh = (args: string[], input?: string): string => execFileSync(args[0]!, args.slice(1), { encoding: 'utf8', input, stdio: ['pipe', 'pipe', 'pipe'] });
const ns = (name: string, ...args: string[]): string => sh(['ip', 'netns', 'exec', name, ...args]);
const tryNs = (name: string, ...args: string[]): { ok: boolean; out: string } => {
  const r = spawnSync('ip', ['netns', 'exec', name, ...args], { encoding: 'utf8' });
  return { ok: r.status === 0, out: `${r.stdout}${r.stderr}` };
};

describe('tenant networks on two namespaced hosts (bridge + VXLAN + dnsmasq + nftables)', { skip: (!isRoot && 'needs root') || (!haveTools && 'needs nft, dnsmasq, busybox') }, () => {
  const tag = randomBytes(3).toString('hex');
  const h = [`nvh1-${tag}`, `nvh2-${tag}`];
  const g = { a1: `nvga1-${tag}`, a2: `nvga2-${tag}`, b2: `nvgb2-${tag}`, x1: `nvgx1-${tag}`, c1: `nvgc1-${tag}`, c2: `nvgc2-${tag}` };
  const under = [`10.251.${randomInt(1, 250)}.1`, ''];
  under[1] = under[0]!.replace(/\.1$/, '.2');
  const o2 = randomInt(1, 250);
  const cidr = `10.77.${o2}.0/24`;
  const ip = (n: number): string => `10.77.${o2}.${n}`;
  const vni = randomInt(5000, 900_000);
  const netA = randomUUID();
  const netB = randomUUID();
  const dir = mkdtempSync(join(tmpdir(), 'nv-tenant-'));
  const log = pino({ level: 'silent' });
  const mac = (i: number): string => `52:54:00:${tag.slice(0, 2)}:${tag.slice(2, 4)}:${(i + 16).toString(16)}`;
  const port = { a1: randomUUID(), a2: randomUUID(), b2: randomUUID(), x1: randomUUID(), q1: randomUUID(), c1: randomUUID(), c2: randomUUID() };
  const netC = randomUUID();
  // network C: dual-stack, IPv4 + an IPv6 SLAAC subnet + an IPv6 DHCPv6-stateful subnet
  const slaac = `fd77:${o2.toString(16)}::/64`;
  const stateful = `fd78:${o2.toString(16)}::/64`;
  const v4c = (n: number): string => `10.78.${o2}.${n}`;
  const slaacOf = (m: string): string => eui64Address(parseCidr6(slaac).network, m);
  const statefulOf = (n: number): string => `fd78:${o2.toString(16)}::${n}`;
  const qemuGuest = uniqueName('tenant');
  const hosts: { nets: TenantNetworks; journal: Journal }[] = [];

  const subnet = (id: string): NetworkSpec['subnets'][number] => ({
    id, cidr, ipVersion: 4, gatewayIp: ip(1), enableDhcp: true, dnsNameservers: [], hostRoutes: [],
  });
  const specA = (host: 0 | 1): NetworkSpec => ({
    requestId: `req-${randomUUID()}`, type: 'vxlan', vni, mtu: 1450, subnets: [subnet('sa')], peers: [under[1 - host]!],
    dhcpHosts: host === 0 ? [{ portId: port.a1, mac: mac(1), ips: [{ subnetId: 'sa', address: ip(11) }] }, { portId: port.q1, mac: mac(4), ips: [{ subnetId: 'sa', address: ip(14) }] }]
      : [{ portId: port.a2, mac: mac(2), ips: [{ subnetId: 'sa', address: ip(12) }] }],
  });
  const specB = (host: 0 | 1): NetworkSpec => ({
    requestId: `req-${randomUUID()}`, type: 'vxlan', vni: vni + 1, mtu: 1450, subnets: [subnet('sb')], peers: [under[1 - host]!],
    dhcpHosts: host === 1 ? [{ portId: port.b2, mac: mac(3), ips: [{ subnetId: 'sb', address: ip(13) }] }] : [],
  });
  const nic = (portId: string, m: string, network: string, security: PortSecurity = null): NicSpec => ({ portId, mac: m, attachment: { type: 'tenant', network }, security, mtu: 1450 });

  /** A guest: a namespace whose eth0 is the far end of a veth named like the port's tap, on the host's bridge. */
  const plug = (host: number, guest: string, portId: string, m: string, network: string): void => {
    sh(['ip', 'netns', 'add', guest]);
    const tap = tapName(portId);
    sh(['ip', 'link', 'add', tap, 'mtu', '1450', 'type', 'veth', 'peer', 'name', `e${tag}`, 'mtu', '1450']);
    sh(['ip', 'link', 'set', `e${tag}`, 'netns', guest]);
    sh(['ip', 'link', 'set', tap, 'netns', h[host]!]);
    ns(h[host]!, 'ip', 'link', 'set', tap, 'master', bridgeName(network), 'up');
    ns(guest, 'ip', 'link', 'set', `e${tag}`, 'name', 'eth0');
    ns(guest, 'ip', 'link', 'set', 'eth0', 'address', m, 'up');
    ns(guest, 'ip', 'link', 'set', 'lo', 'up');
  };
  const script = join(dir, 'udhcpc.sh');
  const dhcp = (guest: string): { ok: boolean; env: Record<string, string> } => {
    const out = join(dir, `${guest}.env`);
    rmSync(out, { force: true });
    const r = tryNs(guest, 'env', `OUT=${out}`, 'busybox', 'udhcpc', '-O', 'mtu', '-i', 'eth0', '-n', '-q', '-f', '-t', '3', '-T', '1', '-s', script);
    if (!r.ok) return { ok: false, env: {} };
    const env = Object.fromEntries(readFileSync(out, 'utf8').split('\n').filter((l) => l.includes('=')).map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));
    return { ok: true, env };
  };
  const ping = (guest: string, to: string): boolean => tryNs(guest, 'busybox', 'ping', '-c', '2', '-W', '1', to).ok;

  before(async () => {
    writeFileSync(script, '#!/bin/sh\ncase "$1" in bound|renew) ip addr flush dev "$interface"; ip addr add "$ip/$mask" dev "$interface"; env > "$OUT";; esac\nexit 0\n');
    chmodSync(script, 0o755);
    // dnsmasq reads its hosts file as `nobody`: the state dirs must be traversable, as the agent's data dir is
    chmodSync(dir, 0o755);
    for (const n of h) sh(['ip', 'netns', 'add', n]);
    sh(['ip', 'link', 'add', `u${tag}a`, 'type', 'veth', 'peer', 'name', `u${tag}b`]);
    sh(['ip', 'link', 'set', `u${tag}a`, 'netns', h[0]!]);
    sh(['ip', 'link', 'set', `u${tag}b`, 'netns', h[1]!]);
    ns(h[0]!, 'ip', 'addr', 'add', `${under[0]}/24`, 'dev', `u${tag}a`);
    ns(h[1]!, 'ip', 'addr', 'add', `${under[1]}/24`, 'dev', `u${tag}b`);
    ns(h[0]!, 'ip', 'link', 'set', `u${tag}a`, 'up');
    ns(h[1]!, 'ip', 'link', 'set', `u${tag}b`, 'up');
    for (const [i, n] of h.entries()) {
      const config: AgentConfig = { ...DEFAULT_CONFIG, dataDir: join(dir, `host${i}`), tunnelIp: under[i]!, physicalNetworks: {} };
      const journal = Journal.open(join(dir, `host${i}`, 'journal.sqlite'));
      chmodSync(join(dir, `host${i}`), 0o755);
      const driver = new HostNetworkDriver({ exec: hostExec(n), stateDir: join(dir, `host${i}`, 'networks'), log });
      hosts.push({ journal, nets: new TenantNetworks({ journal, config, log, driver }) });
    }
  });

  after(async () => {
    if (process.env['NV_KEEP']) return;
    await destroyAndUndefine(ROOT_URI, qemuGuest).catch(() => undefined);
    for (const n of [...Object.values(g), ...h]) spawnSync('ip', ['netns', 'del', n]);
    // a dnsmasq left by a failed test: ours are the ones reading a config under our temp dir
    for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
      let cmd = '';
      try { cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8'); } catch { continue; }
      if (cmd.startsWith('dnsmasq') && cmd.includes(dir)) process.kill(Number(pid), 'SIGKILL');
    }
    for (const x of hosts) x.journal.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('two hosts carry network A over VXLAN; each guest gets exactly its address, router and MTU from its own host', async () => {
    const v0 = await hosts[0]!.nets.put(netA, specA(0));
    await hosts[1]!.nets.put(netA, specA(1));
    assert.equal(v0.bridge, bridgeName(netA));
    assert.deepEqual(v0.peers, [under[1]]);
    const fdb = ns(h[0]!, 'bridge', 'fdb', 'show', 'dev', vxlanName(netA));
    assert.match(fdb, new RegExp(`00:00:00:00:00:00 dst ${under[1]!.replace(/\./g, '\\.')}`));
    plug(0, g.a1, port.a1, mac(1), netA);
    plug(1, g.a2, port.a2, mac(2), netA);
    plug(0, g.x1, port.x1, mac(9), netA);
    await hosts[0]!.nets.applyPortFilter(nic(port.a1, mac(1), netA));
    const a1 = dhcp(g.a1);
    assert.ok(a1.ok, 'guest a1 got no DHCP answer');
    assert.equal(a1.env['ip'], ip(11));
    assert.equal(a1.env['router'], ip(1));
    assert.equal(a1.env['mtu'], '1450');
    const a2 = dhcp(g.a2);
    assert.equal(a2.env['ip'], ip(12));
    // a MAC no host was given: neither dnsmasq answers (no dynamic range), on this host nor across the tunnel
    assert.equal(dhcp(g.x1).ok, false);
  });

  it('the guests reach each other across the hosts', () => {
    assert.ok(ping(g.a1, ip(12)), 'a1 -> a2 over VXLAN');
    assert.ok(ping(g.a2, ip(11)), 'a2 -> a1 over VXLAN');
  });

  it('a real QEMU guest on host 1 gets its address from host 1 and is reached from host 2 across the tunnel', async () => {
    await ensureGuestBuilt();
    const domainType = detectDomainType(await virsh(ROOT_URI, ['capabilities']));
    const consoleLog = join(dir, `${qemuGuest}.log`);
    const tap = tapName(port.q1);
    await defineXml(ROOT_URI, guestDomainXml({ name: qemuGuest, consoleLog, domainType, nics: [{ type: 'ethernet', targetDev: tap, mac: mac(4) }] }));
    await virsh(ROOT_URI, ['start', qemuGuest]);
    // libvirt made the tap in its own namespace: move it into host 1 and onto the network's bridge, as an agent
    // running in that namespace would have had libvirt do with <interface type='bridge'>
    sh(['ip', 'link', 'set', tap, 'netns', h[0]!]);
    ns(h[0]!, 'ip', 'link', 'set', tap, 'mtu', '1450', 'master', bridgeName(netA), 'up');
    const hb = await new ConsoleLog(consoleLog).waitForHeartbeat((b) => (b.ips['eth0'] ?? []).length > 0, { timeoutMs: 120_000 });
    assert.deepEqual(hb.ips['eth0'], [ip(14)]);
    assert.ok(ping(g.a2, ip(14)), 'guest on host 2 cannot reach the QEMU guest on host 1');
  });

  it('a second network with the same CIDR is isolated from the first', async () => {
    await hosts[0]!.nets.put(netB, specB(0));
    await hosts[1]!.nets.put(netB, specB(1));
    plug(1, g.b2, port.b2, mac(3), netB);
    const b2 = dhcp(g.b2);
    assert.equal(b2.env['ip'], ip(13));
    assert.equal(ping(g.a1, ip(13)), false, 'network A reached network B');
    assert.equal(ping(g.b2, ip(11)), false, 'network B reached network A');
    assert.ok(ping(g.a1, ip(12)), 'network A still works');
  });

  it('a security group without an ingress ICMP rule blocks ping; adding the rule allows it', async () => {
    const egressAll: FilterRule = { direction: 'egress', ethertype: 'IPv4', protocol: null, portRangeMin: null, portRangeMax: null, remotePrefixes: [] };
    const icmpIn: FilterRule = { direction: 'ingress', ethertype: 'IPv4', protocol: 'icmp', portRangeMin: null, portRangeMax: null, remotePrefixes: [] };
    await hosts[1]!.nets.applyPortFilter(nic(port.a2, mac(2), netA, { rules: [egressAll], allowedAddresses: [ip(12)] }));
    assert.equal(ping(g.a1, ip(12)), false, 'ping passed without an ingress rule');
    // stateful: what a2 starts itself is answered
    assert.ok(ping(g.a2, ip(11)), 'a2 cannot start a ping of its own');
    await hosts[1]!.nets.applyPortFilter(nic(port.a2, mac(2), netA, { rules: [egressAll, icmpIn], allowedAddresses: [ip(12)] }));
    assert.ok(ping(g.a1, ip(12)), 'ping blocked with the ingress ICMP rule');
  });

  it('anti-spoofing: a source address the port was not given is dropped', () => {
    ns(g.a2, 'ip', 'addr', 'add', `${ip(99)}/24`, 'dev', 'eth0');
    assert.equal(tryNs(g.a2, 'busybox', 'ping', '-c', '2', '-W', '1', '-I', ip(99), ip(11)).ok, false, 'forged source passed');
    ns(g.a2, 'ip', 'addr', 'del', `${ip(99)}/24`, 'dev', 'eth0');
  });

  it('peers follow the spec: a removed peer loses its fdb entry', async () => {
    await hosts[0]!.nets.put(netB, { ...specB(0), peers: [] });
    assert.doesNotMatch(ns(h[0]!, 'bridge', 'fdb', 'show', 'dev', vxlanName(netB)), /00:00:00:00:00:00 dst/);
  });

  it('peer deltas: an added peer gets its fdb entry (traffic flows again), a removed one loses it, nothing else touched', async () => {
    const esc = (a: string) => a.replace(/\./g, '\\.');
    await hosts[0]!.nets.changePeers({ requestId: `req-${randomUUID()}`, changes: [{ networkId: netB, add: [under[1]!, '10.252.0.9'], remove: [] }] });
    let fdb = ns(h[0]!, 'bridge', 'fdb', 'show', 'dev', vxlanName(netB));
    assert.match(fdb, new RegExp(`00:00:00:00:00:00 dst ${esc(under[1]!)}`));
    assert.match(fdb, /00:00:00:00:00:00 dst 10\.252\.0\.9/);
    await hosts[0]!.nets.changePeers({ requestId: `req-${randomUUID()}`, changes: [{ networkId: netB, add: [], remove: ['10.252.0.9'] }] });
    fdb = ns(h[0]!, 'bridge', 'fdb', 'show', 'dev', vxlanName(netB));
    assert.doesNotMatch(fdb, /10\.252\.0\.9/);
    assert.match(fdb, new RegExp(`00:00:00:00:00:00 dst ${esc(under[1]!)}`));
    assert.deepEqual(hosts[0]!.nets.journal.get(netB)!.spec.peers, [under[1]!]);
    // network A untouched
    assert.match(ns(h[0]!, 'bridge', 'fdb', 'show', 'dev', vxlanName(netA)), new RegExp(`00:00:00:00:00:00 dst ${esc(under[1]!)}`));
    assert.ok(ping(g.a1, ip(12)), 'network A broken by a delta of network B');
    // as the test before left it
    await hosts[0]!.nets.put(netB, { ...specB(0), peers: [] });
  });

  const specC = (host: 0 | 1): NetworkSpec => {
    const mine = host === 0 ? [[port.c1, mac(5), 15]] as const : [[port.c2, mac(6), 16]] as const;
    return {
      requestId: `req-${randomUUID()}`, type: 'vxlan', vni: vni + 2, mtu: 1450, peers: [under[1 - host]!],
      subnets: [
        { id: 'sc4', cidr: `10.78.${o2}.0/24`, ipVersion: 4, gatewayIp: v4c(1), enableDhcp: true, dnsNameservers: [], hostRoutes: [] },
        { id: 'sc6', cidr: slaac, ipVersion: 6, gatewayIp: slaac.replace('/64', '1'), enableDhcp: true, dnsNameservers: [], hostRoutes: [], ipv6AddressMode: 'slaac' },
        { id: 'sc6s', cidr: stateful, ipVersion: 6, gatewayIp: stateful.replace('/64', '1'), enableDhcp: true, dnsNameservers: [stateful.replace('/64', '53')], hostRoutes: [], ipv6AddressMode: 'dhcpv6-stateful' },
      ],
      dhcpHosts: mine.map(([p, m, n]) => ({ portId: p, mac: m, ips: [{ subnetId: 'sc4', address: v4c(n) }, { subnetId: 'sc6', address: slaacOf(m) }, { subnetId: 'sc6s', address: statefulOf(n) }] })),
    };
  };
  const v6Security = (m: string, n: number): PortSecurity => ({
    rules: [
      { direction: 'egress', ethertype: 'IPv4', protocol: null, portRangeMin: null, portRangeMax: null, remotePrefixes: [] },
      { direction: 'egress', ethertype: 'IPv6', protocol: null, portRangeMin: null, portRangeMax: null, remotePrefixes: [] },
      { direction: 'ingress', ethertype: 'IPv6', protocol: 'icmp', portRangeMin: null, portRangeMax: null, remotePrefixes: [] },
    ],
    allowedAddresses: [v4c(n), slaacOf(m), statefulOf(n)],
  });
  const globals6 = (guest: string): string[] =>
    [...ns(guest, 'ip', '-6', '-o', 'addr', 'show', 'dev', 'eth0', 'scope', 'global').matchAll(/inet6 ([0-9a-f:]+)\//g)].map((x) => x[1]!);
  const waitFor = async (what: string, fn: () => boolean, ms: number): Promise<void> => {
    const end = Date.now() + ms;
    while (!fn()) {
      if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 250));
    }
  };
  const solicit = (guest: string, m: string): { ok: boolean; res?: { addresses: string[]; dns: string[]; status?: number } } => {
    const r = tryNs(guest, process.execPath, '--import', 'tsx', join(process.cwd(), 'test', 'support', 'dhcpv6-solicit.ts'), 'eth0', m);
    return r.ok ? { ok: true, res: JSON.parse(r.out.trim().split('\n').at(-1)!) as { addresses: string[]; dns: string[] } } : { ok: false };
  };

  it('IPv6: RAs give each guest exactly its allocated EUI-64 address; DHCPv6-stateful exactly its allocated address', async () => {
    await hosts[0]!.nets.put(netC, specC(0));
    await hosts[1]!.nets.put(netC, specC(1));
    // the host serves the prefix from the last address of each IPv6 subnet, and has a link-local for its RAs
    const br6 = ns(h[0]!, 'ip', '-6', '-o', 'addr', 'show', 'dev', bridgeName(netC));
    assert.match(br6, new RegExp(`inet6 fd77:${o2.toString(16)}::ffff:ffff:ffff:ffff/64`));
    assert.match(br6, /inet6 fe80::/);
    plug(0, g.c1, port.c1, mac(5), netC);
    plug(1, g.c2, port.c2, mac(6), netC);
    await hosts[0]!.nets.applyPortFilter({ ...nic(port.c1, mac(5), netC), security: v6Security(mac(5), 15) });
    await hosts[1]!.nets.applyPortFilter({ ...nic(port.c2, mac(6), netC), security: v6Security(mac(6), 16) });
    for (const [guest, m] of [[g.c1, mac(5)], [g.c2, mac(6)]] as const) {
      await waitFor(`${guest}'s SLAAC address`, () => globals6(guest).includes(slaacOf(m)), 30_000);
      // RAs are for the prefix only: the host is no default router, and no other prefix was advertised
      assert.deepEqual(globals6(guest), [slaacOf(m)]);
      assert.doesNotMatch(ns(guest, 'ip', '-6', 'route', 'show'), /^default/m);
      const mtu = ns(guest, 'sysctl', '-n', 'net.ipv6.conf.eth0.mtu').trim();
      assert.equal(mtu, '1450');
    }
    const c1 = solicit(g.c1, mac(5));
    assert.ok(c1.ok, 'no DHCPv6 answer for c1');
    assert.deepEqual(c1.res!.addresses, [statefulOf(15)]);
    assert.deepEqual(c1.res!.dns, [stateful.replace('/64', '53')]);
    const c2 = solicit(g.c2, mac(6));
    assert.deepEqual(c2.res?.addresses, [statefulOf(16)], 'c2 answered by its own host with its own address');
  });

  it('IPv6: guests on two hosts ping each other (SLAAC and DHCPv6 addresses); a forged IPv6 source is dropped', () => {
    ns(g.c1, 'ip', '-6', 'addr', 'add', `${statefulOf(15)}/64`, 'dev', 'eth0', 'nodad');
    ns(g.c2, 'ip', '-6', 'addr', 'add', `${statefulOf(16)}/64`, 'dev', 'eth0', 'nodad');
    assert.ok(tryNs(g.c1, 'busybox', 'ping6', '-c', '2', '-W', '2', slaacOf(mac(6))).ok, 'c1 -> c2 (SLAAC) over VXLAN');
    assert.ok(tryNs(g.c2, 'busybox', 'ping6', '-c', '2', '-W', '2', statefulOf(15)).ok, 'c2 -> c1 (DHCPv6) over VXLAN');
    ns(g.c1, 'ip', '-6', 'addr', 'add', `${statefulOf(99)}/64`, 'dev', 'eth0', 'nodad');
    assert.equal(tryNs(g.c1, 'busybox', 'ping6', '-c', '2', '-W', '1', '-I', statefulOf(99), slaacOf(mac(6))).ok, false, 'forged IPv6 source passed');
    ns(g.c1, 'ip', '-6', 'addr', 'del', `${statefulOf(99)}/64`, 'dev', 'eth0');
  });

  it('reconcile (as after a restart): a bridge, VXLAN device and filter of ours that are not journaled are removed', async () => {
    ns(h[0]!, 'ip', 'link', 'add', 'nvbdeadbeef0001', 'type', 'bridge');
    ns(h[0]!, 'ip', 'link', 'add', 'nvxdeadbeef0001', 'type', 'vxlan', 'id', '77', 'dstport', '4789', 'local', under[0]!, 'nolearning');
    const driver = new HostNetworkDriver({ exec: hostExec(h[0]!), stateDir: join(dir, 'host0', 'networks'), log });
    await driver.installPort({ tap: 'nvt0000deadbeef', mac: mac(7), markId: 4000, security: { rules: [], allowedAddresses: [] } });
    assert.ok((await driver.filteredTaps()).has('nvt0000deadbeef'));
    // a fresh agent on the same journal: the journaled networks are ensured again, the rest removed
    const config: AgentConfig = { ...DEFAULT_CONFIG, dataDir: join(dir, 'host0'), tunnelIp: under[0]!, physicalNetworks: {} };
    const fresh = new TenantNetworks({ journal: hosts[0]!.journal, config, log, driver });
    await fresh.reconcile(() => false);
    const links = ns(h[0]!, 'ip', '-o', 'link', 'show');
    assert.doesNotMatch(links, /deadbeef/);
    assert.match(links, new RegExp(bridgeName(netA)));
    assert.equal((await driver.filteredTaps()).has('nvt0000deadbeef'), false);
    assert.ok(ping(g.a1, ip(12)), 'network A broken by the reconcile');
  });

  it('teardown leaves no bridge, VXLAN device, filter, nftables table or dnsmasq', async () => {
    await destroyAndUndefine(ROOT_URI, qemuGuest);
    const nics = [[0, port.a1, mac(1), netA], [1, port.a2, mac(2), netA], [1, port.b2, mac(3), netB], [0, port.c1, mac(5), netC], [1, port.c2, mac(6), netC]] as const;
    // a network with a NIC on it: 409 network_in_use needs a server in the journal; the port filters go first here
    for (const [i, p, m, n] of nics) await hosts[i]!.nets.removePortFilter(nic(p, m, n));
    for (const x of hosts) for (const n of [netA, netB, netC]) await x.nets.delete(n);
    for (const n of h) {
      const links = ns(n, 'ip', '-o', 'link', 'show');
      assert.doesNotMatch(links, /nvb|nvx/, `${n}: ${links}`);
      assert.equal(ns(n, 'nft', 'list', 'tables').trim(), '', `${n}: nftables tables left`);
    }
    const dnsmasqs = readdirSync('/proc').filter((p) => /^\d+$/.test(p)).filter((p) => {
      try { return readFileSync(`/proc/${p}/cmdline`, 'utf8').includes(dir); } catch { return false; }
    });
    assert.deepEqual(dnsmasqs, [], 'dnsmasq left running');
    for (const x of hosts) assert.deepEqual(x.nets.list(), []);
  });
});
