/**
 * Nothing leaks: 100 cycles of two servers on a tenant network on two hosts, an interface attached on a second
 * network and detached (every tenth one by deleting its port in the network API), the servers deleted, plus an
 * exhausted subnet's failed build; afterwards the hosts carry no bridge, tap, VXLAN device, nftables rule, dnsmasq,
 * DHCP entry or port mark, and the API no port or address. Both networks are dual-stack (the first with an IPv6
 * SLAAC subnet, the second DHCPv6-stateful): no router-advertising dnsmasq, IPv6 address or IPv6 rule is left either.
 *
 * The controller is the real one (in process, the harness's fake hypervisor answers the guest operations); the
 * network plumbing is real: every host call that carries a network, a NIC or a filter is also run by the agent's
 * own TenantNetworks + HostNetworkDriver inside a network namespace per host (two namespaces joined by a veth, the
 * VXLAN underlay), and a NIC is a kernel tap on the network's bridge, as libvirt would plug it.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes, randomInt } from 'node:crypto';
import { chmodSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { DEFAULT_CONFIG, type AgentConfig } from '../../src/agent/config.js';
import { Journal } from '../../src/agent/journal/journal.js';
import { HostNetworkDriver } from '../../src/agent/network/host-driver.js';
import { hostExec } from '../../src/agent/network/host-exec.js';
import { bridgeName, tapName } from '../../src/agent/network/names.js';
import { TenantNetworks } from '../../src/agent/network/tenant-networks.js';
import type { NicSpec } from '../../src/rpc/protocol/server-spec.js';
import type { HostCall } from '../../src/controller/hosts/transport.js';
import { createHarness, type Harness } from '../support/harness.js';
import { addHostB } from '../support/two-hosts.js';

const isRoot = process.getuid?.() === 0;
const haveTools = ['nft', 'dnsmasq'].every((t) => spawnSync('sh', ['-c', `command -v ${t}`]).status === 0);
const CYCLES = Number(process.env['NOVALET_LEAK_CYCLES'] ?? 100);

const N = '/network/v2.0';
const C = '/compute/v2.1';
const sh = (args: string[]): string => execFileSync(args[0]!, args.slice(1), { encoding: 'utf8', stdio: ['pipe', 'pipe', 'pipe'] });
const ns = (name: string, ...args: string[]): string => sh(['ip', 'netns', 'exec', name, ...args]);

describe('100 create/attach/detach/delete cycles on real network plumbing leave nothing behind', { skip: (!isRoot && 'needs root') || (!haveTools && 'needs nft, dnsmasq'), timeout: 900_000 }, () => {
  const tag = randomBytes(3).toString('hex');
  const HOSTS = ['fake-host', 'host-b'];
  const netns = HOSTS.map((_, i) => `nvleak${i}-${tag}`);
  const o3 = randomInt(1, 250);
  const under = [`10.253.${o3}.1`, `10.253.${o3}.2`];
  const dir = mkdtempSync(join(tmpdir(), 'nv-leak-'));
  const log = pino({ level: 'silent' });
  const real = new Map<string, { nets: TenantNetworks; journal: Journal; ns: string }>();
  /** port id -> where its tap is */
  const taps = new Map<string, { host: string; nic: NicSpec }>();
  let h: Harness;

  const plug = async (host: string, nic: NicSpec) => {
    if (nic.attachment.type !== 'tenant') return;
    const r = real.get(host)!;
    r.nets.checkNics([nic]);
    await r.nets.applyPortFilter(nic);
    const tap = tapName(nic.portId);
    ns(r.ns, 'ip', 'tuntap', 'add', 'dev', tap, 'mode', 'tap');
    ns(r.ns, 'ip', 'link', 'set', tap, 'mtu', '1450', 'master', bridgeName(nic.attachment.network), 'up');
    taps.set(nic.portId, { host, nic });
  };
  const unplug = async (portId: string) => {
    const t = taps.get(portId);
    if (!t) return;
    const r = real.get(t.host)!;
    ns(r.ns, 'ip', 'link', 'del', tapName(portId));
    await r.nets.removePortFilter(t.nic);
    taps.delete(portId);
  };

  before(async () => {
    chmodSync(dir, 0o755); // dnsmasq reads its files as nobody
    for (const n of netns) sh(['ip', 'netns', 'add', n]);
    sh(['ip', 'link', 'add', `ul${tag}a`, 'type', 'veth', 'peer', 'name', `ul${tag}b`]);
    for (const [i, side] of ['a', 'b'].entries()) {
      sh(['ip', 'link', 'set', `ul${tag}${side}`, 'netns', netns[i]!]);
      ns(netns[i]!, 'ip', 'addr', 'add', `${under[i]}/24`, 'dev', `ul${tag}${side}`);
      ns(netns[i]!, 'ip', 'link', 'set', `ul${tag}${side}`, 'up');
    }
    for (const [i, host] of HOSTS.entries()) {
      const data = join(dir, host);
      const config: AgentConfig = { ...DEFAULT_CONFIG, dataDir: data, tunnelIp: under[i]!, physicalNetworks: {} };
      const journal = Journal.open(join(data, 'journal.sqlite'));
      chmodSync(data, 0o755);
      const driver = new HostNetworkDriver({ exec: hostExec(netns[i]), stateDir: join(data, 'networks'), log });
      real.set(host, { journal, ns: netns[i]!, nets: new TenantNetworks({ journal, config, log, driver }) });
    }

    h = await createHarness();
    await addHostB(h);
    // the hosts' tunnel addresses, as their agents would report them
    for (const [i, host] of HOSTS.entries()) await h.app.novalet.compute.hosts.heartbeat(host, { vcpus: 64, memoryMb: 262144, diskGb: 1000, hostIp: under[i]! });
    await h.app.novalet.compute.placement.refresh();
    const fake = h.driver;
    const ensure = fake.ensureNetwork.bind(fake);
    const remove = fake.removeNetwork.bind(fake);
    const peers = fake.changePeers.bind(fake);
    const security = fake.setPortSecurity.bind(fake);
    const call = fake.call.bind(fake);
    fake.ensureNetwork = async (host, id, spec) => { await real.get(host)!.nets.put(id, spec); await ensure(host, id, spec); };
    fake.removeNetwork = async (host, id) => { await real.get(host)!.nets.delete(id); await remove(host, id); };
    fake.changePeers = async (host, req) => { await real.get(host)!.nets.changePeers(req); return peers(host, req); };
    fake.setPortSecurity = async (host, portId, req) => {
      const t = taps.get(portId);
      if (t) await real.get(host)!.nets.applyPortFilter({ ...t.nic, security: req.security });
      await security(host, portId, req);
    };
    fake.call = (async (c: HostCall) => {
      const p = c.params as Record<string, any>;
      if (c.kind === 'spawn') for (const n of (p.spec.nics ?? []) as NicSpec[]) await plug(c.host, n);
      if (c.kind === 'attach_nic') await plug(c.host, p.nic as NicSpec);
      if (c.kind === 'detach_nic') await unplug(p.portId as string);
      if (c.kind === 'destroy') for (const [id, t] of [...taps]) if (t.host === c.host && taps.has(id) && (await serverOfPort(id)) === c.serverId) await unplug(id);
      return call(c as never);
    }) as typeof fake.call;
  });

  /** which server a tap belongs to: its port's device, or (a port already deleted) the NICs we plugged for it */
  const plugged = new Map<string, string>();
  const serverOfPort = async (portId: string) => plugged.get(portId) ?? (await h.store.getPort(portId))?.deviceId;

  after(async () => {
    await h?.close();
    for (const n of netns) spawnSync('ip', ['netns', 'del', n]);
    for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
      let cmd = '';
      try { cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8'); } catch { continue; }
      if (cmd.startsWith('dnsmasq') && cmd.includes(dir)) process.kill(Number(pid), 'SIGKILL');
    }
    for (const r of real.values()) r.journal.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const adminPost = async (url: string, body: unknown) => {
    const r = await h.req(h.tokens.admin, 'POST', url, body);
    assert.ok(r.statusCode < 300, `${url}: ${r.statusCode} ${r.body}`);
    return r.json();
  };
  const net = async (name: string, cidr: string, v6?: { cidr: string; mode: 'slaac' | 'dhcpv6-stateful' }) => {
    const n = (await adminPost(`${N}/networks`, { network: { name } })).network;
    await adminPost(`${N}/subnets`, { subnet: { network_id: n.id, cidr, ip_version: 4 } });
    if (v6) await adminPost(`${N}/subnets`, { subnet: { network_id: n.id, cidr: v6.cidr, ip_version: 6, ipv6_address_mode: v6.mode, ipv6_ra_mode: v6.mode } });
    return n.id as string;
  };
  const boot = async (name: string, host: string, netId: string) => {
    const id = await h.boot(h.tokens.admin, name, { networks: [{ uuid: netId }], availability_zone: `nova:${host}` });
    for (const p of await h.store.listPorts({ deviceId: id })) plugged.set(p.id, id);
    return id;
  };

  it(`${CYCLES} cycles: two servers on two hosts, attach + detach (or port delete), delete; an exhausted subnet's build`, async () => {
    const netA = await net('leak-a', '10.20.0.0/24', { cidr: 'fd20::/64', mode: 'slaac' });
    const netB = await net('leak-b', '10.21.0.0/24', { cidr: 'fd21::/64', mode: 'dhcpv6-stateful' });
    const t0 = Date.now();
    for (let i = 0; i < CYCLES; i++) {
      const s1 = await boot(`l${i}a`, 'fake-host', netA);
      const s2 = await boot(`l${i}b`, 'host-b', netA);
      if (i === 0) {
        // the hosts tunnel to each other while both carry the network
        const fdb = ns(netns[0]!, 'bridge', 'fdb', 'show', 'dev', `nvx${netA.replace(/-/g, '').slice(0, 12)}`);
        assert.match(fdb, new RegExp(`dst ${under[1]!.replace(/\./g, '\\.')}`));
        // IPv6 is served: the bridge has the subnet's server address, its dnsmasq sends RAs
        assert.match(ns(netns[0]!, 'ip', '-6', 'addr', 'show', 'dev', bridgeName(netA)), /inet6 fd20::ffff:ffff:ffff:ffff\/64/);
        assert.match(readFileSync(join(dir, 'fake-host', 'networks', netA, 'dnsmasq.conf'), 'utf8'), /^enable-ra$/m);
      }
      const r = await h.req(h.tokens.admin, 'POST', `${C}/servers/${s1}/os-interface`, { interfaceAttachment: { net_id: netB } });
      assert.equal(r.statusCode, 200, r.body);
      const portId = r.json().interfaceAttachment.port_id as string;
      plugged.set(portId, s1);
      assert.ok(taps.has(portId), 'the attached NIC is plugged');
      if (i % 10 === 9) {
        assert.equal((await h.req(h.tokens.admin, 'DELETE', `${N}/ports/${portId}`)).statusCode, 204);
        for (let w = 0; taps.has(portId) && w < 500; w++) await new Promise((res) => setTimeout(res, 20));
      } else {
        assert.equal((await h.req(h.tokens.admin, 'DELETE', `${C}/servers/${s1}/os-interface/${portId}`)).statusCode, 202);
      }
      await h.idle();
      assert.ok(!taps.has(portId), `cycle ${i}: the detached NIC is unplugged`);
      for (const s of [s1, s2]) assert.equal((await h.req(h.tokens.admin, 'DELETE', `${C}/servers/${s}`)).statusCode, 204);
      await h.idle();
    }
    const perCycle = (Date.now() - t0) / CYCLES;
    // an exhausted subnet: the second build fails with a fault and plumbs nothing
    const small = await net('leak-small', '10.22.0.0/29'); // .2-.5 for ports (.1 gateway, .6 the hosts' DHCP)
    const fill = [];
    for (let k = 0; k < 3; k++) fill.push(await boot(`fill-${k}`, 'fake-host', small));
    const ok = await boot('full-1', 'fake-host', small);
    const failed = await boot('full-2', 'host-b', small);
    const f = (await h.req(h.tokens.admin, 'GET', `${C}/servers/${failed}`)).json().server;
    assert.equal(f.status, 'ERROR');
    assert.equal(f.fault.message, `No more IP addresses available on network ${small}.`);
    assert.deepEqual(real.get('host-b')!.nets.list().map((n) => n.id), [], `the failed build plumbed nothing on its host (leak-a ${netA}, leak-b ${netB}, small ${small})`);
    for (const s of [...fill, ok, failed]) await h.req(h.tokens.admin, 'DELETE', `${C}/servers/${s}`);
    await h.idle();
    console.log(`# ${CYCLES} cycles, ${Math.round(perCycle)} ms per cycle`);
  });

  it('nothing is left: no bridge, tap, VXLAN device, nftables rule, dnsmasq, DHCP entry, port mark, port or address', async () => {
    const left: string[] = [];
    for (const [host, r] of real) {
      const links = ns(r.ns, 'ip', '-o', 'link', 'show').split('\n').filter((l) => /nv[bxt][0-9a-f]{12}/.test(l));
      left.push(...links.map((l) => `${host} link: ${l.split(':')[1]?.trim()}`));
      const nft = ns(r.ns, 'nft', 'list', 'ruleset').trim();
      if (nft) left.push(`${host} nftables: ${nft}`);
      // no IPv6 address of ours (the underlay veth has only its link-local)
      const v6 = ns(r.ns, 'ip', '-6', '-o', 'addr', 'show', 'scope', 'global').trim();
      if (v6) left.push(`${host} IPv6 addresses: ${v6}`);
      const states = readdirSync(join(dir, host, 'networks'), { withFileTypes: true }).map((d) => d.name);
      left.push(...states.map((s) => `${host} dnsmasq state dir: ${s}`));
      left.push(...r.nets.list().map((n) => `${host} journaled network: ${n.id}`));
      left.push(...[...r.nets.journal.marks().keys()].map((m) => `${host} port mark: ${m}`));
    }
    for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
      let cmd = '';
      try { cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8'); } catch { continue; }
      if (cmd.startsWith('dnsmasq') && cmd.includes(dir)) left.push(`dnsmasq pid ${pid}`);
    }
    left.push(...[...taps.keys()].map((p) => `tap of port ${p}`));
    const ports = (await h.req(h.tokens.admin, 'GET', `${N}/ports`)).json().ports as Array<{ id: string; fixed_ips: unknown[] }>;
    left.push(...ports.map((p) => `port ${p.id} ${JSON.stringify(p.fixed_ips)}`));
    for (const host of HOSTS) left.push(...[...(h.driver.networks.get(host)?.keys() ?? [])].map((n) => `${host} network in the controller's view: ${n}`));
    assert.deepEqual(left, []);
  });
});
