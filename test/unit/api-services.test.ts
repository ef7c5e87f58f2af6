/** os-services and os-hypervisors from the host registry; evacuation honours the host's state. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHarness } from '../support/harness.js';

const C = '/compute/v2.1';

test('os-services: list (int ids < 2.53, uuids from 2.53, forced_down from 2.11), admin only, updates', async () => {
  const h = await createHarness();
  assert.equal((await h.req(h.tokens.demo, 'GET', `${C}/os-services`)).statusCode, 403);
  let r = await h.req(h.tokens.admin, 'GET', `${C}/os-services`);
  const s = r.json().services[0];
  assert.deepEqual({ id: s.id, binary: s.binary, host: s.host, state: s.state, status: s.status, forced_down: s.forced_down }, { id: 1, binary: 'nova-compute', host: 'fake-host', state: 'up', status: 'enabled', forced_down: undefined });
  r = await h.req(h.tokens.admin, 'GET', `${C}/os-services`, undefined, '2.53');
  const uuid = r.json().services[0].id;
  assert.match(uuid, /^[0-9a-f-]{36}$/);
  assert.equal(r.json().services[0].forced_down, false);
  r = await h.req(h.tokens.admin, 'PUT', `${C}/os-services/${uuid}`, { status: 'disabled', disabled_reason: 'maint' }, '2.53');
  assert.equal(r.json().service.status, 'disabled');
  assert.equal(r.json().service.disabled_reason, 'maint');
  r = await h.req(h.tokens.admin, 'PUT', `${C}/os-services/force-down`, { host: 'fake-host', binary: 'nova-compute', forced_down: true }, '2.11');
  assert.equal(r.statusCode, 200);
  r = await h.req(h.tokens.admin, 'GET', `${C}/os-services`, undefined, '2.11');
  assert.equal(r.json().services[0].state, 'down');
  assert.equal(r.json().services[0].forced_down, true);
  assert.equal((await h.req(h.tokens.admin, 'PUT', `${C}/os-services/enable`, { host: 'fake-host', binary: 'nova-compute' })).json().service.status, 'enabled');
  assert.equal((await h.req(h.tokens.admin, 'PUT', `${C}/os-services/enable`, { host: 'nope', binary: 'nova-compute' })).statusCode, 404);
  await h.close();
});

test('os-hypervisors: list, detail with usage, show; 2.88 drops resource fields', async () => {
  const h = await createHarness();
  await h.boot(h.tokens.demo);
  let r = await h.req(h.tokens.admin, 'GET', `${C}/os-hypervisors/detail`);
  const hv = r.json().hypervisors[0];
  assert.equal(hv.hypervisor_hostname, 'fake-host');
  assert.equal(hv.vcpus, 8);
  assert.equal(hv.vcpus_used, 1);
  assert.equal(hv.running_vms, 1);
  r = await h.req(h.tokens.admin, 'GET', `${C}/os-hypervisors/1`);
  assert.equal(r.json().hypervisor.memory_mb_used, 128);
  r = await h.req(h.tokens.admin, 'GET', `${C}/os-hypervisors/detail`, undefined, '2.88');
  assert.equal(r.json().hypervisors[0].vcpus, undefined);
  assert.equal((await h.req(h.tokens.demo, 'GET', `${C}/os-hypervisors`)).statusCode, 403);
  assert.equal((await h.req(h.tokens.admin, 'GET', `${C}/os-hypervisors/statistics`)).json().hypervisor_statistics.running_vms, 1);
  assert.match((await h.req(h.tokens.admin, 'GET', `${C}/os-hypervisors/1/uptime`)).json().hypervisor.uptime, /up unknown/);
  assert.deepEqual((await h.req(h.tokens.admin, 'GET', `${C}/os-aggregates`)).json(), { aggregates: [] });
  await h.close();
});

test('evacuate: refused while the host is up; from a forced-down host with no other host: accepted, then ERROR (Nova schedules it after the answer)', async () => {
  const h = await createHarness();
  const id = await h.boot(h.tokens.demo);
  let r = await h.req(h.tokens.admin, 'POST', `${C}/servers/${id}/action`, { evacuate: {} }, '2.14');
  assert.equal(r.json().badRequest.message, 'Compute service of fake-host is still in use.');
  await h.app.novalet.compute.hosts.update('fake-host', { forcedDown: true });
  r = await h.req(h.tokens.admin, 'POST', `${C}/servers/${id}/action`, { evacuate: {} }, '2.14');
  assert.equal(r.statusCode, 200, r.body);
  await h.idle();
  const s = (await h.req(h.tokens.admin, 'GET', `${C}/servers/${id}`, undefined, '2.47')).json().server;
  assert.equal(s.status, 'ERROR');
  assert.match(s.fault.message, /^No valid host was found/);
  assert.equal(s['OS-EXT-SRV-ATTR:host'], 'fake-host');
  const [m] = await h.store.listMigrations({ serverId: id });
  assert.equal(m!.status, 'error');
  assert.equal(m!.migrationType, 'evacuation');
  await h.close();
});

test('host_status (2.16, admin): UP, MAINTENANCE when the service is disabled, DOWN when forced down or silent', async () => {
  const h = await createHarness();
  const id = await h.boot(h.tokens.demo);
  const hostStatus = async () => { const r = await h.req(h.tokens.admin, 'GET', `${C}/servers/${id}`, undefined, '2.16'); assert.equal(r.statusCode, 200, r.body); return r.json().server.host_status; };
  assert.equal(await hostStatus(), 'UP');
  const uuid = (await h.req(h.tokens.admin, 'GET', `${C}/os-services`, undefined, '2.53')).json().services[0].id;
  await h.req(h.tokens.admin, 'PUT', `${C}/os-services/${uuid}`, { status: 'disabled', disabled_reason: 'maint' }, '2.53');
  assert.equal(await hostStatus(), 'MAINTENANCE');
  const list = (await h.req(h.tokens.admin, 'GET', `${C}/servers/detail?all_tenants=1`, undefined, '2.16')).json().servers;
  assert.equal(list[0].host_status, 'MAINTENANCE');
  await h.req(h.tokens.admin, 'PUT', `${C}/os-services/${uuid}`, { forced_down: true }, '2.53');
  assert.equal(await hostStatus(), 'DOWN');
  await h.req(h.tokens.admin, 'PUT', `${C}/os-services/${uuid}`, { forced_down: false, status: 'enabled' }, '2.53');
  assert.equal(await hostStatus(), 'UP');
  // no heartbeat for longer than service_down_time
  await h.app.novalet.compute.hosts.heartbeat('fake-host', { vcpus: 8, memoryMb: 16384, diskGb: 100 }, new Date(Date.now() - 3600_000));
  assert.equal(await hostStatus(), 'DOWN');
  await h.close();
});
