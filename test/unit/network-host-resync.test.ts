/**
 * A host back from down gets what it missed while away (network/server-ports.ts resyncHost, wired to the host
 * monitor's down -> up transition in compute/index.ts): each tenant network it carries is sent again whole (peers,
 * DHCP entries), its ports' filters again, and a network it still carries without a port there is removed.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { twoHosts } from '../support/two-hosts.js';

const N = '/network/v2.0';

test('a host back from down: its networks\' peers, its ports\' filters and its stale networks are put right', async () => {
  const h = await twoHosts();
  try {
    const net = (await h.req(h.tokens.admin, 'POST', `${N}/networks`, { network: { name: 'rs' } })).json().network.id as string;
    await h.req(h.tokens.admin, 'POST', `${N}/subnets`, { subnet: { network_id: net, cidr: '192.168.71.0/24', ip_version: 4 } });
    await h.boot(h.tokens.admin, 'on-a', { networks: [{ uuid: net }], availability_zone: 'nova:fake-host' });
    const onB = await h.boot(h.tokens.admin, 'on-b', { networks: [{ uuid: net }], availability_zone: 'nova:host-b' });
    const portB = (await h.req(h.tokens.admin, 'GET', `${N}/ports?device_id=${onB}`)).json().ports[0].id as string;
    const specOnB = () => h.driver.networks.get('host-b')?.get(net);
    assert.deepEqual(specOnB()?.peers, ['127.0.0.1'], 'host-b floods to fake-host');
    const monitor = h.app.novalet.compute.hostFailure.monitor;
    await monitor.check();

    // host-b goes away; what it would have missed meanwhile: a peer delta, a filter, the removal of a network
    const force = (down: boolean) => h.req(h.tokens.admin, 'PUT', '/compute/v2.1/os-services/force-down', { host: 'host-b', binary: 'nova-compute', forced_down: down }, '2.11');
    assert.equal((await force(true)).statusCode, 200);
    assert.deepEqual((await monitor.check()).map((c) => `${c.host}:${c.state}`), ['host-b:down']);
    specOnB()!.peers = [];
    h.driver.portSecurity.delete(portB);
    h.driver.networks.get('host-b')!.set('a-network-deleted-meanwhile', { ...specOnB()!, peers: ['127.0.0.9'] });
    const callsBefore = h.driver.calls.length;

    assert.equal((await force(false)).statusCode, 200);
    assert.deepEqual((await monitor.check()).map((c) => `${c.host}:${c.state}:${c.from}`), ['host-b:up:down']);
    for (let i = 0; i < 200 && h.driver.networks.get('host-b')!.has('a-network-deleted-meanwhile'); i++) await sleep(10);
    assert.deepEqual(specOnB()?.peers, ['127.0.0.1'], 'the peers as the store says');
    assert.deepEqual(specOnB()?.dhcpHosts.map((d) => d.portId), [portB]);
    assert.ok(h.driver.portSecurity.get(portB)?.security, 'the port\'s filter sent again');
    assert.deepEqual([...h.driver.networks.get('host-b')!.keys()], [net], 'the stale network removed');
    const calls = h.driver.calls.slice(callsBefore);
    assert.ok(calls.every((c) => c.host === 'host-b'), `only host-b is told: ${JSON.stringify(calls)}`);
    assert.deepEqual(calls.map((c) => c.op).sort(), ['ensure_network', 'port_security', 'remove_network']);
  } finally {
    await h.close();
  }
});
