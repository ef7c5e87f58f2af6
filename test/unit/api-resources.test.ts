/** Flavors, keypairs, availability zones, limits and quota enforcement. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { createHarness } from '../support/harness.js';
import { opensshPublicKey } from '../../src/controller/compute/keypairs.js';

const C = '/compute/v2.1';

test('flavors: list, detail with is_public=None, show, 404 by name, admin create/delete, extra specs', async () => {
  const h = await createHarness();
  let r = await h.req(h.tokens.demo, 'GET', `${C}/flavors`);
  assert.deepEqual(r.json().flavors.map((f: { id: string }) => f.id), ['1', '2', '3', '4']);
  r = await h.req(h.tokens.demo, 'GET', `${C}/flavors/detail?is_public=None`, undefined, '2.61');
  const tiny = r.json().flavors[0];
  assert.equal(tiny.name, 'm1.tiny');
  assert.deepEqual(tiny.extra_specs, {});
  assert.equal(tiny['os-flavor-access:is_public'], true);
  assert.equal((await h.req(h.tokens.demo, 'GET', `${C}/flavors/detail`)).json().flavors[0].swap, '');
  assert.equal((await h.req(h.tokens.demo, 'GET', `${C}/flavors/detail`, undefined, '2.75')).json().flavors[0].swap, 0);
  r = await h.req(h.tokens.demo, 'GET', `${C}/flavors/m1.tiny`);
  assert.deepEqual(r.json(), { itemNotFound: { code: 404, message: 'Flavor m1.tiny could not be found.' } });
  r = await h.req(h.tokens.admin, 'POST', `${C}/flavors`, { flavor: { name: 'priv', ram: 64, vcpus: 1, disk: 0, id: 'p1', 'os-flavor-access:is_public': false } });
  assert.equal(r.statusCode, 200);
  assert.equal(r.json().flavor.id, 'p1');
  assert.equal((await h.req(h.tokens.admin, 'POST', `${C}/flavors`, { flavor: { name: 'priv', ram: 64, vcpus: 1, disk: 0 } })).statusCode, 409);
  assert.equal((await h.req(h.tokens.admin, 'POST', `${C}/flavors`, { flavor: { name: 'neg', ram: -1, vcpus: 1, disk: 0 } })).statusCode, 400);
  // private flavor: admins see it with is_public=None, members never
  assert.ok((await h.req(h.tokens.admin, 'GET', `${C}/flavors?is_public=None`)).json().flavors.some((f: { id: string }) => f.id === 'p1'));
  assert.ok(!(await h.req(h.tokens.admin, 'GET', `${C}/flavors`)).json().flavors.some((f: { id: string }) => f.id === 'p1'));
  assert.ok(!(await h.req(h.tokens.demo, 'GET', `${C}/flavors?is_public=None`)).json().flavors.some((f: { id: string }) => f.id === 'p1'));
  r = await h.req(h.tokens.admin, 'POST', `${C}/flavors/p1/os-extra_specs`, { extra_specs: { 'hw:cpu_policy': 'dedicated' } });
  assert.deepEqual(r.json(), { extra_specs: { 'hw:cpu_policy': 'dedicated' } });
  assert.equal((await h.req(h.tokens.demo, 'POST', `${C}/flavors/p1/os-extra_specs`, { extra_specs: { a: 'b' } })).statusCode, 403);
  assert.deepEqual((await h.req(h.tokens.demo, 'GET', `${C}/flavors/p1/os-extra_specs/hw:cpu_policy`)).json(), { 'hw:cpu_policy': 'dedicated' });
  assert.equal((await h.req(h.tokens.admin, 'DELETE', `${C}/flavors/p1/os-extra_specs/hw:cpu_policy`)).statusCode, 202);
  assert.equal((await h.req(h.tokens.demo, 'DELETE', `${C}/flavors/p1`)).statusCode, 403);
  assert.equal((await h.req(h.tokens.admin, 'DELETE', `${C}/flavors/p1`)).statusCode, 202);
  assert.equal((await h.req(h.tokens.admin, 'GET', `${C}/flavors/p1`)).statusCode, 404);
  await h.close();
});

test('keypairs: generate (rsa, ed25519), import with Nova fingerprint, list, show, delete, 2.92 import-only', async () => {
  const h = await createHarness();
  let r = await h.req(h.tokens.demo, 'POST', `${C}/os-keypairs`, { keypair: { name: 'gen' } });
  assert.equal(r.statusCode, 200);
  assert.match(r.json().keypair.public_key, /^ssh-rsa AAAA/);
  assert.match(r.json().keypair.private_key, /BEGIN RSA PRIVATE KEY/);
  assert.match(r.json().keypair.fingerprint, /^([0-9a-f]{2}:){15}[0-9a-f]{2}$/);
  const kp = generateKeyPairSync('ed25519');
  const pub = opensshPublicKey(kp.publicKey, 'me@host');
  r = await h.req(h.tokens.demo, 'POST', `${C}/os-keypairs`, { keypair: { name: 'mykey', public_key: pub, type: 'ssh' } }, '2.92');
  assert.equal(r.statusCode, 201);
  assert.equal(r.json().keypair.type, 'ssh');
  assert.equal(r.json().keypair.private_key, undefined);
  assert.equal((await h.req(h.tokens.demo, 'POST', `${C}/os-keypairs`, { keypair: { name: 'x' } }, '2.92')).statusCode, 400);
  assert.equal((await h.req(h.tokens.demo, 'POST', `${C}/os-keypairs`, { keypair: { name: 'bad', public_key: 'ssh-rsa notbase64!' } })).statusCode, 400);
  assert.equal((await h.req(h.tokens.demo, 'POST', `${C}/os-keypairs`, { keypair: { name: 'mykey', public_key: pub } })).statusCode, 409);
  assert.equal((await h.req(h.tokens.demo, 'POST', `${C}/os-keypairs`, { keypair: { name: 'bad/name', public_key: pub } })).statusCode, 400);
  r = await h.req(h.tokens.demo, 'GET', `${C}/os-keypairs`, undefined, '2.2');
  assert.deepEqual(r.json().keypairs.map((k: { keypair: { name: string } }) => k.keypair.name), ['gen', 'mykey']);
  assert.equal((await h.req(h.tokens.other, 'GET', `${C}/os-keypairs`)).json().keypairs.length, 0);
  r = await h.req(h.tokens.demo, 'GET', `${C}/os-keypairs/mykey`);
  assert.equal(r.json().keypair.public_key, pub);
  assert.equal((await h.req(h.tokens.other, 'GET', `${C}/os-keypairs/mykey`)).statusCode, 404);
  // the key is usable at create and shows in the server
  r = await h.req(h.tokens.demo, 'POST', `${C}/servers`, { server: { name: 'k', imageRef: '70a599e0-31e7-49b7-b260-868f441e862b', flavorRef: '1', key_name: 'mykey' } });
  assert.equal(r.statusCode, 202);
  assert.equal((await h.req(h.tokens.demo, 'DELETE', `${C}/os-keypairs/gen`, undefined, '2.2')).statusCode, 204);
  assert.equal((await h.req(h.tokens.demo, 'DELETE', `${C}/os-keypairs/gen`)).statusCode, 404);
  r = await h.req(h.tokens.demo, 'POST', `${C}/os-keypairs`, { keypair: { name: 'ed', key_type: 'ed25519' } });
  assert.match(r.json().keypair.public_key, /^ssh-ed25519 /);
  await h.close();
});

test('availability zones, limits, quota sets and enforcement on create', async () => {
  const h = await createHarness();
  let r = await h.req(h.tokens.demo, 'GET', `${C}/os-availability-zone`);
  assert.deepEqual(r.json(), { availabilityZoneInfo: [{ zoneName: 'nova', zoneState: { available: true }, hosts: null }] });
  assert.equal((await h.req(h.tokens.demo, 'GET', `${C}/os-availability-zone/detail`)).statusCode, 403);
  assert.equal((await h.req(h.tokens.admin, 'PUT', `${C}/os-quota-sets/${h.ids.demoProject}`, { quota_set: { instances: 2 } })).statusCode, 200);
  assert.equal((await h.req(h.tokens.demo, 'PUT', `${C}/os-quota-sets/${h.ids.demoProject}`, { quota_set: { instances: 200 } })).statusCode, 403);
  assert.equal((await h.req(h.tokens.demo, 'GET', `${C}/os-quota-sets/${h.ids.demoProject}`)).json().quota_set.instances, 2);
  assert.equal((await h.req(h.tokens.demo, 'GET', `${C}/os-quota-sets/${h.ids.otherProject}`)).statusCode, 403);
  await h.boot(h.tokens.demo, 'q1');
  r = await h.req(h.tokens.demo, 'POST', `${C}/servers`, { server: { name: 'q', imageRef: '70a599e0-31e7-49b7-b260-868f441e862b', flavorRef: '1', min_count: 2 } });
  assert.equal(r.statusCode, 403);
  assert.equal(r.json().forbidden.message, 'Quota exceeded for instances: Requested 2, but already used 1 of 2 instances');
  // max_count beyond quota: as many as fit
  r = await h.req(h.tokens.demo, 'POST', `${C}/servers`, { server: { name: 'q', imageRef: '70a599e0-31e7-49b7-b260-868f441e862b', flavorRef: '1', max_count: 5 } });
  assert.equal(r.statusCode, 202);
  await h.idle();
  r = await h.req(h.tokens.demo, 'GET', `${C}/limits`);
  assert.equal(r.json().limits.absolute.maxTotalInstances, 2);
  assert.equal(r.json().limits.absolute.totalInstancesUsed, 2);
  assert.equal(r.json().limits.absolute.totalRAMUsed, 256);
  r = await h.req(h.tokens.demo, 'GET', `${C}/os-quota-sets/${h.ids.demoProject}/detail`);
  assert.deepEqual(r.json().quota_set.instances, { limit: 2, in_use: 2, reserved: 0 });
  await h.close();
});

test('resize is checked against the cores/ram quota (only the growth counts)', async () => {
  const h = await createHarness();
  await h.req(h.tokens.admin, 'PUT', `${C}/os-quota-sets/${h.ids.demoProject}`, { quota_set: { cores: 1 } });
  const id = await h.boot(h.tokens.demo);
  let r = await h.req(h.tokens.demo, 'POST', `${C}/servers/${id}/action`, { resize: { flavorRef: '3' } });
  assert.equal(r.statusCode, 403);
  assert.equal(r.json().forbidden.message, 'Quota exceeded for cores: Requested 1, but already used 1 of 1 cores');
  r = await h.req(h.tokens.demo, 'POST', `${C}/servers/${id}/action`, { resize: { flavorRef: '2' } });
  assert.equal(r.statusCode, 202);
  await h.idle();
  // 2.90 hostname update
  r = await h.req(h.tokens.demo, 'PUT', `${C}/servers/${id}`, { server: { hostname: 'my-host' } }, '2.90');
  assert.equal(r.json().server['OS-EXT-SRV-ATTR:hostname'], 'my-host');
  assert.equal((await h.req(h.tokens.demo, 'PUT', `${C}/servers/${id}`, { server: { hostname: 'x' } }, '2.89')).statusCode, 400);
  await h.close();
});
