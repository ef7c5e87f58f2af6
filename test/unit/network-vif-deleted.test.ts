/**
 * A port a server uses, deleted through the network API (Neutron allows it; Nova gets network-vif-deleted and
 * detaches the interface): 204 at once, the NIC leaves the guest and the host, the server's addresses follow, the
 * host drops the network when it was its last port there.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { createHarness, type Harness } from '../support/harness.js';

const N = '/network/v2.0';
const C = '/compute/v2.1';

async function tenantNet(h: Harness, name: string, cidr: string) {
  const net = (await h.req(h.tokens.demo, 'POST', `${N}/networks`, { network: { name } })).json().network;
  await h.req(h.tokens.demo, 'POST', `${N}/subnets`, { subnet: { network_id: net.id, cidr, ip_version: 4 } });
  return net as { id: string };
}

async function until(what: string, fn: () => boolean | Promise<boolean>, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await fn())) {
    if (Date.now() > deadline) throw new Error(`timed out: ${what}`);
    await sleep(20);
  }
}

test('deleting an attached port in the network API detaches it from the server, its guest and its host', async () => {
  const h = await createHarness();
  h.driver.on('spawn', async (c) => { h.driver.guests.set(c.serverId, { host: c.host, power: 'running' }); return { power: 'running' }; });
  const a = await tenantNet(h, 'tn-a', '192.168.60.0/29');
  const b = await tenantNet(h, 'tn-b', '192.168.61.0/29');
  const id = await h.boot(h.tokens.demo, 'v1', { networks: [{ uuid: a.id }] });
  const port = (await h.req(h.tokens.demo, 'POST', `${N}/ports`, { port: { network_id: b.id, name: 'extra' } })).json().port;
  let r = await h.req(h.tokens.demo, 'POST', `${C}/servers/${id}/os-interface`, { interfaceAttachment: { port_id: port.id } });
  assert.equal(r.statusCode, 200, r.body);
  const host = (await h.store.getServer(id))!.host!;
  assert.ok(h.driver.networks.get(host)!.has(b.id), 'the host carries network B');
  const rev = (await h.store.getServer(id))!.revision;
  const detached: Array<[string, string]> = [];
  h.driver.on('detach_nic', async (c) => { detached.push([c.serverId, (c.params as { portId: string }).portId]); return {}; });

  r = await h.req(h.tokens.demo, 'DELETE', `${N}/ports/${port.id}`);
  assert.equal(r.statusCode, 204);
  assert.equal((await h.req(h.tokens.demo, 'GET', `${N}/ports/${port.id}`)).statusCode, 404);
  await until('detach_nic on the host', () => h.driver.calls.some((c) => c.op === 'detach_nic'));
  await h.idle();
  assert.deepEqual(detached, [[id, port.id]]);
  const s = (await h.req(h.tokens.demo, 'GET', `${C}/servers/${id}`)).json().server;
  assert.deepEqual(Object.keys(s.addresses), ['tn-a']);
  assert.equal(s.status, 'ACTIVE');
  assert.ok((await h.store.getServer(id))!.revision > rev, 'the server revision rises');
  const ifaces = (await h.req(h.tokens.demo, 'GET', `${C}/servers/${id}/os-interface`)).json().interfaceAttachments;
  assert.deepEqual(ifaces.map((i: { net_id: string }) => i.net_id), [a.id]);
  assert.ok(!h.driver.networks.get(host)!.has(b.id), 'network B left the host with its last port');
  assert.ok(h.driver.networks.get(host)!.has(a.id));
  const actions = (await h.req(h.tokens.demo, 'GET', `${C}/servers/${id}/os-instance-actions`)).json().instanceActions.map((x: { action: string }) => x.action);
  assert.ok(actions.includes('detach_interface'), actions.join(','));
  await h.close();
});

test('a server busy with another task gets the detach once that task is done', async () => {
  const h = await createHarness();
  h.driver.on('spawn', async (c) => { h.driver.guests.set(c.serverId, { host: c.host, power: 'running' }); return { power: 'running' }; });
  const a = await tenantNet(h, 'tn-a', '192.168.60.0/29');
  const id = await h.boot(h.tokens.demo, 'v2', { networks: [{ uuid: a.id }] });
  const [p] = (await h.req(h.tokens.admin, 'GET', `${N}/ports?device_id=${id}`)).json().ports as Array<{ id: string }>;
  // a stop that takes a while
  let release!: () => void;
  const held = new Promise<void>((res) => { release = res; });
  h.driver.on('stop', async () => { await held; return { power: 'shutdown' }; });
  assert.equal((await h.req(h.tokens.demo, 'POST', `${C}/servers/${id}/action`, { 'os-stop': null })).statusCode, 202);
  await until('stop running', () => h.driver.calls.some((c) => c.op === 'stop'));
  assert.equal((await h.req(h.tokens.demo, 'DELETE', `${N}/ports/${p!.id}`)).statusCode, 204);
  await sleep(100);
  assert.ok(!h.driver.calls.some((c) => c.op === 'detach_nic'), 'not while the stop runs');
  release();
  await until('detach_nic after the stop', () => h.driver.calls.some((c) => c.op === 'detach_nic'), 10_000);
  await h.idle();
  assert.deepEqual((await h.req(h.tokens.demo, 'GET', `${C}/servers/${id}`)).json().server.addresses, {});
  await h.close();
});
