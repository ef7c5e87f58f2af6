/**
 * Compute response bodies against Nova's response schemas (test/support/nova-response-schemas.ts) at every
 * microversion where they change, as admin and as a project member.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { TSchema } from '@sinclair/typebox';
import { createHarness, IMAGE_ID, type Response } from '../support/harness.js';
import { bodies, violations } from '../support/nova-response-schemas.js';

const S = '/compute/v2.1/servers';
const F = '/compute/v2.1/flavors';
/** the boundaries of the server views, then the newest */
const SERVER_VERSIONS = ['2.1', '2.3', '2.9', '2.16', '2.19', '2.26', '2.47', '2.54', '2.57', '2.63', '2.71', '2.73', '2.74', '2.75', '2.90', 'latest'];
const FLAVOR_VERSIONS = ['2.1', '2.55', '2.61', '2.74', '2.75', 'latest'];

function conforms(r: Response, status: number, schema: TSchema, what: string): void {
  assert.equal(r.statusCode, status, `${what}: ${r.body}`);
  const bad = violations(schema, r.json());
  assert.deepEqual(bad, [], `${what} does not match Nova's schema:\n${bad.join('\n')}\n${r.body.slice(0, 2000)}`);
}

test('server show, list, detail, update and rebuild bodies match Nova\'s schemas at every boundary', async () => {
  const h = await createHarness();
  const id = await h.boot(h.tokens.demo, 'web', { metadata: { role: 'web' }, accessIPv4: '192.0.2.7', accessIPv6: '2001:db8::7' });
  for (const version of SERVER_VERSIONS) {
    const v = version === 'latest' ? '2.93' : version;
    for (const [who, token, admin] of [['admin', h.tokens.admin, true], ['member', h.tokens.demo, false]] as const) {
      const at = `${who} ${version}`;
      conforms(await h.req(token, 'GET', `${S}/${id}`, undefined, version), 200, bodies.serverShow(v, admin), `show ${at}`);
      conforms(await h.req(token, 'GET', `${S}?all_tenants=${admin ? 1 : 0}`, undefined, version), 200, bodies.serverList(), `list ${at}`);
      conforms(await h.req(token, 'GET', `${S}/detail`, undefined, version), 200, bodies.serverDetailList(v, admin), `detail ${at}`);
      conforms(await h.req(token, 'PUT', `${S}/${id}`, { server: { name: `web-${who}` } }, version), 200, bodies.serverUpdate(v, admin), `update ${at}`);
      const r = await h.req(token, 'POST', `${S}/${id}/action`, { rebuild: { imageRef: IMAGE_ID } }, version);
      conforms(r, 202, bodies.serverRebuild(v, admin), `rebuild ${at}`);
      await h.idle();
    }
  }
  await h.close();
});

test('a server in ERROR (with its fault) matches Nova\'s schemas', async () => {
  const h = await createHarness();
  h.driver.failNext('spawn', 'no disk');
  const id = await h.boot(h.tokens.demo, 'bad');
  for (const version of ['2.1', '2.75', 'latest']) {
    const v = version === 'latest' ? '2.93' : version;
    for (const [who, token, admin] of [['admin', h.tokens.admin, true], ['member', h.tokens.demo, false]] as const) {
      const r = await h.req(token, 'GET', `${S}/${id}`, undefined, version);
      conforms(r, 200, bodies.serverShow(v, admin), `show ERROR ${who} ${version}`);
      assert.equal(r.json().server.fault.message, 'no disk');
      conforms(await h.req(token, 'GET', `${S}/detail`, undefined, version), 200, bodies.serverDetailList(v, admin), `detail ERROR ${who} ${version}`);
    }
  }
  await h.close();
});

test('server create and createImage bodies match Nova\'s schemas', async () => {
  const h = await createHarness();
  const body = { server: { name: 'c', imageRef: IMAGE_ID, flavorRef: '1', networks: 'auto' } };
  conforms(await h.req(h.tokens.demo, 'POST', S, { server: { name: 'c', imageRef: IMAGE_ID, flavorRef: '1' } }), 202, bodies.serverCreate(), 'create 2.1');
  const r = await h.req(h.tokens.demo, 'POST', S, body, 'latest');
  conforms(r, 202, bodies.serverCreate(), 'create latest');
  conforms(await h.req(h.tokens.demo, 'POST', S, { server: { ...body.server, return_reservation_id: true } }, 'latest'), 202, bodies.serverCreateReservation(), 'create with reservation id');
  await h.idle();
  conforms(await h.req(h.tokens.demo, 'POST', `${S}/${r.json().server.id}/action`, { createImage: { name: 'snap' } }, '2.45'), 202, bodies.createImage(), 'createImage 2.45');
  await h.idle();
  await h.close();
});

test('flavor list, detail, show, create and update bodies match Nova\'s schemas at every boundary', async () => {
  const h = await createHarness();
  let i = 0;
  for (const version of FLAVOR_VERSIONS) {
    const v = version === 'latest' ? '2.93' : version;
    conforms(await h.req(h.tokens.demo, 'GET', F, undefined, version), 200, bodies.flavorList(v), `list ${version}`);
    conforms(await h.req(h.tokens.demo, 'GET', `${F}/detail`, undefined, version), 200, bodies.flavorDetailList(v), `detail ${version}`);
    conforms(await h.req(h.tokens.demo, 'GET', `${F}/1`, undefined, version), 200, bodies.flavor(v), `show ${version}`);
    const c = await h.req(h.tokens.admin, 'POST', F, { flavor: { name: `f${i++}`, ram: 256, vcpus: 1, disk: 1, swap: 128 } }, version);
    conforms(c, 200, bodies.flavor(v), `create ${version}`);
    if (Number(v.split('.')[1]) >= 55) {
      conforms(await h.req(h.tokens.admin, 'PUT', `${F}/${c.json().flavor.id}`, { flavor: { description: 'd' } }, version), 200, bodies.flavor(v), `update ${version}`);
    }
  }
  await h.close();
});

test('limits bodies match Nova\'s schemas at every boundary', async () => {
  const h = await createHarness();
  await h.boot(h.tokens.demo);
  for (const version of ['2.1', '2.35', '2.36', '2.38', '2.39', '2.56', '2.57', 'latest']) {
    const v = version === 'latest' ? '2.93' : version;
    conforms(await h.req(h.tokens.demo, 'GET', '/compute/v2.1/limits', undefined, version), 200, bodies.limits(v), `limits ${version}`);
  }
  await h.close();
});

test('ips, metadata and tags bodies match Nova\'s schemas', async () => {
  const h = await createHarness();
  const id = await h.boot(h.tokens.demo, 's', { metadata: { a: '1' } });
  const t = h.tokens.demo;
  conforms(await h.req(t, 'GET', `${S}/${id}/ips`), 200, bodies.ips(), 'ips');
  conforms(await h.req(t, 'GET', `${S}/${id}/ips/private`), 200, bodies.ipsOfNetwork(), 'ips/private');
  conforms(await h.req(t, 'GET', `${S}/${id}/metadata`), 200, bodies.metadata(), 'metadata');
  conforms(await h.req(t, 'POST', `${S}/${id}/metadata`, { metadata: { b: '2' } }), 200, bodies.metadata(), 'metadata merge');
  conforms(await h.req(t, 'PUT', `${S}/${id}/metadata`, { metadata: { c: '3' } }), 200, bodies.metadata(), 'metadata replace');
  conforms(await h.req(t, 'GET', `${S}/${id}/metadata/c`), 200, bodies.metadataItem(), 'metadata item');
  conforms(await h.req(t, 'PUT', `${S}/${id}/metadata/d`, { meta: { d: '4' } }), 200, bodies.metadataItem(), 'metadata item set');
  conforms(await h.req(t, 'PUT', `${S}/${id}/tags`, { tags: ['x', 'y'] }, '2.26'), 200, bodies.tags(), 'tags replace');
  conforms(await h.req(t, 'GET', `${S}/${id}/tags`, undefined, '2.26'), 200, bodies.tags(), 'tags');
  await h.close();
});

test('keypair bodies match Nova\'s schemas at every boundary', async () => {
  const h = await createHarness();
  const pub = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGw1i4nKJ1T4yq9vBC7oZVzKZ+fqBtw2mQjv3f0g1n4W x';
  let i = 0;
  for (const version of ['2.1', '2.2', '2.10', '2.35', '2.92', 'latest']) {
    const v = version === 'latest' ? '2.93' : version;
    const created = Number(v.split('.')[1]) >= 2 ? 201 : 200;
    if (Number(v.split('.')[1]) < 92) {
      conforms(await h.req(h.tokens.demo, 'POST', '/compute/v2.1/os-keypairs', { keypair: { name: `g${i}` } }, version), created, bodies.keypairCreate(v, true), `generate ${version}`);
    }
    const name = `k${i++}`;
    conforms(await h.req(h.tokens.demo, 'POST', '/compute/v2.1/os-keypairs', { keypair: { name, public_key: pub } }, version), created, bodies.keypairCreate(v, false), `import ${version}`);
    conforms(await h.req(h.tokens.demo, 'GET', '/compute/v2.1/os-keypairs', undefined, version), 200, bodies.keypairList(v), `list ${version}`);
    conforms(await h.req(h.tokens.demo, 'GET', `/compute/v2.1/os-keypairs/${name}`, undefined, version), 200, bodies.keypairShow(v), `show ${version}`);
  }
  await h.close();
});

test('instance action bodies match Nova\'s schemas at every boundary', async () => {
  const h = await createHarness();
  h.driver.failNext('pause', 'qemu said no');
  const id = await h.boot(h.tokens.demo);
  await h.req(h.tokens.demo, 'POST', `${S}/${id}/action`, { pause: null });
  await h.idle();
  for (const version of ['2.1', '2.21', '2.51', '2.58', '2.62', '2.84', 'latest']) {
    const v = version === 'latest' ? '2.93' : version;
    for (const [who, token, admin] of [['admin', h.tokens.admin, true], ['member', h.tokens.demo, false]] as const) {
      const l = await h.req(token, 'GET', `${S}/${id}/os-instance-actions`, undefined, version);
      conforms(l, 200, bodies.instanceActionList(v), `list ${who} ${version}`);
      for (const a of l.json().instanceActions as Array<{ request_id: string }>) {
        conforms(await h.req(token, 'GET', `${S}/${id}/os-instance-actions/${a.request_id}`, undefined, version), 200, bodies.instanceActionShow(v, admin), `show ${who} ${version}`);
      }
    }
  }
  await h.close();
});

test('quota set bodies match Nova\'s schemas at every boundary', async () => {
  const h = await createHarness();
  const Q = `/compute/v2.1/os-quota-sets/${h.ids.demoProject}`;
  for (const version of ['2.1', '2.35', '2.36', '2.56', '2.57', 'latest']) {
    const v = version === 'latest' ? '2.93' : version;
    conforms(await h.req(h.tokens.demo, 'GET', Q, undefined, version), 200, bodies.quotaSet(v, 'show'), `show ${version}`);
    conforms(await h.req(h.tokens.demo, 'GET', `${Q}/defaults`, undefined, version), 200, bodies.quotaSet(v, 'show'), `defaults ${version}`);
    conforms(await h.req(h.tokens.demo, 'GET', `${Q}/detail`, undefined, version), 200, bodies.quotaSet(v, 'detail'), `detail ${version}`);
    conforms(await h.req(h.tokens.admin, 'PUT', Q, { quota_set: { instances: 20 } }, version), 200, bodies.quotaSet(v, 'update'), `update ${version}`);
  }
  await h.close();
});
