/** Every error path of the compute API, with Nova's bodies, and "bad input changes nothing". */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHarness, IMAGE_ID, login, type Harness } from '../support/harness.js';

const S = '/compute/v2.1/servers';

/** everything the DB knows about servers, for "nothing changed" assertions */
async function snapshot(h: Harness) {
  const servers = await h.store.listServers({ deleted: 'include' });
  const actions = [];
  for (const s of servers) actions.push(await h.store.listInstanceActions(s.id));
  return JSON.stringify({ servers, actions });
}

/** a harness with one booted server of demo's, and the store's state before the test's requests */
async function booted() {
  const h = await createHarness();
  const id = await h.boot(h.tokens.demo);
  return { h, id, before: await snapshot(h) };
}

/** bad input changed nothing: the store is exactly as it was; then close */
async function closeUnchanged(h: Harness, before: string) {
  assert.equal(await snapshot(h), before);
  await h.close();
}

test('every response has request ids; errors never carry a stack', async () => {
  const h = await createHarness();
  const r = await h.req(h.tokens.demo, 'GET', `${S}/detail`);
  assert.match(String(r.headers['x-openstack-request-id']), /^req-[0-9a-f-]{36}$/);
  assert.equal(r.headers['x-compute-request-id'], r.headers['x-openstack-request-id']);
  const e = await h.req(null, 'GET', S);
  assert.match(String(e.headers['x-openstack-request-id']), /^req-/);
  // an unexpected failure inside the controller: computeFault, generic message, no internals
  h.store.listServers = async () => { throw new Error('secret internal detail at /work/main/src/x.ts:1'); };
  const f = await h.req(h.tokens.demo, 'GET', S);
  assert.equal(f.statusCode, 500);
  assert.equal(f.json().computeFault.code, 500);
  assert.match(f.json().computeFault.message, /^Unexpected API Error/);
  assert.doesNotMatch(f.body, /secret|\.ts:|\n\s+at /);
  await h.close();
});

test('malformed JSON -> 400 "Malformed request body", nothing changes', async () => {
  const { h, id, before } = await booted();
  for (const [url, body] of [[S, '{"server": '], [`${S}/${id}/action`, '{os-stop}'], [`${S}/${id}`, 'nope']] as const) {
    const r = await h.app.inject({ method: url === `${S}/${id}` ? 'PUT' : 'POST', url, headers: { 'x-auth-token': h.tokens.demo, 'content-type': 'application/json' }, payload: body });
    assert.equal(r.statusCode, 400, url);
    assert.deepEqual(r.json(), { badRequest: { code: 400, message: 'Malformed request body' } });
  }
  await closeUnchanged(h, before);
});

test('schema violations -> 400 badRequest with the field named, nothing changes', async () => {
  const h = await createHarness();
  await h.boot(h.tokens.demo);
  const before = await snapshot(h);
  const base = { name: 'x', imageRef: IMAGE_ID, flavorRef: '1' };
  const cases: Array<[Record<string, unknown>, RegExp, string?]> = [
    [{ ...base, name: '' }, /name/],
    [{ ...base, name: ' lead' }, /name/],
    [{ ...base, bogus: 1 }, /bogus|Unexpected/],
    [{ ...base, min_count: 0 }, /min_count/],
    [{ ...base, accessIPv4: '1.2.3' }, /accessIPv4/],
    [{ ...base, user_data: '***not base64***' }, /base 64/],
    [{ ...base, metadata: { k: 5 } }, /k|metadata/],
    [{ ...base, description: 'd' }, /description/, '2.18'],
    [{ ...base, tags: ['a'] }, /tags/, '2.51'],
    [{ ...base }, /networks/, '2.37'],
    [{ ...base, networks: 'auto' }, /networks/, '2.36'],
    [{ ...base, networks: [{ uuid: 'not-a-uuid' }] }, /uuid/, '2.37'],
    [{ ...base, flavorRef: '999' }, /Flavor 999 could not be found/],
    [{ ...base, imageRef: '11111111-2222-3333-4444-555555555555' }, /Image .* could not be found/],
    [{ ...base, key_name: 'nokey' }, /Invalid key_name provided/],
    [{ ...base, availability_zone: 'elsewhere' }, /availability zone/],
    [{ ...base, min_count: 3, max_count: 2 }, /min_count/],
  ];
  for (const [server, re, v] of cases) {
    const r = await h.req(h.tokens.demo, 'POST', S, { server }, v);
    assert.equal(r.statusCode, 400, `${JSON.stringify(server)} -> ${r.body}`);
    assert.equal(r.json().badRequest.code, 400);
    assert.match(r.json().badRequest.message, re);
  }
  assert.equal((await h.req(h.tokens.demo, 'POST', S, { srv: base })).statusCode, 400);
  assert.equal((await h.req(h.tokens.demo, 'POST', S, [])).statusCode, 400);
  await closeUnchanged(h, before);
});

test('unknown action -> 400; bad action bodies -> 400; nothing changes', async () => {
  const { h, id, before } = await booted();
  let r = await h.req(h.tokens.demo, 'POST', `${S}/${id}/action`, { 'os-frobnicate': null });
  assert.deepEqual(r.json(), { badRequest: { code: 400, message: 'There is no such action: os-frobnicate' } });
  r = await h.req(h.tokens.demo, 'POST', `${S}/${id}/action`, { reboot: { type: 'WARM' } });
  assert.equal(r.statusCode, 400);
  r = await h.req(h.tokens.demo, 'POST', `${S}/${id}/action`, { reboot: {} });
  assert.equal(r.statusCode, 400);
  r = await h.req(h.tokens.demo, 'POST', `${S}/${id}/action`, { resize: { flavorRef: '1' } });
  assert.match(r.json().badRequest.message, /must change flavor/);
  r = await h.req(h.tokens.demo, 'POST', `${S}/${id}/action`, { resize: { flavorRef: '999' } });
  assert.equal(r.statusCode, 400);
  r = await h.req(h.tokens.demo, 'POST', `${S}/${id}/action`, { lock: { locked_reason: '' } }, '2.73');
  assert.equal(r.statusCode, 400);
  r = await h.req(h.tokens.demo, 'POST', `${S}/${id}/action`, { createImage: {} });
  assert.equal(r.statusCode, 400);
  await closeUnchanged(h, before);
});

test('wrong state -> 409 with Nova message (vm_state and task_state)', async () => {
  const h = await createHarness({}, 50);
  const id = await h.boot(h.tokens.demo);
  let r = await h.req(h.tokens.demo, 'POST', `${S}/${id}/action`, { 'os-start': null });
  assert.equal(r.statusCode, 409);
  assert.deepEqual(r.json(), { conflictingRequest: { code: 409, message: `Cannot 'start' instance ${id} while it is in vm_state active` } });
  r = await h.req(h.tokens.demo, 'POST', `${S}/${id}/action`, { unpause: null });
  assert.equal(r.json().conflictingRequest.message, `Cannot 'unpause' instance ${id} while it is in vm_state active`);
  r = await h.req(h.tokens.demo, 'POST', `${S}/${id}/action`, { 'os-stop': null });
  assert.equal(r.statusCode, 202);
  // a task is running now
  r = await h.req(h.tokens.demo, 'POST', `${S}/${id}/action`, { pause: null });
  assert.equal(r.statusCode, 409);
  assert.equal(r.json().conflictingRequest.message, `Cannot 'pause' instance ${id} while it is in task_state powering-off`);
  await h.idle();
  r = await h.req(h.tokens.demo, 'POST', `${S}/${id}/action`, { confirmResize: null });
  assert.equal(r.json().conflictingRequest.message, `Cannot 'confirmResize' instance ${id} while it is in vm_state stopped`);
  await h.close();
});

test('locked server: 409 for the owner, admin may act; admin lock needs admin to unlock', async () => {
  const h = await createHarness();
  const id = await h.boot(h.tokens.demo);
  assert.equal((await h.req(h.tokens.demo, 'POST', `${S}/${id}/action`, { lock: { locked_reason: 'maint' } }, '2.73')).statusCode, 202);
  const before = await snapshot(h);
  let r = await h.req(h.tokens.demo, 'POST', `${S}/${id}/action`, { 'os-stop': null });
  assert.deepEqual(r.json(), { conflictingRequest: { code: 409, message: `Instance ${id} is locked` } });
  r = await h.req(h.tokens.demo, 'DELETE', `${S}/${id}`);
  assert.equal(r.statusCode, 409);
  assert.equal(await snapshot(h), before);
  const show = await h.req(h.tokens.demo, 'GET', `${S}/${id}`, undefined, '2.73');
  assert.equal(show.json().server.locked, true);
  assert.equal(show.json().server.locked_reason, 'maint');
  // createImage ignores the lock (Nova)
  assert.equal((await h.req(h.tokens.demo, 'POST', `${S}/${id}/action`, { createImage: { name: 'snap' } })).statusCode, 202);
  await h.idle();
  // admin bypasses the lock
  assert.equal((await h.req(h.tokens.admin, 'POST', `${S}/${id}/action`, { 'os-stop': null })).statusCode, 202);
  await h.idle();
  assert.equal((await h.req(h.tokens.demo, 'POST', `${S}/${id}/action`, { unlock: null })).statusCode, 202);
  // an admin's lock cannot be lifted by the owner
  assert.equal((await h.req(h.tokens.admin, 'POST', `${S}/${id}/action`, { lock: null })).statusCode, 202);
  r = await h.req(h.tokens.demo, 'POST', `${S}/${id}/action`, { unlock: null });
  assert.equal(r.statusCode, 403);
  assert.equal((await h.req(h.tokens.admin, 'POST', `${S}/${id}/action`, { unlock: null })).statusCode, 202);
  await h.close();
});

test("other project's server -> 404 everywhere; non-UUID id -> 404", async () => {
  const { h, id, before } = await booted();
  const msg = { itemNotFound: { code: 404, message: `Instance ${id} could not be found.` } };
  for (const [m, url, body] of [
    ['GET', `${S}/${id}`], ['PUT', `${S}/${id}`, { server: { name: 'x' } }], ['DELETE', `${S}/${id}`],
    ['POST', `${S}/${id}/action`, { 'os-stop': null }], ['GET', `${S}/${id}/metadata`], ['GET', `${S}/${id}/os-instance-actions`],
  ] as const) {
    const r = await h.req(h.tokens.other, m, url, body);
    assert.equal(r.statusCode, 404, `${m} ${url}`);
    assert.deepEqual(r.json(), msg);
  }
  const byName = await h.req(h.tokens.demo, 'GET', `${S}/s1`);
  assert.deepEqual(byName.json(), { itemNotFound: { code: 404, message: 'Instance s1 could not be found.' } });
  assert.equal((await h.req(h.tokens.other, 'GET', S)).json().servers.length, 0);
  await closeUnchanged(h, before);
});

test('non-admin on admin actions -> 403; reader cannot write', async () => {
  const { h, id, before } = await booted();
  for (const body of [{ 'os-resetState': { state: 'error' } }, { migrate: null }, { 'os-migrateLive': { host: null, block_migration: false, disk_over_commit: false } }, { evacuate: { onSharedStorage: false } }]) {
    const r = await h.req(h.tokens.demo, 'POST', `${S}/${id}/action`, body);
    assert.equal(r.statusCode, 403, JSON.stringify(body));
    assert.equal(r.json().forbidden.code, 403);
  }
  assert.equal((await h.req(h.tokens.demo, 'GET', `${S}/detail?all_tenants=1`)).statusCode, 403);
  assert.equal((await h.req(h.tokens.demo, 'POST', '/compute/v2.1/flavors', { flavor: { name: 'f', ram: 1, vcpus: 1, disk: 0 } })).statusCode, 403);
  assert.equal((await h.req(h.tokens.demo, 'POST', S, { server: { name: 'x', imageRef: IMAGE_ID, flavorRef: '1', host: 'h', networks: 'none' } }, '2.74')).statusCode, 403);
  // reader: may look, may not touch
  assert.equal((await h.req(h.tokens.reader, 'GET', `${S}/${id}`)).statusCode, 200);
  assert.equal((await h.req(h.tokens.reader, 'POST', `${S}/${id}/action`, { 'os-stop': null })).statusCode, 403);
  assert.equal((await h.req(h.tokens.reader, 'DELETE', `${S}/${id}`)).statusCode, 403);
  await closeUnchanged(h, before);
});

test('bad/expired token -> 401 (Nova body)', async () => {
  const h = await createHarness();
  for (const t of [null, 'garbage', 'a.b']) {
    const r = await h.req(t, 'GET', S);
    assert.equal(r.statusCode, 401);
    assert.equal(r.json().unauthorized.code, 401);
  }
  await h.close();
});

test('microversions: default 2.1, latest, both headers echoed, 400 malformed, 406 out of range', async () => {
  const h = await createHarness();
  let r = await h.req(h.tokens.demo, 'GET', S);
  assert.equal(r.headers['openstack-api-version'], 'compute 2.1');
  assert.equal(r.headers['x-openstack-nova-api-version'], '2.1');
  assert.match(String(r.headers.vary), /OpenStack-API-Version/);
  r = await h.req(h.tokens.demo, 'GET', S, undefined, 'latest');
  assert.equal(r.headers['openstack-api-version'], 'compute 2.93');
  r = await h.app.inject({ method: 'GET', url: S, headers: { 'x-auth-token': h.tokens.demo, 'x-openstack-nova-api-version': '2.47' } });
  assert.equal(r.headers['x-openstack-nova-api-version'], '2.47');
  r = await h.req(h.tokens.demo, 'GET', S, undefined, '2.92');
  assert.equal(r.statusCode, 200);
  r = await h.req(h.tokens.demo, 'GET', S, undefined, '2.200');
  assert.equal(r.statusCode, 406);
  assert.equal(r.json().computeFault.message, 'Version 2.200 is not supported by the API. Minimum is 2.1 and maximum is 2.93.');
  r = await h.req(h.tokens.demo, 'GET', S, undefined, '3.0');
  assert.equal(r.statusCode, 406);
  r = await h.req(h.tokens.demo, 'GET', S, undefined, '2.x');
  assert.equal(r.statusCode, 400);
  assert.equal(r.json().badRequest.code, 400);
  // a route that only exists from a version on: 404 below it
  const id = await h.boot(h.tokens.demo);
  assert.equal((await h.req(h.tokens.demo, 'GET', `${S}/${id}/tags`, undefined, '2.25')).statusCode, 404);
  assert.equal((await h.req(h.tokens.demo, 'GET', `${S}/${id}/tags`, undefined, '2.26')).statusCode, 200);
  // version documents are public
  r = await h.req(null, 'GET', '/compute/');
  assert.equal(r.json().versions[1].status, 'CURRENT');
  assert.equal(r.json().versions[1].version, '2.93');
  r = await h.req(null, 'GET', '/compute/v2.1');
  assert.equal(r.json().version.min_version, '2.1');
  await h.close();
});

test('known path, wrong method -> 405 badMethod with Allow; unknown path 404; PUT /servers/detail is Nova\'s update of "detail"', async () => {
  const { h, id, before } = await booted();
  const flavorsBefore = JSON.stringify(await h.store.listFlavors({ includePrivate: true }));
  for (const [m, url, allow] of [
    ['DELETE', '/compute/v2.1/flavors', 'GET, HEAD, POST'],
    ['PUT', `${S}?limit=1`, 'GET, HEAD, POST'],
    ['POST', `${S}/${id}`, 'DELETE, GET, HEAD, PUT'],
    ['GET', `${S}/${id}/action`, 'POST'],
    ['PATCH', `${S}/${id}/metadata`, 'GET, HEAD, POST, PUT'],
  ] as const) {
    const r = await h.req(h.tokens.admin, m, url, m === 'GET' ? undefined : {});
    assert.equal(r.statusCode, 405, `${m} ${url}: ${r.body}`);
    assert.deepEqual(r.json(), { badMethod: { code: 405, message: `The method ${m} is not allowed for this resource.` } });
    assert.equal(r.headers.allow, allow, `${m} ${url}`);
    assert.match(String(r.headers['x-openstack-request-id']), /^req-/);
  }
  // Nova routes PUT/DELETE /servers/detail to the server "detail": 404, not 405
  for (const m of ['PUT', 'DELETE']) {
    const r = await h.req(h.tokens.demo, m, `${S}/detail`, m === 'PUT' ? { server: { name: 'x' } } : undefined);
    assert.deepEqual(r.json(), { itemNotFound: { code: 404, message: 'Instance detail could not be found.' } }, m);
  }
  // a trailing slash is another path (the router does not serve it): 404, not 405
  assert.equal((await h.req(h.tokens.demo, 'GET', `${S}/`)).statusCode, 404);
  let r = await h.req(h.tokens.demo, 'GET', '/compute/v2.1/no-such-thing');
  assert.deepEqual(r.json(), { itemNotFound: { code: 404, message: 'The resource could not be found.' } });
  // still authenticated first, like every compute request
  assert.equal((await h.req(null, 'DELETE', '/compute/v2.1/flavors')).statusCode, 401);
  // identity and image answer 405 in their own bodies
  r = await h.req(h.tokens.demo, 'PUT', '/identity/v3/auth/tokens', {});
  assert.equal(r.statusCode, 405);
  assert.equal(r.json().error.code, 405);
  r = await h.req(h.tokens.demo, 'PUT', '/image/v2/images', {});
  assert.equal(r.statusCode, 405);
  assert.equal(r.json().error.title, 'Method Not Allowed');
  assert.equal(await snapshot(h), before);
  assert.equal(JSON.stringify(await h.store.listFlavors({ includePrivate: true })), flavorsBefore);
  await h.close();
});

test('refused actions (wrong vm_state, task running) leave no trace', async () => {
  const h = await createHarness();
  const id = await h.boot(h.tokens.demo);
  const stopped = await h.boot(h.tokens.demo, 's2');
  // as if a stop were in flight on s2 (a host that takes its time)
  await h.store.updateServer(stopped, { taskState: 'powering-off' });
  const before = await snapshot(h);
  const refused: Array<[string, unknown, string]> = [
    [id, { 'os-start': null }, `Cannot 'start' instance ${id} while it is in vm_state active`],
    [id, { resume: null }, `Cannot 'resume' instance ${id} while it is in vm_state active`],
    [id, { revertResize: null }, `Cannot 'revertResize' instance ${id} while it is in vm_state active`],
    [stopped, { pause: null }, `Cannot 'pause' instance ${stopped} while it is in task_state powering-off`],
    [stopped, { rebuild: { imageRef: IMAGE_ID } }, `Cannot 'rebuild' instance ${stopped} while it is in task_state powering-off`],
    [stopped, { resize: { flavorRef: '2' } }, `Cannot 'resize' instance ${stopped} while it is in task_state powering-off`],
  ];
  for (const [sid, body, message] of refused) {
    const r = await h.req(h.tokens.demo, 'POST', `${S}/${sid}/action`, body);
    assert.deepEqual(r.json(), { conflictingRequest: { code: 409, message } }, JSON.stringify(body));
  }
  await closeUnchanged(h, before);
});

test('expired and bad tokens on writes -> 401 and nothing changes', async () => {
  const { h, id, before } = await booted();
  // a token that expires in a second (tokens are issued with the controller's current lifetime)
  h.cfg.tokenTtlSeconds = 1;
  const expired = await login(h.app, 'demo', 'demopw', 'demo');
  await new Promise((r) => setTimeout(r, 1100));
  const writes: Array<[string, string, unknown]> = [
    ['POST', S, { server: { name: 'x', imageRef: IMAGE_ID, flavorRef: '1' } }],
    ['POST', `${S}/${id}/action`, { 'os-stop': null }],
    ['PUT', `${S}/${id}`, { server: { name: 'renamed' } }],
    ['DELETE', `${S}/${id}`, undefined],
    ['POST', `${S}/${id}/metadata`, { metadata: { k: 'v' } }],
  ];
  for (const token of [expired, 'garbage', `${h.tokens.admin}x`]) {
    for (const [m, url, body] of writes) {
      const r = await h.req(token, m, url, body);
      assert.equal(r.statusCode, 401, `${m} ${url}`);
      assert.equal(r.json().unauthorized.code, 401);
    }
  }
  await closeUnchanged(h, before);
});

test('bad microversion on writes -> 400 (malformed) / 406 (out of range) and nothing changes', async () => {
  const { h, id, before } = await booted();
  for (const [v, status] of [['2.x', 400], ['two', 400], ['2.200', 406], ['3.0', 406], ['2.0', 406]] as const) {
    for (const [m, url, body] of [
      ['POST', S, { server: { name: 'x', imageRef: IMAGE_ID, flavorRef: '1', networks: 'none' } }],
      ['POST', `${S}/${id}/action`, { 'os-stop': null }],
      ['DELETE', `${S}/${id}`, undefined],
    ] as const) {
      const r = await h.req(h.tokens.demo, m, url, body, v);
      assert.equal(r.statusCode, status, `${v} ${m} ${url}`);
      assert.equal(r.json()[status === 400 ? 'badRequest' : 'computeFault'].code, status);
    }
  }
  await closeUnchanged(h, before);
});
