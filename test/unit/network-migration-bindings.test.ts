/**
 * A server's ports follow it between hosts (tasks/defs/host-networks.ts moveBindings): binding:host_id, the
 * target's network spec with the ports' DHCP entries, the source dropping the network once no port of it is bound
 * there (at once after a live migration, at the confirm of a cold one), revert binding them back.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Harness } from '../support/harness.js';
import { otherHost, twoHosts } from '../support/two-hosts.js';

const S = '/compute/v2.1/servers';
const N = '/network/v2.0';
const act = (h: Harness, id: string, body: unknown, version: string) => h.req(h.tokens.admin, 'POST', `${S}/${id}/action`, body, version);
const hostOf = async (h: Harness, id: string) => (await h.req(h.tokens.admin, 'GET', `${S}/${id}`, undefined, '2.47')).json().server['OS-EXT-SRV-ATTR:host'] as string;
const other = otherHost;

async function setup() {
  const h = await twoHosts();
  const net = (await h.req(h.tokens.demo, 'POST', `${N}/networks`, { network: { name: 'mv' } })).json().network;
  await h.req(h.tokens.demo, 'POST', `${N}/subnets`, { subnet: { network_id: net.id, cidr: '192.168.70.0/24', ip_version: 4 } });
  const id = await h.boot(h.tokens.demo, 'mv1', { networks: [{ uuid: net.id }] });
  const port = (await h.req(h.tokens.admin, 'GET', `${N}/ports?device_id=${id}`)).json().ports[0];
  return { h, net: net.id as string, id, port };
}
const binding = async (h: Harness, portId: string) => (await h.req(h.tokens.admin, 'GET', `${N}/ports/${portId}`)).json().port['binding:host_id'] as string;
const carries = (h: Harness, host: string, net: string) => h.driver.networks.get(host)?.get(net);

test('cold migration: the port is bound to the target with its DHCP entry there; confirm drops the source network', async () => {
  const { h, net, id, port } = await setup();
  const source = await hostOf(h, id);
  const target = other(source);
  assert.equal(await binding(h, port.id), source);
  assert.equal((await act(h, id, { migrate: { host: target } }, '2.56')).statusCode, 202);
  await h.idle();
  assert.equal(await hostOf(h, id), target);
  assert.equal(await binding(h, port.id), target);
  assert.deepEqual(carries(h, target, net)?.dhcpHosts.map((d) => d.portId), [port.id]);
  assert.deepEqual(carries(h, target, net)?.peers, []);
  assert.equal((await act(h, id, { confirmResize: null }, '2.56')).statusCode, 204);
  await h.idle();
  assert.equal(carries(h, source, net), undefined, 'the source no longer carries the network');
  await h.close();
});

test('cold migration reverted: the port is the source\'s again, the target drops the network', async () => {
  const { h, net, id, port } = await setup();
  const source = await hostOf(h, id);
  const target = other(source);
  assert.equal((await act(h, id, { migrate: { host: target } }, '2.56')).statusCode, 202);
  await h.idle();
  assert.equal((await act(h, id, { revertResize: null }, '2.56')).statusCode, 202);
  await h.idle();
  assert.equal(await hostOf(h, id), source);
  assert.equal(await binding(h, port.id), source);
  assert.deepEqual(carries(h, source, net)?.dhcpHosts.map((d) => d.portId), [port.id]);
  assert.equal(carries(h, target, net), undefined);
  await h.close();
});

test('live migration: the port is bound to the destination at the end, the source drops the network', async () => {
  const { h, net, id, port } = await setup();
  const source = await hostOf(h, id);
  const target = other(source);
  const r = await act(h, id, { 'os-migrateLive': { host: target, block_migration: 'auto' } }, '2.30');
  assert.equal(r.statusCode, 202, r.body);
  await h.idle();
  assert.equal(await hostOf(h, id), target);
  assert.equal(await binding(h, port.id), target);
  assert.deepEqual(carries(h, target, net)?.dhcpHosts.map((d) => d.portId), [port.id]);
  assert.equal(carries(h, source, net), undefined);
  await h.close();
});
