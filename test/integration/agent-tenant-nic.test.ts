/**
 * A tenant NIC through the real agent process on the root libvirtd: the controller's calls as they will be made
 * (PUT /v1/networks, spawn with `{type: 'tenant'}`, port security, destroy, DELETE), the guest's tap named from its
 * port on the network's bridge, the guest getting exactly its address from the agent's dnsmasq through its port
 * filter, and nothing of the network left afterwards. (Cross-host traffic: agent-tenant-networks.test.ts.)
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes, randomInt } from 'node:crypto';
import { chmodSync, readdirSync, readFileSync } from 'node:fs';
import { bridgeName, tapName, vxlanName } from '../../src/agent/network/names.js';
import { RpcError } from '../../src/rpc/client.js';
import type { NetworkSpec } from '../../src/rpc/protocol/networks.js';
import { ConsoleLog } from '../support/guest.js';
import { isRoot } from '../support/virsh.js';
import { randomUUID, suiteAgent, until } from './agent-process.js';

const haveTools = ['nft', 'dnsmasq'].every((t) => spawnSync('sh', ['-c', `command -v ${t}`]).status === 0);
const linkExists = (name: string): boolean => spawnSync('ip', ['link', 'show', 'dev', name], { stdio: 'ignore' }).status === 0;
const nftHas = (what: string[]): boolean => spawnSync('nft', ['list', ...what], { stdio: 'ignore' }).status === 0;

describe('agent on real libvirt: a NIC on a tenant network', { skip: (!isRoot() && 'needs root (libvirtd + QEMU)') || (!haveTools && 'needs nft and dnsmasq') }, () => {
  const uuid = randomUUID();
  const net = randomUUID();
  const port = randomUUID();
  const tag = randomBytes(3).toString('hex');
  const mac = `fa:16:3e:${tag.slice(0, 2)}:${tag.slice(2, 4)}:${tag.slice(4, 6)}`;
  const o3 = randomInt(1, 250);
  const ip = `10.79.${o3}.20`;
  const agent = suiteAgent([uuid], {
    // dnsmasq reads the agent's data dir as `nobody`
    async setup(a) { chmodSync(a.dir, 0o755); },
    async teardown() {
      // whatever a failed test left: the agent is stopped, so remove by name
      for (const l of [vxlanName(net), bridgeName(net)]) spawnSync('ip', ['link', 'del', l], { stdio: 'ignore' });
      for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
        try { if (readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(agent.dir)) process.kill(Number(pid), 'SIGKILL'); } catch { /* gone */ }
      }
    },
  });
  const spec: NetworkSpec = {
    requestId: 'req-net-it-1', type: 'vxlan', vni: randomInt(1000, 900_000), mtu: 1450, peers: [],
    subnets: [{ id: 'sub', cidr: `10.79.${o3}.0/24`, ipVersion: 4, gatewayIp: `10.79.${o3}.1`, enableDhcp: true, dnsNameservers: [], hostRoutes: [] }],
    dhcpHosts: [{ portId: port, mac, ips: [{ subnetId: 'sub', address: ip }] }],
  };
  const nic = {
    portId: port, mac, attachment: { type: 'tenant' as const, network: net }, ips: [{ subnetId: 'sub', address: ip }], mtu: 1450,
    security: { rules: [{ direction: 'egress' as const, ethertype: 'IPv4' as const, protocol: null, portRangeMin: null, portRangeMax: null, remotePrefixes: [] }], allowedAddresses: [ip] },
  };

  it('a spawn on a network not given to the host is refused with 409 invalid_state', async () => {
    await assert.rejects(() => agent.client.submit('spawn', uuid, { spec: agent.guestSpec(uuid, { nics: [nic] }) }),
      (e: unknown) => e instanceof RpcError && e.code === 'invalid_state' && e.status === 409);
  });

  it('after PUT the guest boots on the bridge with its tap, filtered, and gets exactly its address by DHCP', async () => {
    const { network } = await agent.client.putNetwork(net, spec);
    assert.equal(network.bridge, bridgeName(net));
    assert.equal((await agent.client.inventory()).tunnelIp, '127.0.0.1');
    const op = await agent.waitOp((await agent.client.submit('spawn', uuid, { spec: agent.guestSpec(uuid, { nics: [nic] }) })).operation);
    assert.equal(op.state, 'succeeded', `${JSON.stringify(op.error)}\n${agent.log.slice(-2000)}`);
    const link = execFileSync('ip', ['-o', 'link', 'show', 'dev', tapName(port)], { encoding: 'utf8' });
    assert.match(link, new RegExp(`mtu 1450 .*master ${bridgeName(net)}`));
    assert.ok(nftHas(['chain', 'inet', 'novalet', `ingress_${tapName(port)}`]), 'no ingress chain for the tap');
    const hb = await new ConsoleLog(agent.consoleLog(uuid)).waitForHeartbeat((h) => (h.ips['eth0'] ?? []).length > 0, { timeoutMs: 120_000 });
    assert.deepEqual(hb.ips['eth0'], [ip]);
    assert.deepEqual((await agent.client.listNetworks()).networks.map((n) => n.ports), [[port]]);
  });

  it('attach_nic hot-plugs a second tenant port (tap, filter, DHCP in the guest); detach_nic removes tap and filter', async () => {
    const port2 = randomUUID();
    const mac2 = `fa:16:3e:${tag.slice(0, 2)}:${tag.slice(2, 4)}:${((parseInt(tag.slice(4, 6), 16) + 1) % 256).toString(16).padStart(2, '0')}`;
    const ip2 = `10.79.${o3}.21`;
    await agent.client.putNetwork(net, { ...spec, requestId: 'req-net-it-2', dhcpHosts: [...spec.dhcpHosts, { portId: port2, mac: mac2, ips: [{ subnetId: 'sub', address: ip2 }] }] });
    const con = new ConsoleLog(agent.consoleLog(uuid));
    const since = await con.mark();
    const nic2 = { ...nic, portId: port2, mac: mac2, ips: [{ subnetId: 'sub', address: ip2 }], security: { ...nic.security, allowedAddresses: [ip2] } };
    const op = await agent.waitOp((await agent.client.submit('attach_nic', uuid, { nic: nic2 })).operation);
    assert.equal(op.state, 'succeeded', JSON.stringify(op.error));
    assert.ok(linkExists(tapName(port2)), 'no tap for the hot-plugged port');
    assert.ok(nftHas(['chain', 'bridge', 'novalet', `spoof_${tapName(port2)}`]), 'no anti-spoofing chain for the hot-plugged port');
    const hb = await con.waitForHeartbeat((h) => (h.ips['eth1'] ?? []).length > 0, { since, timeoutMs: 120_000 });
    assert.deepEqual(hb.ips['eth1'], [ip2]);
    const det = await agent.waitOp((await agent.client.submit('detach_nic', uuid, { portId: port2 })).operation);
    assert.equal(det.state, 'succeeded', JSON.stringify(det.error));
    await until('tap gone', async () => !linkExists(tapName(port2)));
    assert.equal(nftHas(['chain', 'bridge', 'novalet', `spoof_${tapName(port2)}`]), false);
  });

  it('the network cannot be deleted while the NIC is on it; port security off removes the filter', async () => {
    await assert.rejects(() => agent.client.deleteNetwork(net), (e: unknown) => e instanceof RpcError && e.code === 'network_in_use' && e.status === 409);
    await agent.client.putPortSecurity(port, null);
    assert.equal(nftHas(['chain', 'inet', 'novalet', `ingress_${tapName(port)}`]), false);
  });

  it('destroy and DELETE leave no tap, bridge, VXLAN device, nftables table or dnsmasq', async () => {
    const op = await agent.waitOp((await agent.client.submit('destroy', uuid, {})).operation);
    assert.equal(op.state, 'succeeded', JSON.stringify(op.error));
    await agent.client.deleteNetwork(net);
    for (const l of [tapName(port), bridgeName(net), vxlanName(net)]) assert.equal(linkExists(l), false, `${l} left`);
    assert.equal(nftHas(['table', 'inet', 'novalet']), false, 'inet novalet left');
    assert.equal(nftHas(['table', 'bridge', 'novalet']), false, 'bridge novalet left');
    const left = readdirSync('/proc').filter((p) => /^\d+$/.test(p)).filter((p) => {
      try { return readFileSync(`/proc/${p}/cmdline`, 'utf8').startsWith('dnsmasq') && readFileSync(`/proc/${p}/cmdline`, 'utf8').includes(agent.dir); } catch { return false; }
    });
    assert.deepEqual(left, []);
  });
});
