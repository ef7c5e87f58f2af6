/** The minimal read-only network API and network validation at server create. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHarness, IMAGE_ID } from '../support/harness.js';

const NET = '3cb9bc59-5699-4588-a4b1-b87f96708bc6';

test('networks by name and id; 404 by name (clients then filter ?name=); ports of a server', async () => {
  const h = await createHarness();
  assert.equal((await h.req(null, 'GET', '/network/')).statusCode, 200);
  assert.equal((await h.req(null, 'GET', '/network/v2.0/networks')).statusCode, 401);
  let r = await h.req(h.tokens.demo, 'GET', '/network/v2.0/networks/private');
  assert.equal(r.statusCode, 404);
  assert.equal(r.json().NeutronError.type, 'NetworkNotFound');
  r = await h.req(h.tokens.demo, 'GET', '/network/v2.0/networks?name=private');
  assert.deepEqual(r.json().networks.map((n: { id: string }) => n.id), [NET]);
  assert.equal((await h.req(h.tokens.demo, 'GET', '/network/v2.0/networks?name=nope')).json().networks.length, 0);
  assert.equal((await h.req(h.tokens.demo, 'GET', `/network/v2.0/networks/${NET}`)).json().network.name, 'private');
  const id = await h.boot(h.tokens.demo, 'n1', { networks: [{ uuid: NET }] });
  r = await h.req(h.tokens.demo, 'GET', `/network/v2.0/ports?device_id=${id}`);
  const port = r.json().ports[0];
  const srv = (await h.req(h.tokens.demo, 'GET', `/compute/v2.1/servers/${id}`)).json().server;
  assert.equal(port.fixed_ips[0].ip_address, srv.addresses.private[0].addr);
  assert.equal((await h.req(h.tokens.other, 'GET', `/network/v2.0/ports?device_id=${id}`)).json().ports.length, 0);
  await h.close();
});

test('server create: unknown network 400, none -> no addresses, auto -> default network', async () => {
  const h = await createHarness();
  let r = await h.req(h.tokens.demo, 'POST', '/compute/v2.1/servers', { server: { name: 'x', imageRef: IMAGE_ID, flavorRef: '1', networks: [{ uuid: '11111111-1111-1111-1111-111111111111' }] } });
  assert.equal(r.statusCode, 400);
  assert.equal(r.json().badRequest.message, 'Network 11111111-1111-1111-1111-111111111111 could not be found.');
  const none = await h.boot(h.tokens.demo, 'none', { networks: 'none' }).catch(() => null);
  assert.equal(none, null, 'networks "none" needs 2.37');
  r = await h.req(h.tokens.demo, 'POST', '/compute/v2.1/servers', { server: { name: 'none', imageRef: IMAGE_ID, flavorRef: '1', networks: 'none' } }, '2.37');
  assert.equal(r.statusCode, 202);
  await h.idle();
  assert.deepEqual((await h.req(h.tokens.demo, 'GET', `/compute/v2.1/servers/${r.json().server.id}`)).json().server.addresses, {});
  r = await h.req(h.tokens.demo, 'POST', '/compute/v2.1/servers', { server: { name: 'auto', imageRef: IMAGE_ID, flavorRef: '1', networks: 'auto' } }, '2.37');
  await h.idle();
  assert.equal(Object.keys((await h.req(h.tokens.demo, 'GET', `/compute/v2.1/servers/${r.json().server.id}`)).json().server.addresses)[0], 'private');
  await h.close();
});

test('placeholders: volume discovery/limits/quotas, network quotas, os-migrations (admin), 415 for non-JSON', async () => {
  const h = await createHarness();
  assert.equal((await h.req(null, 'GET', '/volume/')).statusCode, 300);
  assert.equal((await h.req(h.tokens.demo, 'GET', `/volume/v3/${h.ids.demoProject}/limits`)).json().limits.absolute.maxTotalVolumes, 10);
  assert.equal((await h.req(h.tokens.demo, 'GET', `/volume/v3/${h.ids.demoProject}/volumes/detail`)).json().volumes.length, 0);
  assert.equal((await h.req(h.tokens.demo, 'GET', `/network/v2.0/quotas/${h.ids.demoProject}`)).json().quota.network, 100, "Neutron's default");
  assert.equal((await h.req(h.tokens.demo, 'GET', '/compute/v2.1/os-migrations')).statusCode, 403);
  assert.deepEqual((await h.req(h.tokens.admin, 'GET', '/compute/v2.1/os-migrations')).json(), { migrations: [] });
  const r = await h.app.inject({ method: 'POST', url: '/compute/v2.1/servers', headers: { 'x-auth-token': h.tokens.demo, 'content-type': 'text/plain' }, payload: 'x' });
  assert.equal(r.statusCode, 415);
  assert.equal(r.json().badMediaType.code, 415);
  await h.close();
});

test("security groups: each project's default group, by name and id; create with its id shows 'default'", async () => {
  const h = await createHarness();
  let r = await h.req(h.tokens.demo, 'GET', '/network/v2.0/security-groups?name=default');
  const groups = r.json().security_groups;
  assert.equal(groups.length, 1);
  assert.equal(groups[0].project_id, h.ids.demoProject);
  const sg = groups[0].id as string;
  assert.equal((await h.req(h.tokens.demo, 'GET', `/network/v2.0/security-groups/${sg}`)).json().security_group.name, 'default');
  // by name the way clients try first: 404, then ?name=
  r = await h.req(h.tokens.demo, 'GET', '/network/v2.0/security-groups/default');
  assert.equal(r.statusCode, 404);
  assert.equal(r.json().NeutronError.type, 'SecurityGroupNotFound');
  assert.equal((await h.req(h.tokens.demo, 'GET', '/network/v2.0/security-groups?name=web')).json().security_groups.length, 0);
  // another project has its own default group and cannot see demo's
  const others = (await h.req(h.tokens.other, 'GET', '/network/v2.0/security-groups')).json().security_groups;
  assert.equal(others.length, 1);
  assert.notEqual(others[0].id, sg);
  assert.equal((await h.req(h.tokens.other, 'GET', `/network/v2.0/security-groups/${sg}`)).statusCode, 404);
  assert.equal((await h.req(h.tokens.admin, 'GET', '/network/v2.0/security-groups?name=default')).json().security_groups.length, 3);
  // openstack server create --security-group default sends the group's id
  const id = await h.boot(h.tokens.demo, 'sg1', { security_groups: [{ name: sg }] });
  assert.deepEqual((await h.req(h.tokens.demo, 'GET', `/compute/v2.1/servers/${id}`)).json().server.security_groups, [{ name: 'default' }]);
  await h.close();
});
