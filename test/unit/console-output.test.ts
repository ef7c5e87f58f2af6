/**
 * Console output (issue 18): the agent's tail reader (lines, byte cap, chunking, missing file), its RPC endpoint,
 * and os-getConsoleOutput through the API on fake hosts (length rules, 400/403/404/409, control characters).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { tailConsoleLog } from '../../src/agent/console-log.js';
import { createRpcServer } from '../../src/rpc/server.js';
import { AgentClient, RpcError } from '../../src/rpc/client.js';
import { agentBackend } from '../../src/agent/rpc-backend.js';
import { serverFiles } from '../../src/agent/ops/domain-spec.js';
import { harness, silentLog, spawnParams, uuid } from './agent-doubles.js';
import { createHarness, type Harness } from '../support/harness.js';
import { FAKE_CONSOLE } from '../support/fake-hosts.js';

const S = '/compute/v2.1/servers';

/** a harness with one booted server of demo's, closed afterwards */
async function withServer(fn: (h: Harness, id: string) => Promise<void>): Promise<void> {
  const h = await createHarness();
  try {
    await fn(h, await h.boot(h.tokens.demo));
  } finally {
    await h.close();
  }
}

test('tailConsoleLog: Nova _tail_log line semantics, missing file, UTF-8', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'novalet-console-'));
  try {
    const f = join(dir, 'console.log');
    assert.deepEqual(await tailConsoleLog(f, null), { output: '', truncated: false }, 'no file yet: empty console');
    writeFileSync(f, 'one\ntwo\nthree\n');
    assert.equal((await tailConsoleLog(f, null)).output, 'one\ntwo\nthree\n');
    // split on \n, last N pieces, joined: the trailing newline makes an empty last piece (as Nova)
    assert.equal((await tailConsoleLog(f, 1)).output, '');
    assert.equal((await tailConsoleLog(f, 2)).output, 'three\n');
    assert.equal((await tailConsoleLog(f, 3)).output, 'two\nthree\n');
    assert.equal((await tailConsoleLog(f, 4)).output, 'one\ntwo\nthree\n');
    assert.equal((await tailConsoleLog(f, 100)).output, 'one\ntwo\nthree\n');
    assert.equal((await tailConsoleLog(f, 0)).output, '');
    assert.equal((await tailConsoleLog(f, 2)).truncated, true);
    assert.equal((await tailConsoleLog(f, 100)).truncated, false);
    writeFileSync(f, 'a\nb\nc');
    assert.equal((await tailConsoleLog(f, 1)).output, 'c');
    assert.equal((await tailConsoleLog(f, 2, undefined, 1)).output, 'b\nc', '1-byte chunks give the same answer');
    writeFileSync(f, 'ünïcode ✓\n');
    assert.equal((await tailConsoleLog(f, null)).output, 'ünïcode ✓\n');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('tailConsoleLog: a large log is read from the end only, capped at maxBytes', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'novalet-console-'));
  try {
    const f = join(dir, 'console.log');
    const line = (i: number) => `line ${String(i).padStart(7, '0')} ${'x'.repeat(50)}`;
    const lines = Array.from({ length: 60_000 }, (_, i) => line(i)); // ~3.7 MB
    writeFileSync(f, `${lines.join('\n')}\nNOVALET-READY`);
    const all = await tailConsoleLog(f, null);
    assert.equal(all.truncated, true);
    assert.equal(Buffer.byteLength(all.output), 100 * 1024, 'Nova\'s MAX_CONSOLE_BYTES');
    assert.ok(all.output.endsWith(`${line(59_999)}\nNOVALET-READY`));
    const three = await tailConsoleLog(f, 3);
    assert.equal(three.output, `${line(59_998)}\n${line(59_999)}\nNOVALET-READY`);
    // more lines than the cap holds: the cap wins (a partial first line, as Nova's last_bytes)
    const many = await tailConsoleLog(f, 50_000, 4096, 1000);
    assert.equal(Buffer.byteLength(many.output), 4096);
    assert.ok(many.output.endsWith('NOVALET-READY'));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('agent RPC: GET /v1/servers/:uuid/console tails the server\'s console.log; unknown server 404; bad lines 400', async () => {
  const h = await harness();
  const SECRET = 'test-secret-0123456789abcdef';
  const app = createRpcServer({ backend: agentBackend(h.agent), secret: SECRET, log: silentLog });
  try {
    await app.listen({ host: '127.0.0.1', port: 0 });
    const client = new AgentClient({ url: `http://127.0.0.1:${(app.server.address() as { port: number }).port}`, secret: SECRET });
    const id = uuid();
    assert.equal((await client.run('spawn', id, spawnParams(id, h.imageFile), { timeoutMs: 10_000 })).state, 'succeeded');
    const log = serverFiles(h.agent.deps.paths, id).consoleLog;
    assert.deepEqual(await client.consoleOutput(id), { output: '', truncated: false }, 'the fake hypervisor wrote no log');
    mkdirSync(dirname(log), { recursive: true });
    writeFileSync(log, 'boot\n\x1b[0mNOVALET-READY\r\nlogin:');
    assert.deepEqual(await client.consoleOutput(id), { output: 'boot\n\x1b[0mNOVALET-READY\r\nlogin:', truncated: false }, 'raw: the controller filters');
    assert.deepEqual(await client.consoleOutput(id.toUpperCase(), 2), { output: '\x1b[0mNOVALET-READY\r\nlogin:', truncated: true });
    await assert.rejects(client.consoleOutput(uuid()), (e: unknown) => e instanceof RpcError && e.code === 'unknown_server' && e.status === 404);
    await assert.rejects(client.consoleOutput('..%2F..%2Fetc'), (e: unknown) => e instanceof RpcError && e.code === 'unknown_server');
    const bad = await client.raw('GET', `/v1/servers/${id}/console?lines=-1`);
    assert.equal(bad.status, 400);
    assert.equal((bad.body as { error: { code: string } }).error.code, 'bad_request');
  } finally {
    await app.close();
    await h.cleanup();
  }
});

test('os-getConsoleOutput: 200 {output}; length: lines, -1/null/absent = all, numeric strings; invalid -> 400', () => withServer(async (h, id) => {
  const get = (body: unknown, token = h.tokens.demo) => h.req(token, 'POST', `${S}/${id}/action`, { 'os-getConsoleOutput': body });
  let r = await get({});
  assert.equal(r.statusCode, 200);
  assert.deepEqual(r.json(), { output: FAKE_CONSOLE });
  for (const all of [-1, '-1', null]) assert.equal((await get({ length: all })).json().output, FAKE_CONSOLE, `length ${String(all)}`);
  assert.equal((await get({ length: 1 })).json().output, 'LAST LINE');
  assert.equal((await get({ length: '2' })).json().output, 'ANOTHER\nLAST LINE');
  assert.equal((await get({ length: 0 })).json().output, '');
  assert.equal((await get({ length: 1e12 })).json().output, FAKE_CONSOLE);
  for (const bad of [-2, '-2', 2.5, '2.5', 'ten', '', true, [1], { n: 1 }]) {
    r = await get({ length: bad });
    assert.equal(r.statusCode, 400, `length ${JSON.stringify(bad)}: ${r.body}`);
    assert.ok(r.json().badRequest.message, r.body);
  }
  assert.equal((await get({ length: 1, lines: 2 })).statusCode, 400, 'additional properties');
  assert.equal((await get(null)).statusCode, 400, 'the action body must be an object');
  // reader: no POST (Nova's PROJECT_MEMBER_OR_ADMIN); another project: 404; a missing server: 404
  assert.equal((await get({}, h.tokens.reader)).statusCode, 403);
  assert.equal((await get({}, h.tokens.other)).statusCode, 404);
  assert.equal((await get({}, h.tokens.admin)).statusCode, 200);
  r = await h.req(h.tokens.demo, 'POST', `${S}/${crypto.randomUUID()}/action`, { 'os-getConsoleOutput': {} });
  assert.equal(r.statusCode, 404);
  assert.match(r.json().itemNotFound.message, /could not be found/);
  // a read: no instance action, no task
  const acts = (await h.req(h.tokens.demo, 'GET', `${S}/${id}/os-instance-actions`)).json().instanceActions;
  assert.deepEqual(acts.map((a: { action: string }) => a.action), ['create']);
}));

test('os-getConsoleOutput: control characters stripped as Nova does (\\t and \\n kept)', () => withServer(async (h, id) => {
  h.driver.consoleLogs.set(id, 'a\x00b\x07\x08c\td\r\ne\x0b\x0c\x1b[0mf\x1f\x7fg ü');
  const r = await h.req(h.tokens.demo, 'POST', `${S}/${id}/action`, { 'os-getConsoleOutput': { length: -1 } });
  assert.equal(r.statusCode, 200);
  assert.equal(r.json().output, 'abc\td\ne[0mf\x7fg ü');
}));

test('os-getConsoleOutput: 409 without a host, while deleting or migrating, or when the host is unreachable; 404 when the host has no console', () => withServer(async (h, id) => {
  const get = () => h.req(h.tokens.demo, 'POST', `${S}/${id}/action`, { 'os-getConsoleOutput': {} });
  // stopped, paused, locked: still readable (Nova checks no vm_state)
  await h.store.updateServer(id, { vmState: 'stopped', locked: true, lockedBy: 'admin' });
  assert.equal((await get()).statusCode, 200);
  await h.store.updateServer(id, { vmState: 'active', locked: false, lockedBy: null });
  for (const t of ['deleting', 'migrating']) {
    await h.store.updateServer(id, { taskState: t });
    const r = await get();
    assert.equal(r.statusCode, 409, t);
    assert.equal(r.json().conflictingRequest.message, `Cannot 'get_console_output' instance ${id} while it is in task_state ${t}`);
  }
  await h.store.updateServer(id, { taskState: null });
  h.driver.failNext('console', 'agent fake-host unreachable', 'unavailable');
  let r = await get();
  assert.equal(r.statusCode, 409);
  assert.match(r.json().conflictingRequest.message, /is not ready/);
  h.driver.failNext('console', 'no server', 'unknown_server');
  r = await get();
  assert.equal(r.statusCode, 404);
  assert.equal(r.json().itemNotFound.message, 'Guest does not have a console available.');
  await h.store.updateServer(id, { host: null });
  r = await get();
  assert.equal(r.statusCode, 409);
  assert.equal(r.json().conflictingRequest.message, `Instance ${id} is not ready`);
}));
