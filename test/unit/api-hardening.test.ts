/** Issue 17's defects: hostile input gets the service's own 4xx (never a 500, a stack or a stalled controller). */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHarness, IMAGE_ID, login, type Harness } from '../support/harness.js';

const C = '/compute/v2.1';
let h: Harness;
before(async () => { h = await createHarness(); });
after(async () => { await h.close(); });

/** Nova's 400 body */
function assertNova400(r: { statusCode: number; json(): any; body: string }, what: string): void {
  assert.equal(r.statusCode, 400, `${what}: ${r.statusCode} ${r.body}`);
  assert.equal(r.json().badRequest?.code, 400, `${what}: ${r.body}`);
}

test('sort_key naming an Object.prototype member -> 400 (servers and flavors)', async () => {
  for (const key of ['constructor', '__proto__', 'toString', 'hasOwnProperty']) {
    for (const path of ['servers', 'servers/detail', 'flavors', 'flavors/detail']) {
      assertNova400(await h.req(h.tokens.demo, 'GET', `${C}/${path}?sort_key=${key}`), `${path} sort_key=${key}`);
    }
  }
  // ordinary keys still work
  assert.equal((await h.req(h.tokens.demo, 'GET', `${C}/flavors?sort_key=name&sort_dir=desc`)).statusCode, 200);
  assert.equal((await h.req(h.tokens.demo, 'GET', `${C}/servers?sort_key=display_name`)).statusCode, 200);
});

test('limit: not a non-negative integer -> 400 (image proxy, Glance, os-keypairs >= 2.35); a huge integer is clamped as in Nova/Glance', async () => {
  const bad = ['abc', '1.5', '%00', '-1', '', '1e3', '0x10'];
  for (const l of bad) {
    for (const path of ['images', 'images/detail']) assertNova400(await h.req(h.tokens.demo, 'GET', `${C}/${path}?limit=${l}`), `${path} limit=${l}`);
    assertNova400(await h.req(h.tokens.demo, 'GET', `${C}/os-keypairs?limit=${l}`, undefined, '2.35'), `os-keypairs limit=${l}`);
    assertNova400(await h.req(h.tokens.demo, 'GET', `${C}/flavors?limit=${l}`), `flavors limit=${l}`);
    assertNova400(await h.req(h.tokens.demo, 'GET', `${C}/os-simple-tenant-usage/${h.ids.demoProject}?limit=${l}`, undefined, '2.40'), `usage limit=${l}`);
    const g = await h.req(h.tokens.demo, 'GET', `/image/v2/images?limit=${l}`);
    assert.equal(g.statusCode, 400, `glance limit=${l}: ${g.body}`);
    assert.equal(g.json().error?.code, 400, g.body);
  }
  const huge = '99999999999999999999';
  assert.equal((await h.req(h.tokens.demo, 'GET', `${C}/images?limit=${huge}`)).statusCode, 200);
  assert.equal((await h.req(h.tokens.demo, 'GET', `${C}/os-keypairs?limit=${huge}`, undefined, '2.35')).statusCode, 200);
  assert.equal((await h.req(h.tokens.demo, 'GET', `${C}/flavors/detail?limit=${huge}`)).json().flavors.length > 0, true);
  assert.equal((await h.req(h.tokens.demo, 'GET', `${C}/os-simple-tenant-usage/${h.ids.demoProject}?limit=${huge}`, undefined, '2.40')).statusCode, 200);
  const g = await h.req(h.tokens.demo, 'GET', `/image/v2/images?limit=${huge}`);
  assert.equal(g.statusCode, 200, g.body);
  assert.equal(g.json().images.length, 1);
  // repeated parameters: the last one counts
  assert.equal((await h.req(h.tokens.demo, 'GET', `/image/v2/images?limit=abc&limit=1`)).statusCode, 200);
});

test('a JSON body nested 5,000 deep -> 400 Malformed request body, not a stack overflow', async () => {
  const deep = (n: number) => `${'['.repeat(n)}${']'.repeat(n)}`;
  const bodies = [deep(5000), `{"server": {"name": "x", "metadata": ${deep(5000)}}}`, `{"a": ${'{"a": '.repeat(5000)}1${'}'.repeat(5000)}}`];
  const id = await h.boot(h.tokens.demo, 'deep');
  for (const [method, url] of [['POST', `${C}/servers`], ['PUT', `${C}/servers/${id}`], ['POST', `${C}/servers/${id}/action`],
    ['POST', `${C}/servers/${id}/metadata`], ['PUT', `${C}/servers/${id}/metadata`], ['POST', `${C}/os-keypairs`]] as const) {
    for (const payload of bodies) {
      const r = await h.app.inject({ method, url, headers: { 'x-auth-token': h.tokens.demo, 'content-type': 'application/json' }, payload });
      assertNova400(r, `${method} ${url}`);
    }
  }
  // ordinary nesting (and brackets inside strings) still parse
  const r = await h.app.inject({ method: 'PUT', url: `${C}/servers/${id}/metadata`, headers: { 'x-auth-token': h.tokens.demo, 'content-type': 'application/json' }, payload: `{"metadata": {"k": "${'[{'.repeat(120)}"}}` });
  assert.equal(r.statusCode, 200, r.body);
});

test('an action named like an Object.prototype member -> 400 "There is no such action", nothing runs', async () => {
  const id = await h.boot(h.tokens.demo, 'proto-actions');
  for (const name of ['constructor', '__defineGetter__', 'toString', 'valueOf', 'hasOwnProperty', '__proto__', 'isPrototypeOf']) {
    const r = await h.app.inject({ method: 'POST', url: `${C}/servers/${id}/action`, headers: { 'x-auth-token': h.tokens.demo, 'content-type': 'application/json' }, payload: `{"${name}": null}` });
    assertNova400(r, name);
    assert.match(r.json().badRequest.message, /There is no such action/);
  }
  const r = await h.req(h.tokens.demo, 'POST', `${C}/servers/${id}/action`, { 'os-stop': null });
  assert.equal(r.statusCode, 202, r.body);
});

test('path keys naming Object.prototype members are not found (metadata, ips, extra specs, image properties)', async () => {
  const id = await h.boot(h.tokens.demo, 'proto-keys');
  for (const key of ['constructor', 'toString', '__proto__']) {
    const m = await h.req(h.tokens.demo, 'GET', `${C}/servers/${id}/metadata/${key}`);
    assert.equal(m.statusCode, 404, `metadata ${key}: ${m.body}`);
    assert.equal(m.json().itemNotFound.code, 404);
    assert.equal((await h.req(h.tokens.demo, 'GET', `${C}/servers/${id}/ips/${key}`)).statusCode, 404, `ips ${key}`);
    assert.equal((await h.req(h.tokens.demo, 'GET', `${C}/flavors/1/os-extra_specs/${key}`)).statusCode, 404, `extra spec ${key}`);
  }
  const img = await h.req(h.tokens.demo, 'POST', '/image/v2/images', { name: 'proto', disk_format: 'qcow2', container_format: 'bare' });
  assert.equal(img.statusCode, 201, img.body);
  const r = await h.app.inject({ method: 'PATCH', url: `/image/v2/images/${img.json().id}`, headers: { 'x-auth-token': h.tokens.demo, 'content-type': 'application/openstack-images-v2.1-json-patch' }, payload: [{ op: 'remove', path: '/constructor' }] });
  assert.equal(r.statusCode, 409, r.body);
});

/** a Glance request with a JSON (or JSON-patch) body */
const glance = (method: 'POST' | 'PATCH', url: string, payload: unknown) => h.app.inject({
  method, url: `/image/v2/images${url}`, payload: JSON.stringify(payload),
  headers: { 'x-auth-token': h.tokens.demo, 'content-type': method === 'PATCH' ? 'application/openstack-images-v2.1-json-patch' : 'application/json' },
});

test('Glance: PATCH with operations that are not objects -> 400; disk_format/container_format must be a string from the allowed lists', async () => {
  const img = await glance('POST', '', { name: 'formats', disk_format: 'qcow2', container_format: 'bare' });
  assert.equal(img.statusCode, 201, img.body);
  const id = img.json().id as string;
  for (const ops of [[null], [1], ['x'], [[]], [{ op: 'replace', path: '/name', value: 'a' }, null], [{ op: 'add', path: { toString: null } }], [{ op: { toString: null }, path: '/name' }]]) {
    const r = await glance('PATCH', `/${id}`, ops);
    assert.equal(r.statusCode, 400, `${JSON.stringify(ops)}: ${r.body}`);
    assert.equal(r.json().error.code, 400);
  }
  for (const key of ['disk_format', 'container_format']) {
    for (const value of [1, true, {}, [], 'qcow3', '']) {
      const c = await glance('POST', '', { name: 'bad', [key]: value });
      assert.equal(c.statusCode, 400, `create ${key}=${JSON.stringify(value)}: ${c.body}`);
      const p = await glance('PATCH', `/${id}`, [{ op: 'replace', path: `/${key}`, value }]);
      assert.equal(p.statusCode, 400, `patch ${key}=${JSON.stringify(value)}: ${p.body}`);
    }
  }
  const ok = await glance('PATCH', `/${id}`, [{ op: 'replace', path: '/disk_format', value: 'raw' }, { op: 'replace', path: '/container_format', value: 'ova' }]);
  assert.equal(ok.statusCode, 200, ok.body);
  assert.equal(ok.json().disk_format, 'raw');
  assert.equal((await glance('POST', '', { name: 'none', disk_format: null })).statusCode, 201);
});

test('name filter: a catastrophic-backtracking pattern finishes in milliseconds; patterns RE2 cannot run are 400', async () => {
  await h.boot(h.tokens.demo, `${'a'.repeat(28)}!`);
  await h.boot(h.tokens.demo, `${'a'.repeat(250)}!`);
  await h.boot(h.tokens.demo, 'vm-12');
  for (const pattern of ['^(a|a)+$', '(a+)+$', '^(a|aa)*$', '(.*a){12}$']) {
    const t0 = performance.now();
    const r = await h.req(h.tokens.demo, 'GET', `${C}/servers?name=${encodeURIComponent(pattern)}`);
    const ms = performance.now() - t0;
    assert.equal(r.statusCode, 200, r.body);
    assert.deepEqual(r.json().servers, [], pattern);
    assert.ok(ms < 500, `${pattern}: ${ms.toFixed(0)} ms`);
  }
  // Python re.search semantics for ordinary patterns
  const names = async (p: string) => (await h.req(h.tokens.demo, 'GET', `${C}/servers?name=${encodeURIComponent(p)}`)).json().servers.map((s: any) => s.name).sort();
  assert.deepEqual(await names('^vm-\\d{2}$'), ['vm-12']);
  assert.deepEqual(await names('m-1'), ['vm-12']);
  assert.deepEqual(await names('^(vm|xx)-[0-9]+\\Z'), ['vm-12']);
  assert.deepEqual(await names('(?i)^VM'), ['vm-12']);
  assert.equal((await names('a{250}!$')).length, 1);
  for (const pattern of ['(a)\\1', '(?=a)', '(?<=a)b', '(?!x)', '[', 'a{1001}']) {
    assertNova400(await h.req(h.tokens.demo, 'GET', `${C}/servers/detail?name=${encodeURIComponent(pattern)}`), pattern);
    assertNova400(await h.req(h.tokens.demo, 'GET', `${C}/servers?ip=${encodeURIComponent(pattern)}`), `ip ${pattern}`);
  }
});

test("Keystone: only the token's owner or an admin may validate, check or revoke it (403 otherwise)", async () => {
  const tokens = (caller: string, subject: string) => ({ 'x-auth-token': caller, 'x-subject-token': subject });
  const other = await login(h.app, 'other', 'otherpw', 'other');
  for (const method of ['GET', 'HEAD', 'DELETE'] as const) {
    const r = await h.app.inject({ method, url: '/identity/v3/auth/tokens', headers: tokens(h.tokens.demo, other) });
    assert.equal(r.statusCode, 403, `${method}: ${r.body}`);
    if (method !== 'HEAD') assert.equal(r.json().error.code, 403);
  }
  // the token still works: the refused DELETE revoked nothing
  assert.equal((await h.req(other, 'GET', `${C}/servers`)).statusCode, 200);
  // a reader of the same project is no owner either
  assert.equal((await h.app.inject({ method: 'GET', url: '/identity/v3/auth/tokens', headers: tokens(h.tokens.reader, h.tokens.demo) })).statusCode, 403);
  // the owner may, and so may an admin
  assert.equal((await h.app.inject({ method: 'GET', url: '/identity/v3/auth/tokens', headers: tokens(other, other) })).statusCode, 200);
  assert.equal((await h.app.inject({ method: 'GET', url: '/identity/v3/auth/tokens', headers: tokens(h.tokens.admin, other) })).statusCode, 200);
  const mine = await login(h.app, 'other', 'otherpw', 'other');
  assert.equal((await h.app.inject({ method: 'DELETE', url: '/identity/v3/auth/tokens', headers: tokens(other, mine) })).statusCode, 204);
  assert.equal((await h.app.inject({ method: 'DELETE', url: '/identity/v3/auth/tokens', headers: tokens(h.tokens.admin, other) })).statusCode, 204);
  assert.equal((await h.req(other, 'GET', `${C}/servers`)).statusCode, 401);
});

test('Cinder and Neutron: the project in the URL is checked against the token', async () => {
  const { demoProject, otherProject } = h.ids;
  for (const path of ['volumes', 'volumes/detail', 'snapshots', 'types', 'limits', `os-quota-sets/${otherProject}`]) {
    const r = await h.req(h.tokens.demo, 'GET', `/volume/v3/${otherProject}/${path}`);
    assertNova400(r, `volume ${path}`);
    assert.equal(r.json().badRequest.message, 'Malformed request url');
    assert.equal((await h.req(h.tokens.demo, 'GET', `/volume/v3/${demoProject}/${path.replace(otherProject, demoProject)}`)).statusCode, 200, path);
  }
  // another project's quotas: admin only (Cinder's and Neutron's admin_or_owner rule)
  const q = await h.req(h.tokens.demo, 'GET', `/volume/v3/${demoProject}/os-quota-sets/${otherProject}`);
  assert.equal(q.statusCode, 403, q.body);
  assert.equal(q.json().forbidden.code, 403);
  assert.equal((await h.req(h.tokens.admin, 'GET', `/volume/v3/${h.ids.adminProject}/os-quota-sets/${otherProject}`)).statusCode, 200);
  for (const path of [`quotas/${otherProject}`, `quotas/${otherProject}/details.json`]) {
    const n = await h.req(h.tokens.demo, 'GET', `/network/v2.0/${path}`);
    assert.equal(n.statusCode, 403, `${path}: ${n.body}`);
    assert.equal(n.json().NeutronError.type, 'PolicyNotAuthorized');
    assert.equal((await h.req(h.tokens.demo, 'GET', `/network/v2.0/${path.replace(otherProject, demoProject)}`)).statusCode, 200);
    assert.equal((await h.req(h.tokens.admin, 'GET', `/network/v2.0/${path}`)).statusCode, 200);
  }
});

test('metadata and extra-spec keys over 255 characters -> 400 (a 64 KB key is not stored, nor echoed back)', async () => {
  const id = await h.boot(h.tokens.demo, 'long-keys');
  for (const key of ['k'.repeat(256), 'k'.repeat(65536)]) {
    for (const method of ['POST', 'PUT'] as const) {
      const r = await h.req(h.tokens.demo, method, `${C}/servers/${id}/metadata`, { metadata: { [key]: 'v' } });
      assertNova400(r, `${method} metadata key ${key.length}`);
      assert.ok(r.body.length < 1000, `${r.body.length} bytes`);
    }
    assertNova400(await h.req(h.tokens.demo, 'POST', `${C}/servers`, { server: { name: 'x', imageRef: IMAGE_ID, flavorRef: '1', metadata: { [key]: 'v' } } }), 'create');
    assertNova400(await h.req(h.tokens.admin, 'POST', `${C}/flavors/1/os-extra_specs`, { extra_specs: { [key]: 'v' } }), `extra spec ${key.length}`);
  }
  assert.deepEqual((await h.req(h.tokens.demo, 'GET', `${C}/servers/${id}/metadata`)).json().metadata, {});
  assert.equal((await h.req(h.tokens.demo, 'POST', `${C}/servers/${id}/metadata`, { metadata: { ['k'.repeat(255)]: 'v'.repeat(255) } })).statusCode, 200);
  assert.equal((await h.req(h.tokens.admin, 'POST', `${C}/flavors/1/os-extra_specs`, { extra_specs: { ['k'.repeat(255)]: 'v' } })).statusCode, 200);
  assert.equal((await h.req(h.tokens.admin, 'GET', `${C}/flavors/1/os-extra_specs`)).json().extra_specs['k'.repeat(255)], 'v');
});

test('NUL and other control characters, lone surrogates and invalid UTF-8 in names, metadata, tags and lock reasons -> 400', async () => {
  const id = await h.boot(h.tokens.demo, 'printable');
  const raw = (method: 'POST' | 'PUT', url: string, payload: string | Buffer) => h.app.inject({ method, url, payload, headers: { 'x-auth-token': h.tokens.demo, 'content-type': 'application/json', 'openstack-api-version': 'compute 2.73' } });
  // [method, url, body, printable only?]: metadata values refuse NUL only (Nova takes any other text there)
  const bodies: Array<['POST' | 'PUT', string, (s: string) => unknown, boolean]> = [
    ['POST', `${C}/servers`, (s) => ({ server: { name: s, imageRef: IMAGE_ID, flavorRef: '1' } }), true],
    ['PUT', `${C}/servers/${id}`, (s) => ({ server: { name: s } }), true],
    ['POST', `${C}/servers/${id}/action`, (s) => ({ rebuild: { imageRef: IMAGE_ID, name: s } }), true],
    ['POST', `${C}/servers/${id}/action`, (s) => ({ createImage: { name: s } }), true],
    ['POST', `${C}/servers/${id}/metadata`, (s) => ({ metadata: { k: s } }), false],
    ['POST', `${C}/servers/${id}/metadata`, (s) => ({ metadata: { [s]: 'v' } }), true],
    ['PUT', `${C}/servers/${id}/tags`, (s) => ({ tags: [s] }), true],
    ['POST', `${C}/servers/${id}/action`, (s) => ({ lock: { locked_reason: s } }), true],
  ];
  for (const [method, url, body, printable] of bodies) {
    for (const bad of printable ? ['a\u0000b', 'a\u0007b', 'a\u2028b', 'a\u200bb'] : ['a\u0000b']) {
      assertNova400(await raw(method, url, JSON.stringify(body(bad))), `${method} ${url} ${JSON.stringify(body(bad))}`);
    }
    // a lone surrogate (as a JSON escape) and invalid UTF-8 bytes
    assertNova400(await raw(method, url, JSON.stringify(body('a\ud800b'))), `${method} ${url} lone surrogate`);
    const text = JSON.stringify(body('aXb'));
    const i = text.indexOf('aXb') + 1;
    assertNova400(await raw(method, url, Buffer.concat([Buffer.from(text.slice(0, i)), Buffer.from([0xff, 0xfe]), Buffer.from(text.slice(i + 1))])), `${method} ${url} invalid UTF-8`);
  }
  assertNova400(await h.req(h.tokens.demo, 'PUT', `${C}/servers/${id}/tags/a%00b`, undefined, '2.26'), 'tag in the path');
  // printable text of any script is fine
  const ok = await h.req(h.tokens.demo, 'PUT', `${C}/servers/${id}`, { server: { name: 'café 👍 ключ' } });
  assert.equal(ok.statusCode, 200, ok.body);
  assert.equal(ok.json().server.name, 'café 👍 ключ');
  assert.equal((await h.req(h.tokens.demo, 'POST', `${C}/servers/${id}/metadata`, { metadata: { k: 'line1\nline2' } })).statusCode, 200);
});

test('microversion: the major number counts (1.1093 is not 2.93) -> 406', async () => {
  for (const v of ['1.1093', '2.1000', '3.0', '1.1', '0.2093']) {
    for (const headers of [{ 'openstack-api-version': `compute ${v}` }, { 'x-openstack-nova-api-version': v }]) {
      const r = await h.app.inject({ method: 'GET', url: `${C}/servers`, headers: { 'x-auth-token': h.tokens.demo, ...headers } });
      assert.ok(r.statusCode === 406 || r.statusCode === 400, `${v}: ${r.statusCode}`);
      if (v !== '0.2093') assert.equal(r.statusCode, 406, `${v}: ${r.body}`);
    }
  }
  assert.equal((await h.req(h.tokens.demo, 'GET', `${C}/servers`, undefined, '2.93')).statusCode, 200);
});
