import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHarness, login } from '../support/harness.js';

const pw = (user: Record<string, unknown>, password: string, scope?: unknown) => ({
  auth: { identity: { methods: ['password'], password: { user: { ...user, password } } }, ...(scope !== undefined ? { scope } : {}) },
});

test('password auth scoped by project name + domain: 201, X-Subject-Token, roles, catalog', async () => {
  const h = await createHarness();
  const r = await h.app.inject({ method: 'POST', url: '/identity/v3/auth/tokens', payload: pw({ name: 'demo', domain: { name: 'Default' } }, 'demopw', { project: { name: 'demo', domain: { name: 'Default' } } }) });
  assert.equal(r.statusCode, 201);
  assert.ok(r.headers['x-subject-token']);
  const t = r.json().token;
  assert.equal(t.user.name, 'demo');
  assert.equal(t.project.name, 'demo');
  assert.deepEqual(t.roles.map((x: { name: string }) => x.name).sort(), ['member', 'reader']);
  const types = t.catalog.map((c: { type: string }) => c.type).sort();
  assert.deepEqual(types, ['block-storage', 'compute', 'identity', 'image', 'network', 'volumev3']);
  const compute = t.catalog.find((c: { type: string }) => c.type === 'compute');
  assert.equal(compute.endpoints[0].url, 'http://127.0.0.1:8774/compute/v2.1');
  assert.equal(compute.endpoints[0].interface, 'public');
  assert.equal(compute.endpoints[0].region, 'RegionOne');
  const vol = t.catalog.find((c: { type: string }) => c.type === 'volumev3');
  assert.equal(vol.endpoints[0].url, `http://127.0.0.1:8774/volume/v3/${h.ids.demoProject}`);
  assert.ok(Date.parse(t.expires_at) > Date.now());
  await h.close();
});

test('scope by project id, user by id, unscoped, default project', async () => {
  const h = await createHarness();
  const demo = await h.store.getUserByName('default', 'demo');
  let r = await h.app.inject({ method: 'POST', url: '/identity/v3/auth/tokens', payload: pw({ id: demo!.id }, 'demopw', { project: { id: h.ids.demoProject } }) });
  assert.equal(r.statusCode, 201);
  assert.equal(r.json().token.project.id, h.ids.demoProject);
  r = await h.app.inject({ method: 'POST', url: '/identity/v3/auth/tokens', payload: pw({ id: demo!.id }, 'demopw', 'unscoped') });
  assert.equal(r.statusCode, 201);
  assert.equal(r.json().token.project, undefined);
  assert.equal(r.json().token.catalog, undefined);
  // no scope: the default project
  r = await h.app.inject({ method: 'POST', url: '/identity/v3/auth/tokens', payload: pw({ name: 'demo', domain: { id: 'default' } }, 'demopw') });
  assert.equal(r.json().token.project.name, 'demo');
  // a project the user has no role on
  r = await h.app.inject({ method: 'POST', url: '/identity/v3/auth/tokens', payload: pw({ id: demo!.id }, 'demopw', { project: { id: h.ids.otherProject } }) });
  assert.equal(r.statusCode, 401);
  assert.equal(r.json().error.code, 401);
  await h.close();
});

test('wrong password / unknown user / malformed auth', async () => {
  const h = await createHarness();
  let r = await h.app.inject({ method: 'POST', url: '/identity/v3/auth/tokens', payload: pw({ name: 'demo', domain: { name: 'Default' } }, 'nope') });
  assert.equal(r.statusCode, 401);
  assert.deepEqual(Object.keys(r.json()), ['error']);
  r = await h.app.inject({ method: 'POST', url: '/identity/v3/auth/tokens', payload: pw({ name: 'ghost', domain: { name: 'Default' } }, 'x') });
  assert.equal(r.statusCode, 401);
  r = await h.app.inject({ method: 'POST', url: '/identity/v3/auth/tokens', payload: { auth: {} } });
  assert.equal(r.statusCode, 400);
  r = await h.app.inject({ method: 'POST', url: '/identity/v3/auth/tokens', headers: { 'content-type': 'application/json' }, payload: '{"auth":' });
  assert.equal(r.statusCode, 400);
  await h.close();
});

test('token method (rescoping) and validation with GET/HEAD /v3/auth/tokens', async () => {
  const h = await createHarness();
  const unscoped = await h.app.inject({ method: 'POST', url: '/identity/v3/auth/tokens', payload: pw({ name: 'demo', domain: { name: 'Default' } }, 'demopw', 'unscoped') });
  const tok = unscoped.headers['x-subject-token'] as string;
  const r = await h.app.inject({ method: 'POST', url: '/identity/v3/auth/tokens', payload: { auth: { identity: { methods: ['token'], token: { id: tok } }, scope: { project: { id: h.ids.demoProject } } } } });
  assert.equal(r.statusCode, 201);
  assert.deepEqual(r.json().token.methods.sort(), ['password', 'token']);
  assert.ok(Date.parse(r.json().token.expires_at) <= Date.parse(unscoped.json().token.expires_at));
  const v = await h.app.inject({ method: 'GET', url: '/identity/v3/auth/tokens', headers: { 'x-auth-token': h.tokens.admin, 'x-subject-token': h.tokens.demo } });
  assert.equal(v.statusCode, 200);
  assert.equal(v.json().token.user.name, 'demo');
  const head = await h.app.inject({ method: 'HEAD', url: '/identity/v3/auth/tokens', headers: { 'x-auth-token': h.tokens.admin, 'x-subject-token': 'garbage.x' } });
  assert.equal(head.statusCode, 404);
  await h.close();
});

test('revocation: DELETE /v3/auth/tokens, and disabling a user revokes their tokens', async () => {
  const h = await createHarness();
  const t = await login(h.app, 'demo', 'demopw', 'demo');
  const ok = await h.app.inject({ method: 'GET', url: '/compute/v2.1/servers', headers: { 'x-auth-token': t } });
  assert.equal(ok.statusCode, 200);
  const del = await h.app.inject({ method: 'DELETE', url: '/identity/v3/auth/tokens', headers: { 'x-auth-token': h.tokens.admin, 'x-subject-token': t } });
  assert.equal(del.statusCode, 204);
  const after = await h.app.inject({ method: 'GET', url: '/compute/v2.1/servers', headers: { 'x-auth-token': t } });
  assert.equal(after.statusCode, 401);
  assert.equal(after.json().unauthorized.code, 401);
  // other tokens of the same user still work
  assert.equal((await h.app.inject({ method: 'GET', url: '/compute/v2.1/servers', headers: { 'x-auth-token': h.tokens.demo } })).statusCode, 200);
  const demo = await h.store.getUserByName('default', 'demo');
  await h.app.novalet.identity.setUserEnabled(demo!.id, false);
  assert.equal((await h.app.inject({ method: 'GET', url: '/compute/v2.1/servers', headers: { 'x-auth-token': h.tokens.demo } })).statusCode, 401);
  // and re-enabling does not resurrect old tokens
  await h.app.novalet.identity.setUserEnabled(demo!.id, true);
  assert.equal((await h.app.inject({ method: 'GET', url: '/compute/v2.1/servers', headers: { 'x-auth-token': h.tokens.demo } })).statusCode, 401);
  const fresh = await login(h.app, 'demo', 'demopw', 'demo');
  assert.equal((await h.app.inject({ method: 'GET', url: '/compute/v2.1/servers', headers: { 'x-auth-token': fresh } })).statusCode, 200);
  await h.close();
});

test('expiry: a token past its lifetime is 401', async () => {
  const h = await createHarness({ tokenTtlSeconds: 1 });
  const t = await login(h.app, 'demo', 'demopw', 'demo');
  assert.equal((await h.app.inject({ method: 'GET', url: '/compute/v2.1/servers', headers: { 'x-auth-token': t } })).statusCode, 200);
  await new Promise((r) => setTimeout(r, 1100));
  const r = await h.app.inject({ method: 'GET', url: '/compute/v2.1/servers', headers: { 'x-auth-token': t } });
  assert.equal(r.statusCode, 401);
  await h.close();
});

test('forged or tampered tokens are 401; version discovery is public', async () => {
  const h = await createHarness();
  const [body, sig] = h.tokens.demo.split('.');
  const payload = JSON.parse(Buffer.from(body!, 'base64url').toString());
  payload.prj = h.ids.adminProject;
  const forged = `${Buffer.from(JSON.stringify(payload)).toString('base64url')}.${sig}`;
  assert.equal((await h.app.inject({ method: 'GET', url: '/compute/v2.1/servers', headers: { 'x-auth-token': forged } })).statusCode, 401);
  assert.equal((await h.app.inject({ method: 'GET', url: '/compute/v2.1/servers' })).statusCode, 401);
  const v = await h.app.inject({ method: 'GET', url: '/identity/v3' });
  assert.equal(v.statusCode, 200);
  assert.equal(v.json().version.id, 'v3.14');
  assert.equal((await h.app.inject({ method: 'GET', url: '/identity/' })).statusCode, 300);
  await h.close();
});

test('admin read API: projects, users, roles (admin only); /v3/auth/projects for anyone', async () => {
  const h = await createHarness();
  const get = (t: string, url: string) => h.app.inject({ method: 'GET', url: `/identity${url}`, headers: { 'x-auth-token': t } });
  let r = await get(h.tokens.admin, '/v3/projects');
  assert.deepEqual(r.json().projects.map((p: { name: string }) => p.name).sort(), ['admin', 'demo', 'other']);
  r = await get(h.tokens.admin, '/v3/projects?name=demo');
  assert.equal(r.json().projects[0].id, h.ids.demoProject);
  assert.equal((await get(h.tokens.admin, `/v3/projects/${h.ids.demoProject}`)).json().project.name, 'demo');
  assert.equal((await get(h.tokens.admin, '/v3/users?name=demo')).json().users.length, 1);
  assert.deepEqual((await get(h.tokens.admin, '/v3/roles')).json().roles.map((x: { name: string }) => x.name).sort(), ['admin', 'member', 'reader']);
  r = await get(h.tokens.demo, '/v3/projects');
  assert.equal(r.statusCode, 403);
  assert.equal(r.json().error.code, 403);
  assert.deepEqual((await get(h.tokens.demo, '/v3/auth/projects')).json().projects.map((p: { name: string }) => p.name), ['demo']);
  await h.close();
});

test('admin read API: services, endpoints (the token catalog\'s), regions, role assignments with names', async () => {
  const h = await createHarness();
  const get = (t: string, url: string) => h.app.inject({ method: 'GET', url: `/identity${url}`, headers: { 'x-auth-token': t } });
  const services = (await get(h.tokens.admin, '/v3/services')).json().services;
  assert.deepEqual(services.map((s: { type: string }) => s.type).sort(), ['block-storage', 'compute', 'identity', 'image', 'network', 'volumev3']);
  const endpoints = (await get(h.tokens.admin, '/v3/endpoints')).json().endpoints;
  const compute = services.find((s: { type: string }) => s.type === 'compute');
  const ce = endpoints.filter((e: { service_id: string }) => e.service_id === compute.id);
  assert.equal(ce.length, 1);
  assert.equal(ce[0].url, `${h.cfg.publicUrl}/compute/v2.1`);
  assert.equal(ce[0].interface, 'public');
  assert.equal(ce[0].region_id, 'RegionOne');
  // the token's catalog and the endpoint list agree
  const tok = (await h.app.inject({ method: 'GET', url: '/identity/v3/auth/tokens', headers: { 'x-auth-token': h.tokens.admin, 'x-subject-token': h.tokens.admin } })).json().token;
  const tokCompute = tok.catalog.find((c: { type: string }) => c.type === 'compute');
  assert.equal(tokCompute.id, compute.id);
  assert.equal(tokCompute.endpoints[0].url, ce[0].url);
  assert.match(endpoints.find((e: { url: string }) => e.url.includes('/volume/')).url, /\/volume\/v3\/\$\(project_id\)s$/);
  assert.equal((await get(h.tokens.admin, `/v3/endpoints?service_id=${compute.id}&interface=public`)).json().endpoints.length, 1);
  assert.equal((await get(h.tokens.admin, '/v3/endpoints?interface=internal')).json().endpoints.length, 0);
  assert.deepEqual((await get(h.tokens.admin, '/v3/regions')).json().regions.map((r: { id: string }) => r.id), ['RegionOne']);

  let ra = (await get(h.tokens.admin, `/v3/role_assignments?user.id=${h.ids.demoUser}&include_names=True`)).json().role_assignments;
  assert.deepEqual(ra.map((a: any) => `${a.role.name}:${a.user.name}@${a.user.domain.name}:${a.scope.project.name}`), ['member:demo@Default:demo']);
  ra = (await get(h.tokens.admin, `/v3/role_assignments?scope.project.id=${h.ids.demoProject}`)).json().role_assignments;
  // demo (member) and reader (reader) on demo; without names only ids
  assert.equal(ra.length, 2);
  assert.deepEqual(Object.keys(ra[0].user), ['id']);
  for (const url of ['/v3/services', '/v3/endpoints', '/v3/regions', '/v3/role_assignments']) {
    const r = await get(h.tokens.demo, url);
    assert.equal(r.statusCode, 403, url);
    assert.equal(r.json().error.code, 403);
  }
  await h.close();
});

test('token issue is rate-limited per user: 429 with Retry-After and Keystone body; other users unaffected; a wrong password counts too', async () => {
  // burst 4: the harness's own login of demo took one
  const h = await createHarness({ tokenIssueLimit: { burst: 4, perMinute: 6 } });
  const demo = (password: string) => h.app.inject({ method: 'POST', url: '/identity/v3/auth/tokens', payload: pw({ name: 'demo', domain: { name: 'Default' } }, password) });
  assert.equal((await demo('wrong')).statusCode, 401);
  assert.equal((await demo('demopw')).statusCode, 201);
  assert.equal((await demo('demopw')).statusCode, 201);
  const r = await demo('demopw');
  assert.equal(r.statusCode, 429);
  assert.equal(r.headers['retry-after'], '10');
  assert.deepEqual(r.json(), { error: { code: 429, title: 'Too Many Requests', message: 'Too many token requests for this user; retry in 10 seconds.' } });
  // the limit is per user: admin still gets a token; a name that matches no user is limited on its own
  const admin = await h.app.inject({ method: 'POST', url: '/identity/v3/auth/tokens', payload: pw({ name: 'admin', domain: { name: 'Default' } }, 'nope') });
  assert.equal(admin.statusCode, 401);
  for (let i = 0; i < 4; i++) assert.equal((await h.app.inject({ method: 'POST', url: '/identity/v3/auth/tokens', payload: pw({ name: 'ghost', domain: { name: 'Default' } }, 'x') })).statusCode, 401);
  assert.equal((await h.app.inject({ method: 'POST', url: '/identity/v3/auth/tokens', payload: pw({ name: 'ghost', domain: { name: 'Default' } }, 'x') })).statusCode, 429);
  await h.close();
});
