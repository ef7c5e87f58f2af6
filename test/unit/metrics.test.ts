import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { createHarness, login } from '../support/harness.js';
import { buildControllerApp } from '../../src/api/app.js';
import { SqliteStore } from '../../src/store/index.js';
import { defaultConfig } from '../../src/controller/config.js';
import { bootstrapIdentity } from '../../src/controller/identity/bootstrap.js';
import { FakeHosts } from '../support/fake-hosts.js';

/** the value of one sample line of the exposition (`name{labels} value`), or undefined */
function sample(text: string, name: string, labels: Record<string, string>): number | undefined {
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`)) continue;
    const body = line.slice(name.length + 1, line.lastIndexOf('}'));
    if (Object.entries(labels).every(([k, v]) => body.includes(`${k}="${v}"`))) return Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return undefined;
}

test('metrics: API latency by route pattern and status, task durations by kind and result, scheduler decisions, hosts', async () => {
  const h = await createHarness();
  try {
    const id = await h.boot(h.tokens.demo, 'm1');
    // a failed build: the only host fails the spawn, the retry finds no other host
    h.driver.failNext('spawn');
    const r = await h.req(h.tokens.demo, 'POST', '/compute/v2.1/servers', { server: { name: 'm2', imageRef: '70a599e0-31e7-49b7-b260-868f441e862b', flavorRef: '1' } });
    assert.equal(r.statusCode, 202);
    await h.idle();
    // a failed action: the host fails the stop
    h.driver.failNext('stop');
    assert.equal((await h.req(h.tokens.demo, 'POST', `/compute/v2.1/servers/${id}/action`, { 'os-stop': null })).statusCode, 202);
    await h.idle();
    assert.equal((await h.req(h.tokens.demo, 'GET', `/compute/v2.1/servers/${id}`)).statusCode, 200);
    assert.equal((await h.req(h.tokens.demo, 'GET', '/compute/v2.1/servers/00000000-0000-4000-8000-000000000000')).statusCode, 404);

    const m = await h.app.inject({ method: 'GET', url: '/metrics' });
    assert.equal(m.statusCode, 200);
    assert.match(String(m.headers['content-type']), /^text\/plain; version=0\.0\.4/);
    const t = m.body;
    const H = 'novalet_api_request_duration_seconds_count';
    assert.equal(sample(t, H, { method: 'GET', route: '/compute/v2.1/servers/:id', status: '200' }), 1);
    assert.equal(sample(t, H, { method: 'GET', route: '/compute/v2.1/servers/:id', status: '404' }), 1);
    assert.equal(sample(t, H, { method: 'POST', route: '/compute/v2.1/servers', status: '202' }), 2);
    assert.equal(sample(t, H, { method: 'POST', route: '/compute/v2.1/servers/:id/action', status: '202' }), 1);
    assert.ok(!t.includes(id), 'no raw URL (server id) in any label');
    const T = 'novalet_task_duration_seconds_count';
    assert.equal(sample(t, T, { kind: 'create', result: 'success' }), 1);
    assert.equal(sample(t, T, { kind: 'create', result: 'error' }), 1);
    assert.equal(sample(t, T, { kind: 'stop', result: 'error' }), 1);
    assert.equal(sample(t, 'novalet_scheduler_decisions_total', { decision: 'placed' }), 2);
    assert.equal(sample(t, 'novalet_scheduler_decisions_total', { decision: 'no_valid_host' }), 1);
    assert.equal(sample(t, 'novalet_hosts', { state: 'up' }), 1);
    assert.equal(sample(t, 'novalet_hosts', { state: 'down' }), 0);
    assert.match(t, /^novalet_event_loop_delay_p99_seconds \d/m);
    // the scrape itself is measured, by its pattern
    assert.equal(sample((await h.app.inject({ method: 'GET', url: '/metrics' })).body, H, { method: 'GET', route: '/metrics', status: '200' }), 1);
  } finally { await h.close(); }
});

test('healthz and readyz: unauthenticated; ready only while listening with a store that answers', async () => {
  const h = await createHarness();
  try {
    const live = await h.app.inject({ method: 'GET', url: '/healthz' });
    assert.equal(live.statusCode, 200);
    assert.deepEqual(live.json(), { status: 'ok' });
    // inject() does not listen
    assert.equal((await h.app.inject({ method: 'GET', url: '/readyz' })).statusCode, 503);
    await h.app.listen({ host: '127.0.0.1', port: 0 });
    const ready = await h.app.inject({ method: 'GET', url: '/readyz' });
    assert.equal(ready.statusCode, 200);
    assert.deepEqual(ready.json(), { status: 'ready' });
    await h.store.close();
    assert.equal((await h.app.inject({ method: 'GET', url: '/readyz' })).statusCode, 503);
    assert.equal((await h.app.inject({ method: 'GET', url: '/healthz' })).statusCode, 200);
  } finally { await h.app.close(); }
});

test('logs: request lines carry no token, password or user_data', async () => {
  const lines: string[] = [];
  const sink = new Writable({ write(chunk, _enc, cb) { lines.push(String(chunk)); cb(); } });
  const log = pino({ level: 'trace' }, sink);
  const store = new SqliteStore(':memory:');
  const cfg = defaultConfig({});
  const app = buildControllerApp(cfg, store, new FakeHosts(1, '/nonexistent'), { periodic: false, loggerInstance: log });
  try {
    await bootstrapIdentity(app.novalet.identity, { admin: 'adminpw-secret', demo: 'demopw' });
    await app.ready();
    const token = await login(app, 'admin', 'adminpw-secret', 'admin');
    await app.inject({ method: 'GET', url: '/identity/v3/auth/tokens', headers: { 'x-auth-token': token, 'x-subject-token': token } });
    await app.inject({ method: 'GET', url: '/compute/v2.1/servers', headers: { 'x-auth-token': token, authorization: `Bearer ${token}` } });
    await app.inject({ method: 'POST', url: '/compute/v2.1/servers', headers: { 'x-auth-token': token }, payload: { server: { name: 'x', user_data: 'c2VjcmV0LXVzZXItZGF0YQ==', adminPass: 'admin-pass-secret' } } });
    // a serializer or a log call that did include headers or a body is redacted
    app.log.info({ req: { headers: { 'x-auth-token': token, authorization: `Bearer ${token}` }, body: { password: 'adminpw-secret' } } }, 'incoming request');
    app.log.info({ server: { user_data: 'c2VjcmV0LXVzZXItZGF0YQ==', adminPass: 'admin-pass-secret' } }, 'server');
    const all = lines.join('');
    assert.ok(lines.some((l) => l.includes('/compute/v2.1/servers')), 'requests are logged');
    for (const secret of [token, 'adminpw-secret', 'admin-pass-secret', 'c2VjcmV0LXVzZXItZGF0YQ==']) assert.ok(!all.includes(secret), `${secret.slice(0, 12)} logged`);
    assert.ok(all.includes('[redacted]'));
  } finally { await app.close(); await store.close(); }
});
