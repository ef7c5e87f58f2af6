import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { FastifyInstance } from 'fastify';
import { createRpcServer } from '../../src/rpc/server.js';
import { AgentClient, RpcError } from '../../src/rpc/client.js';
import { agentBackend } from '../../src/agent/rpc-backend.js';
import { harness, silentLog, spawnParams, uuid, type Harness } from './agent-doubles.js';

const SECRET = 'test-secret-0123456789abcdef';
let h: Harness;
let app: FastifyInstance;
let client: AgentClient;
let url: string;
let serverId: string;

before(async () => {
  h = await harness();
  app = createRpcServer({ backend: agentBackend(h.agent), secret: SECRET, log: silentLog });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const addr = app.server.address() as { port: number };
  url = `http://127.0.0.1:${addr.port}`;
  client = new AgentClient({ url, secret: SECRET });
  serverId = uuid();
  const op = await client.run('spawn', serverId, spawnParams(serverId, h.imageFile), { timeoutMs: 10_000 });
  assert.equal(op.state, 'succeeded');
});
after(async () => {
  await app.close();
  await h.cleanup();
});

/** Journal + hypervisor fingerprint: bad input must change neither. */
function fingerprint(): string {
  const j = h.agent.deps.journal;
  const ops = j.db.prepare('SELECT COUNT(*) AS n FROM operations').get() as { n: number };
  return JSON.stringify({ ops: ops.n, servers: j.listServers(true).map((s) => [s.uuid, s.power, s.status, s.task]), calls: h.hv.state.calls.filter((c) => !c.startsWith('listDomains')).length });
}

async function expectError(p: Promise<unknown>, code: string, status: number): Promise<void> {
  await assert.rejects(p, (e: unknown) => e instanceof RpcError && e.code === code && e.status === status);
}

test('rpc: happy path — submit, long-poll, duplicate request id, list, show, inventory, events, request id echoed', async () => {
  const sub = await client.submit('pause', serverId, {}, 'req-rpc-pause');
  assert.equal(sub.duplicate, false);
  const done = await client.getOperation(sub.operation.id, 5);
  assert.equal(done.state, 'succeeded');
  const dup = await client.submit('pause', serverId, {}, 'req-rpc-pause');
  assert.equal(dup.duplicate, true);
  assert.equal(dup.operation.id, sub.operation.id);
  assert.equal((await client.getOperationByRequestId('req-rpc-pause')).id, sub.operation.id);
  // submit?wait: one round trip answers with the finished operation (still 202: it is new)
  const waited = await client.raw('POST', '/v1/operations?wait=5', { requestId: 'req-rpc-unpause', serverUuid: serverId, kind: 'unpause', params: {} });
  assert.equal(waited.status, 202);
  assert.equal((waited.body as { operation: { state: string } }).operation.state, 'succeeded');
  assert.equal((await client.getServer(serverId)).server.power, 'running');
  const list = await client.listServers();
  assert.ok(list.servers.some((s) => s.uuid === serverId && s.power === 'running' && s.task === null));
  const show = await client.getServer(serverId);
  assert.equal(show.server.spec.vcpus, 1);
  assert.ok(show.operations.length >= 3);
  const inv = await client.inventory();
  assert.equal(inv.protocol, 'novalet-agent/1');
  assert.ok(inv.memory.totalMiB > 0 && inv.cpu.cores > 0 && inv.disk.totalGiB > 0);
  assert.equal(inv.hypervisor.domainType, 'qemu');
  assert.ok(inv.servers.some((s) => s.uuid === serverId));
  const inv2 = await client.inventory();
  assert.equal(inv2.seq, inv.seq + 1);
  const ev = await client.events(0);
  assert.ok(ev.events.some((e) => e.requestId === 'req-rpc-pause'));
  const raw = await client.raw('GET', '/v1/servers', undefined, { 'x-request-id': 'req-echo-1' });
  assert.equal(raw.headers['x-request-id'], 'req-echo-1');
});

test('rpc: wrong or missing secret -> 401 unauthorized, nothing changed', async () => {
  const fp = fingerprint();
  const bad = new AgentClient({ url, secret: 'wrong-secret-but-long-enough' });
  await expectError(bad.submit('stop', serverId, {}), 'unauthorized', 401);
  await expectError(bad.listServers(), 'unauthorized', 401);
  const none = await client.raw('POST', '/v1/operations', { requestId: 'x', serverUuid: serverId, kind: 'stop', params: {} }, { authorization: '' });
  assert.equal(none.status, 401);
  assert.equal((none.body as { error: { code: string } }).error.code, 'unauthorized');
  assert.equal(fingerprint(), fp);
});

test('rpc: malformed messages -> 400 bad_request, nothing changed', async () => {
  const fp = fingerprint();
  const cases: [unknown, string][] = [
    ['{not json', 'broken JSON'],
    [{ serverUuid: serverId, kind: 'stop', params: {} }, 'no requestId'],
    [{ requestId: 'r-bad1', serverUuid: 'not-a-uuid', kind: 'stop', params: {} }, 'bad uuid'],
    [{ requestId: 'r-bad2', serverUuid: serverId, kind: 'explode', params: {} }, 'unknown kind'],
    [{ requestId: 'r-bad3', serverUuid: serverId, kind: 'reboot', params: {} }, 'params missing hard'],
    [{ requestId: 'r-bad4', serverUuid: serverId, kind: 'stop', params: { timeoutSec: 'soon' } }, 'params wrong type'],
    [{ requestId: 'r-bad5', serverUuid: serverId, kind: 'stop', params: { bogus: 1 } }, 'params extra field'],
  ];
  for (const [body, what] of cases) {
    const r = await client.raw('POST', '/v1/operations', body);
    assert.equal(r.status, 400, what);
    assert.equal((r.body as { error: { code: string } }).error.code, 'bad_request', what);
  }
  assert.equal(fingerprint(), fp);
});

test('rpc: unknown server -> 404 unknown_server; unknown operation -> 404 unknown_operation', async () => {
  const fp = fingerprint();
  const nobody = '99999999-9999-4999-8999-999999999999';
  await expectError(client.getServer(nobody), 'unknown_server', 404);
  await expectError(client.submit('stop', nobody, {}), 'unknown_server', 404);
  await expectError(client.getOperation('op-nope'), 'unknown_operation', 404);
  assert.equal(fingerprint(), fp);
});

test('rpc: operation in the wrong state -> 409 invalid_state; busy server -> 409 server_busy', async () => {
  const fp = fingerprint();
  await expectError(client.submit('unpause', serverId, {}), 'invalid_state', 409);
  await expectError(client.submit('resume', serverId, {}), 'invalid_state', 409);
  await expectError(client.submit('spawn', serverId, spawnParams(serverId, h.imageFile)), 'invalid_state', 409);
  assert.equal(fingerprint(), fp);
  let release!: () => void;
  h.hv.state.gates.set('pause', new Promise<void>((r) => { release = r; }));
  const p = await client.submit('pause', serverId, {});
  await expectError(client.submit('stop', serverId, {}), 'server_busy', 409);
  release();
  h.hv.state.gates.delete('pause');
  assert.equal((await client.waitOperation(p.operation.id, 5000)).state, 'succeeded');
  assert.equal((await client.run('unpause', serverId, {})).state, 'succeeded');
});

test('rpc: unsupported or missing protocol version -> 400 unsupported_version, nothing changed', async () => {
  const fp = fingerprint();
  for (const v of ['novalet-agent/2', '']) {
    const r = await client.raw('POST', '/v1/operations', { requestId: `v-${v}`, serverUuid: serverId, kind: 'stop', params: {} }, { 'x-novalet-protocol': v });
    assert.equal(r.status, 400);
    assert.equal((r.body as { error: { code: string } }).error.code, 'unsupported_version');
  }
  assert.equal(fingerprint(), fp);
});

test('rpc: an unreachable agent is a typed unavailable error', async () => {
  const c = new AgentClient({ url: 'http://127.0.0.1:1', secret: SECRET, timeoutMs: 2000 });
  await assert.rejects(c.listServers(), (e: unknown) => e instanceof RpcError && e.code === 'unavailable');
});

test('rpc: a malformed %-escape or an over-long path parameter -> typed 400 bad_request (issue 17 fuzz)', async () => {
  for (const path of ['/v1/servers/%zz', `/v1/operations/${'a'.repeat(500)}`, `/v1/operations/by-request/${'%20'.repeat(300)}`]) {
    const r = await client.raw('GET', path);
    assert.equal(r.status, 400, path);
    assert.equal((r.body as { error: { code: string } }).error.code, 'bad_request', path);
    assert.equal(typeof (r.body as { error: { requestId: string } }).error.requestId, 'string');
  }
});
