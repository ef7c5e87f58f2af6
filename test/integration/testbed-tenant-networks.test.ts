/**
 * Tenant networks across hosts, through the whole product (`novalet testbed up --hosts 2`, the stock `openstack`
 * client, real libvirtd + QEMU guests): the hosts' VXLAN tunnels run over the testbed's private bridge (agent config
 * `tunnelIp`). The guests ping each other from inside (user data run by the test guest, one NOVALET-PING line per
 * try on the console):
 *   - A (h0) and B (h1) on network A (dual-stack: IPv4 + an IPv6 SLAAC subnet) reach each other over IPv4 and
 *     IPv6; each shows its IPv4 address (DHCP) and the IPv6 address Neutron allocated (its EUI-64, from the RAs
 *     of its own host) on its console;
 *   - C (h1) on network B, with the same CIDR, does not reach A;
 *   - B's port in a security group without an ingress rule: A's pings fail; adding the ICMP rule lets them through;
 *   - a cold migration of B to h0: B's port is bound to h0, h0 carries it, h1 has no tap, bridge, VXLAN device or
 *     DHCP entry of network A left (network B stays: C still uses it), and A reaches B again.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, existsSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { execa } from 'execa';
import { Clients } from '../support/stock-clients.js';
import { ConsoleLog, guestDir } from '../support/guest.js';
import { ensureGuestBuilt, isRoot } from '../support/virsh.js';
import { NovaletTestbed } from '../support/novalet-testbed.js';
import { bridgeName, tapName, vxlanName } from '../../src/agent/network/names.js';

const skip = isRoot() ? false : 'needs root (namespaces, libvirtd, QEMU)';
const tb = new NovaletTestbed('tbnet');
const { parent, dir } = tb;
chmodSync(parent, 0o755); // dnsmasq runs as nobody and reads its files under the agents' data dirs

const novalet = tb.run;

const logs = () => tb.logs(2000);

/** a command inside a testbed host's network namespace */
async function inHost(host: string, cmd: string[]): Promise<string> {
  const s = JSON.parse(String((await novalet('status', '--json')).stdout)) as { hosts: Array<{ name: string; netns: string }> };
  const ns = s.hosts.find((h) => h.name === host)!.netns;
  return String((await execa('ip', ['netns', 'exec', ns, ...cmd], { reject: false })).stdout);
}

/** the guest's user data: ping each target once a second, forever, one line per try; its global IPv6 addresses */
const pinger = (targets: string[]) => `#!/bin/sh
while :; do
  for t in ${targets.join(' ')}; do
    case $t in *:*) p=ping6 ;; *) p=ping ;; esac
    if $p -c 1 -W 1 $t >/dev/null 2>&1; then echo "NOVALET-PING to=$t ok"; else echo "NOVALET-PING to=$t fail"; fi
  done
  echo "NOVALET-ADDR6 $(ip -6 -o addr show dev eth0 scope global | sed -n 's/.* inet6 \\([0-9a-f:]*\\)\\/.*/\\1/p' | tr '\\n' ' ')"
  sleep 1
done
`;

const PING_RE = /NOVALET-PING to=(\S+) (ok|fail)/;

/** the ping results to `to` on a console from line `since` */
function pings(con: ConsoleLog, to: string, since: number): Array<'ok' | 'fail'> {
  const out: Array<'ok' | 'fail'> = [];
  for (let i = since; i < con.lines.length; i++) {
    const m = PING_RE.exec(con.lines[i] ?? '');
    if (m && m[1] === to) out.push(m[2] as 'ok' | 'fail');
  }
  return out;
}

/** waits until the guest's pings to `to` give `want` `times` times in a row (after `since`) */
async function waitPings(con: ConsoleLog, to: string, want: 'ok' | 'fail', times: number, timeoutMs: number): Promise<void> {
  const since = await con.mark();
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    await con.poll();
    const r = pings(con, to, since);
    let run = 0;
    for (const x of r) run = x === want ? run + 1 : 0;
    if (run >= times) return;
    if (Date.now() > deadline) throw new Error(`pings to ${to}: wanted ${times} x ${want}, saw ${r.join(',')}\n${con.text().slice(-1500)}\n${logs()}`);
    await sleep(500);
  }
}

describe('tenant networks across two testbed hosts (VXLAN, isolation, security groups, migration)', { skip, timeout: 600_000 }, () => {
  let admin: Clients;
  const ids: Record<string, string> = {};
  const consoles: Record<string, ConsoleLog> = {};
  const hostOf: Record<string, string> = {};
  const A = '10.10.0.10';
  const B = '10.10.0.20';
  const C = '10.10.0.30';
  const v6: Record<string, string> = {};

  before(async () => {
    await ensureGuestBuilt();
    const r = await novalet('up', '--hosts', '2', '--guest-dir', guestDir());
    assert.equal(r.exitCode, 0, `${r.all}\n${logs()}`);
    admin = new Clients({ cloudsYaml: join(dir, 'clouds.yaml') }, 'novalet-admin');
  });

  after(async () => {
    await novalet('down');
    rmSync(parent, { recursive: true, force: true });
  });

  const boot = async (name: string, host: string, port: string, targets: string[]) => {
    const f = join(parent, `${name}.userdata`);
    writeFileSync(f, pinger(targets));
    const s = await admin.os<any>('server', 'create', '--image', 'novalet-guest', '--flavor', 'm1.tiny', '--port', port,
      '--availability-zone', `nova:${host}`, '--user-data', f, name);
    ids[name] = s.id;
    hostOf[name] = host;
  };
  const consoleOf = (name: string) => (consoles[name] ??= new ConsoleLog(join(dir, hostOf[name]!, 'agent', 'instances', ids[name]!, 'console.log')));

  it('two networks with the same CIDR, three ports with fixed IPs, three guests on two hosts', async () => {
    for (const n of ['net-a', 'net-b']) {
      await admin.run('network', 'create', n);
      await admin.run('subnet', 'create', '--network', n, '--subnet-range', '10.10.0.0/24', `${n}-v4`);
    }
    await admin.run('subnet', 'create', '--network', 'net-a', '--ip-version', '6', '--subnet-range', 'fd00:a::/64',
      '--ipv6-ra-mode', 'slaac', '--ipv6-address-mode', 'slaac', 'net-a-v6');
    await admin.run('security', 'group', 'create', 'closed');
    for (const [port, net, ip] of [['pa', 'net-a', A], ['pb', 'net-a', B], ['pc', 'net-b', C]] as const) {
      const six = net === 'net-a' ? ['--fixed-ip', 'subnet=net-a-v6'] : [];
      const p = await admin.os<any>('port', 'create', '--network', net, '--fixed-ip', `subnet=${net}-v4,ip-address=${ip}`, ...six, port);
      const fixed = (p.fixed_ips as Array<{ ip_address: string }>).map((f) => f.ip_address);
      if (six.length) {
        // SLAAC: the port holds the EUI-64 address of its MAC
        v6[port] = fixed.find((a) => a.includes(':'))!;
        const m = (p.mac_address as string).split(':').map((x) => parseInt(x, 16));
        const iid = [m[0]! ^ 2, m[1]!, m[2]!, 0xff, 0xfe, m[3]!, m[4]!, m[5]!];
        const groups = [0, 2, 4, 6].map((i) => ((iid[i]! << 8) | iid[i + 1]!).toString(16));
        assert.equal(v6[port], `fd00:a::${groups.join(':')}`);
      }
    }
    await boot('a', 'h0', 'pa', [B, v6['pb']!]);
    await boot('b', 'h1', 'pb', [A, v6['pa']!]);
    await boot('c', 'h1', 'pc', [A]);
    for (const n of ['a', 'b', 'c']) {
      const s = await admin.waitStatus(n, 'ACTIVE', { timeoutMs: 120_000, context: logs });
      assert.equal(s['OS-EXT-SRV-ATTR:host'], hostOf[n]);
    }
    const ports = await admin.os<Array<Record<string, string>>>('port', 'list', '--long', '-c', 'Name', '-c', 'ID');
    for (const p of ports) ids[p.Name!] = p.ID!;
    const pb = await admin.os<any>('port', 'show', 'pb');
    assert.equal(pb['binding_host_id'] ?? pb['binding:host_id'], 'h1');
  });

  it('A (h0) and B (h1) on one network reach each other through the VXLAN tunnel', async () => {
    await waitPings(consoleOf('a'), B, 'ok', 2, 120_000);
    await waitPings(consoleOf('b'), A, 'ok', 2, 60_000);
    // the tunnel is between the hosts' testbed addresses
    const fdb = await inHost('h0', ['bridge', 'fdb', 'show', 'dev', vxlanName(ids['net-a'] ?? await netId('net-a'))]);
    assert.match(fdb, /00:00:00:00:00:00 dst 10\.77\.0\.2/);
  });

  it('dual-stack: each guest shows its IPv4 and its allocated IPv6 address; A and B ping each other over IPv6', async () => {
    for (const [n, ip4, port] of [['a', A, 'pa'], ['b', B, 'pb']] as const) {
      const con = consoleOf(n);
      await con.waitForHeartbeat((h) => (h.ips['eth0'] ?? []).includes(ip4), { timeoutMs: 90_000 });
      const deadline = Date.now() + 60_000;
      for (;;) {
        await con.poll();
        const last = con.lines.filter((l) => l.includes('NOVALET-ADDR6 ')).at(-1) ?? '';
        if (last.split(/\s+/).includes(v6[port]!)) break;
        if (Date.now() > deadline) throw new Error(`${n} never showed ${v6[port]!}: ${last}\n${logs()}`);
        await sleep(500);
      }
      const s = await admin.os<any>('server', 'show', n);
      assert.match(JSON.stringify(s.addresses), new RegExp(v6[port]!.replace(/:/g, ':')), 'the server view lists its IPv6 address');
    }
    await waitPings(consoleOf('a'), v6['pb']!, 'ok', 2, 60_000);
    await waitPings(consoleOf('b'), v6['pa']!, 'ok', 2, 60_000);
  });

  const netId = async (name: string) => (ids[name] = (await admin.os<any>('network', 'show', name)).id as string);

  it('C on another network with the same CIDR does not reach A', async () => {
    const c = consoleOf('c');
    await c.waitForHeartbeat((h) => (h.ips['eth0'] ?? []).includes(C), { timeoutMs: 90_000 });
    await waitPings(c, A, 'fail', 4, 60_000);
    await c.poll();
    assert.ok(!pings(c, A, 0).includes('ok'), `C reached A: ${pings(c, A, 0).join(',')}`);
  });

  it('B in a group without ingress rules: pings fail; an ICMP ingress rule lets them through, an ICMPv6 one IPv6 pings', async () => {
    await admin.run('port', 'set', '--no-security-group', '--security-group', 'closed', 'pb');
    await waitPings(consoleOf('a'), B, 'fail', 3, 60_000);
    await admin.run('security', 'group', 'rule', 'create', '--ingress', '--protocol', 'icmp', 'closed');
    await waitPings(consoleOf('a'), B, 'ok', 2, 60_000);
    // rules are per family: ICMPv6 stays blocked until a rule of its own
    await waitPings(consoleOf('a'), v6['pb']!, 'fail', 3, 30_000);
    await admin.run('security', 'group', 'rule', 'create', '--ingress', '--ethertype', 'IPv6', '--protocol', 'ipv6-icmp', 'closed');
    await waitPings(consoleOf('a'), v6['pb']!, 'ok', 2, 60_000);
  });

  it('a cold migration of B to h0: the port follows, h1 keeps nothing of network A, A reaches B', async () => {
    await admin.run('--os-compute-api-version', '2.56', 'server', 'migrate', '--host', 'h0', '--wait', 'b');
    await admin.waitStatus('b', 'VERIFY_RESIZE', { timeoutMs: 120_000, context: logs });
    await admin.run('server', 'resize', 'confirm', 'b');
    const s = await admin.waitStatus('b', 'ACTIVE', { timeoutMs: 60_000, context: logs });
    assert.equal(s['OS-EXT-SRV-ATTR:host'], 'h0');
    const pb = await admin.os<any>('port', 'show', 'pb');
    assert.equal(pb['binding_host_id'] ?? pb['binding:host_id'], 'h0');
    const netA = await netId('net-a');
    const netB = await netId('net-b');
    const h1 = await inHost('h1', ['ip', '-o', 'link', 'show']);
    for (const dev of [bridgeName(netA), vxlanName(netA), tapName(pb.id)]) assert.ok(!h1.includes(dev), `${dev} left on h1:\n${h1}`);
    for (const dev of [bridgeName(netB), vxlanName(netB)]) assert.ok(h1.includes(dev), `${dev} (C's network) gone from h1`);
    assert.ok(!existsSync(join(dir, 'h1', 'agent', 'networks', netA)), 'dnsmasq files of network A left on h1');
    const nft = await inHost('h1', ['nft', 'list', 'ruleset']);
    assert.ok(!nft.includes(tapName(pb.id)), `B's port filter left on h1:\n${nft}`);
    const h0 = await inHost('h0', ['ip', '-o', 'link', 'show']);
    assert.ok(h0.includes(tapName(pb.id)), `B's tap on h0:\n${h0}`);
    // C (h1, network B) stays the only remote endpoint h0 could have had; network A has none left
    const fdb = await inHost('h0', ['bridge', 'fdb', 'show', 'dev', vxlanName(netA)]);
    assert.doesNotMatch(fdb, /00:00:00:00:00:00 dst/);
    consoles['b'] = new ConsoleLog(join(dir, 'h0', 'agent', 'instances', ids['b']!, 'console.log'));
    hostOf['b'] = 'h0';
    await waitPings(consoleOf('a'), B, 'ok', 2, 90_000);
    await waitPings(consoleOf('a'), v6['pb']!, 'ok', 2, 60_000);
  });
});
