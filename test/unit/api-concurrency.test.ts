/**
 * Concurrency over real HTTP: the controller listens on 127.0.0.1:<ephemeral> and 50 clients send at once
 * (separate connections, as 50 users' CLIs would). Exactly one request wins each race; nothing is lost.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { generateKeyPairSync } from 'node:crypto';
import { createHarness, IMAGE_ID, type Harness } from '../support/harness.js';
import { opensshPublicKey } from '../../src/controller/compute/keypairs.js';

const CLIENTS = 50;

interface Http { status: number; body: any; }

/** the harness's app on a real socket; every call opens its own connection (agent: false), as separate CLIs do */
async function listen(h: Harness) {
  await h.app.listen({ host: '127.0.0.1', port: 0 });
  const { port } = h.app.server.address() as { port: number };
  const call = (token: string, method: string, path: string, body?: unknown): Promise<Http> => new Promise((resolve, reject) => {
    const payload = body !== undefined ? JSON.stringify(body) : undefined;
    const req = request({
      host: '127.0.0.1', port, method, path, agent: false,
      headers: { 'x-auth-token': token, ...(payload !== undefined ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) } : {}) },
    }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => { text += c; });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text ? JSON.parse(text) : null }));
    });
    req.on('error', reject);
    req.end(payload);
  });
  return { call };
}

const S = '/compute/v2.1/servers';

test(`${CLIENTS} HTTP clients, conflicting actions on 10 servers: one winner per server, its result is what sticks`, async (t) => {
  // each host operation takes 3 s, so every request of the burst arrives while the winner's task is in flight
  const h = await createHarness({}, 3000);
  t.after(() => h.close()); // also when an assertion fails: a listening server would keep the run alive
  const http = await listen(h);
  const created = await Promise.all(Array.from({ length: 10 }, (_, i) =>
    http.call(h.tokens.demo, 'POST', S, { server: { name: `race${i}`, imageRef: IMAGE_ID, flavorRef: '1' } })));
  const ids = created.map((r) => r.body.server.id as string);
  await h.idle();
  const bodies = [{ 'os-stop': null }, { pause: null }, { suspend: null }, { reboot: { type: 'SOFT' } }, { rebuild: { imageRef: IMAGE_ID } }];
  const expect: Record<string, [string, string]> = { 'os-stop': ['stop', 'SHUTOFF'], pause: ['pause', 'PAUSED'], suspend: ['suspend', 'SUSPENDED'], reboot: ['reboot', 'ACTIVE'], rebuild: ['rebuild', 'ACTIVE'] };
  const sent = Array.from({ length: CLIENTS }, (_, i) => ({ id: ids[i % 10]!, body: bodies[Math.floor(i / 10) % bodies.length]! }));
  const results = await Promise.all(sent.map((s) => http.call(h.tokens.demo, 'POST', `${S}/${s.id}/action`, s.body)));
  for (const r of results) assert.ok(r.status === 202 || r.status === 409, `${r.status} ${JSON.stringify(r.body)}`);
  // the burst is over and every winner's task is still running: each loser really raced a task in flight
  for (const id of ids) assert.notEqual((await h.store.getServer(id))!.taskState, null, `${id}: task finished before the burst ended`);
  await h.idle();
  for (const id of ids) {
    const mine = results.map((r, i) => ({ r, s: sent[i]! })).filter((x) => x.s.id === id);
    const won = mine.filter((x) => x.r.status === 202);
    assert.equal(won.length, 1, `server ${id}: ${won.length} winners`);
    for (const x of mine.filter((y) => y.r.status === 409)) {
      assert.match(x.r.body.conflictingRequest.message, new RegExp(`^Cannot '\\w+' instance ${id} while it is in (task_state|vm_state) `));
    }
    const [action, status] = expect[Object.keys(won[0]!.s.body)[0]!]!;
    const s = (await http.call(h.tokens.demo, 'GET', `${S}/${id}`)).body.server;
    assert.equal(s.status, status, `${id} after ${action}`);
    assert.equal(s['OS-EXT-STS:task_state'], null);
    const acts = (await http.call(h.tokens.demo, 'GET', `${S}/${id}/os-instance-actions`)).body.instanceActions;
    assert.deepEqual(acts.map((a: { action: string }) => a.action).sort(), ['create', action].sort(), 'the losers left no instance action');
  }
});

test(`${CLIENTS} HTTP clients add metadata to one server at once: no update is lost`, async (t) => {
  const h = await createHarness();
  t.after(() => h.close()); // also when an assertion fails: a listening server would keep the run alive
  const id = await h.boot(h.tokens.demo, 'meta', { metadata: { base: 'x' } });
  const http = await listen(h);
  const results = await Promise.all(Array.from({ length: CLIENTS }, (_, i) =>
    http.call(h.tokens.demo, 'POST', `${S}/${id}/metadata`, { metadata: { [`k${i}`]: `v${i}` } })));
  for (const r of results) assert.equal(r.status, 200, JSON.stringify(r.body));
  const md = (await http.call(h.tokens.demo, 'GET', `${S}/${id}/metadata`)).body.metadata;
  const want: Record<string, string> = { base: 'x' };
  for (let i = 0; i < CLIENTS; i++) want[`k${i}`] = `v${i}`;
  assert.deepEqual(md, want);
});

test(`${CLIENTS} HTTP clients import the same keypair name (one wins) / delete the same server (destroyed once)`, async (t) => {
  const h = await createHarness();
  t.after(() => h.close()); // also when an assertion fails: a listening server would keep the run alive
  const http = await listen(h);
  // every client imports its own key under the same name
  const pubs = Array.from({ length: CLIENTS }, (_, i) => opensshPublicKey(generateKeyPairSync('ed25519').publicKey, `client${i}`));
  const keys = await Promise.all(pubs.map((public_key) => http.call(h.tokens.demo, 'POST', '/compute/v2.1/os-keypairs', { keypair: { name: 'shared', public_key } })));
  assert.equal(keys.filter((r) => r.status === 200).length, 1, keys.map((r) => r.status).join(','));
  for (const r of keys.filter((x) => x.status !== 200)) assert.deepEqual(r.body, { conflictingRequest: { code: 409, message: "Key pair 'shared' already exists." } });
  const list = (await http.call(h.tokens.demo, 'GET', '/compute/v2.1/os-keypairs')).body.keypairs;
  assert.equal(list.length, 1);
  assert.equal(list[0].keypair.public_key, keys.find((r) => r.status === 200)!.body.keypair.public_key, 'the winner\'s key is the one kept');

  const id = await h.boot(h.tokens.demo, 'doomed');
  const dels = await Promise.all(Array.from({ length: CLIENTS }, () => http.call(h.tokens.demo, 'DELETE', `${S}/${id}`)));
  // Nova's delete is idempotent while one is under way (204 again) and 404 once the server is gone; one does the work
  for (const r of dels) assert.ok(r.status === 204 || r.status === 404, `${r.status} ${JSON.stringify(r.body)}`);
  await h.idle();
  assert.equal((await http.call(h.tokens.demo, 'GET', `${S}/${id}`)).status, 404);
  assert.equal((await h.store.listInstanceActions(id)).filter((a) => a.action === 'delete').length, 1);
  assert.equal(h.driver.calls.filter((c) => c.op === 'destroy' && c.serverId === id).length, 1, 'destroyed once');
});
