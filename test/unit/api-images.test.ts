/** Image API (Glance v2 subset) and the compute image proxy. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { createHarness, IMAGE_ID } from '../support/harness.js';

test('version discovery is 300 without a token', async () => {
  const h = await createHarness();
  const r = await h.req(null, 'GET', '/image/');
  assert.equal(r.statusCode, 300);
  assert.equal(r.json().versions[0].status, 'CURRENT');
  assert.equal((await h.req(null, 'GET', '/image/v2/images')).statusCode, 401);
  await h.close();
});

test('create, upload, download, properties, filter by name, 404 by name, patch, delete', async () => {
  const h = await createHarness();
  let r = await h.req(h.tokens.demo, 'POST', '/image/v2/images', { name: 'guest', disk_format: 'qcow2', container_format: 'bare', kernel_id: 'k1', ramdisk_id: 'r1' });
  assert.equal(r.statusCode, 201);
  const id = r.json().id;
  assert.equal(r.json().status, 'queued');
  assert.equal(r.json().kernel_id, 'k1');
  assert.equal(r.json().visibility, 'shared');
  const data = Buffer.alloc(200_000, 7);
  r = await h.app.inject({ method: 'PUT', url: `/image/v2/images/${id}/file`, headers: { 'x-auth-token': h.tokens.demo, 'content-type': 'application/octet-stream' }, payload: data }) as never;
  assert.equal(r.statusCode, 204);
  r = await h.req(h.tokens.demo, 'GET', `/image/v2/images/${id}`);
  assert.equal(r.json().status, 'active');
  assert.equal(r.json().size, data.length);
  assert.equal(r.json().checksum, createHash('md5').update(data).digest('hex'));
  const dl = await h.app.inject({ method: 'GET', url: `/image/v2/images/${id}/file`, headers: { 'x-auth-token': h.tokens.demo } });
  assert.equal(dl.statusCode, 200);
  assert.ok(dl.rawPayload.equals(data));
  // clients look images up by name: GET /v2/images/<name> is 404, then ?name=
  assert.equal((await h.req(h.tokens.demo, 'GET', '/image/v2/images/guest')).statusCode, 404);
  r = await h.req(h.tokens.demo, 'GET', '/image/v2/images?name=guest');
  assert.deepEqual(r.json().images.map((i: { id: string }) => i.id), [id]);
  // private to the project
  assert.equal((await h.req(h.tokens.other, 'GET', `/image/v2/images/${id}`)).statusCode, 404);
  assert.equal((await h.req(h.tokens.other, 'GET', `/image/v2/images/${IMAGE_ID}`)).statusCode, 200);
  r = await h.app.inject({ method: 'PATCH', url: `/image/v2/images/${id}`, headers: { 'x-auth-token': h.tokens.demo, 'content-type': 'application/openstack-images-v2.1-json-patch' }, payload: JSON.stringify([{ op: 'replace', path: '/name', value: 'guest2' }, { op: 'add', path: '/os_distro', value: 'debian' }, { op: 'remove', path: '/ramdisk_id' }]) }) as never;
  assert.equal(r.statusCode, 200);
  assert.equal(r.json().name, 'guest2');
  assert.equal(r.json().os_distro, 'debian');
  assert.equal(r.json().ramdisk_id, undefined);
  assert.equal((await h.req(h.tokens.demo, 'POST', '/image/v2/images', { name: 'pub', visibility: 'public' })).statusCode, 403);
  assert.equal((await h.req(h.tokens.reader, 'POST', '/image/v2/images', { name: 'r' })).statusCode, 403);
  // booting from the uploaded image works
  r = await h.req(h.tokens.demo, 'POST', '/compute/v2.1/servers', { server: { name: 'fromimg', imageRef: id, flavorRef: '1' } });
  assert.equal(r.statusCode, 202);
  await h.idle();
  assert.equal((await h.req(h.tokens.other, 'DELETE', `/image/v2/images/${id}`)).statusCode, 404);
  assert.equal((await h.req(h.tokens.demo, 'DELETE', `/image/v2/images/${id}`)).statusCode, 204);
  assert.equal((await h.req(h.tokens.demo, 'GET', `/image/v2/images/${id}`)).statusCode, 404);
  await h.close();
});

test('compute image proxy: available up to 2.35, 404 from 2.36', async () => {
  const h = await createHarness();
  let r = await h.req(h.tokens.demo, 'GET', `/compute/v2.1/images/${IMAGE_ID}`);
  assert.equal(r.statusCode, 200);
  assert.equal(r.json().image.status, 'ACTIVE');
  r = await h.req(h.tokens.demo, 'GET', '/compute/v2.1/images/detail', undefined, '2.35');
  assert.equal(r.json().images.length, 1);
  r = await h.req(h.tokens.demo, 'GET', '/compute/v2.1/images', undefined, '2.36');
  assert.equal(r.statusCode, 404);
  assert.equal(r.json().itemNotFound.code, 404);
  await h.close();
});
