import { test } from 'node:test';
import assert from 'node:assert/strict';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { startCtlServer, ctlSocketPath } from '../../src/agent/ctl/server.js';
import { ctlEvents, ctlRequest, CtlError } from '../../src/agent/ctl/client.js';
import { AgentError } from '../../src/rpc/errors.js';
import { parseListen } from '../../src/cli/args.js';
import { harness, spawnParams, uuid, addForeignDomain } from './agent-doubles.js';

test('ctl socket: 0600, status/list/show/drain/undrain/reconcile/events, typed errors', async () => {
  const h = await harness();
  const runDir = join(h.dir, 'run');
  const srv = await startCtlServer(h.agent, runDir);
  const sock = ctlSocketPath(runDir);
  try {
    assert.equal(statSync(sock).mode & 0o777, 0o600);
    assert.equal(statSync(runDir).mode & 0o777, 0o700);
    const seen: unknown[] = [];
    const tail = ctlEvents(sock, (e) => seen.push(e));
    const id = uuid();
    const { operation } = h.agent.runner.submit({ requestId: 'ctl-sp', serverUuid: id, kind: 'spawn', params: spawnParams(id, h.imageFile) });
    await h.agent.runner.wait(operation.id, 5000);

    const status = await ctlRequest(sock, { cmd: 'status' }) as { servers: { total: number; running: number }; drained: boolean };
    assert.equal(status.servers.total, 1);
    assert.equal(status.servers.running, 1);
    const list = await ctlRequest(sock, { cmd: 'list' }) as { servers: { uuid: string; power: string; task: string | null }[] };
    assert.deepEqual(list.servers.map((s) => [s.uuid, s.power, s.task]), [[id, 'running', null]]);
    const show = await ctlRequest(sock, { cmd: 'show', args: [id] }) as { operations: { steps: { step: string }[] }[]; domain: { power: string } };
    assert.equal(show.domain.power, 'running');
    assert.ok(show.operations[0]!.steps.some((s) => s.step === 'define'));

    assert.deepEqual(await ctlRequest(sock, { cmd: 'drain' }), { drained: true });
    const id2 = uuid();
    assert.throws(() => h.agent.runner.submit({ requestId: 'ctl-sp2', serverUuid: id2, kind: 'spawn', params: spawnParams(id2, h.imageFile) }),
      (e: unknown) => e instanceof AgentError && e.code === 'draining');
    assert.deepEqual(await ctlRequest(sock, { cmd: 'undrain' }), { drained: false });
    addForeignDomain(h.hv, '12345678-1234-4234-8234-123456789abc');
    const rec = await ctlRequest(sock, { cmd: 'reconcile' }) as { recovered: unknown[]; unknownDomains: { uuid: string }[] };
    assert.deepEqual(rec.recovered, []);
    assert.deepEqual(rec.unknownDomains.map((d) => d.uuid), ['12345678-1234-4234-8234-123456789abc']);

    await assert.rejects(ctlRequest(sock, { cmd: 'show', args: ['nope'] }), (e: unknown) => e instanceof CtlError && e.info.code === 'unknown_server');
    await assert.rejects(ctlRequest(sock, { cmd: 'bogus' as never }), (e: unknown) => e instanceof CtlError && e.info.code === 'bad_request');

    await new Promise((r) => setTimeout(r, 50));
    tail.stop();
    await tail.done;
    const msgs = seen.map((e) => (e as { message: string }).message).join('\n');
    assert.match(msgs, /spawn accepted/);
    assert.match(msgs, /spawn succeeded/);
    assert.match(msgs, /drained/);
  } finally {
    srv.close();
    await h.cleanup();
  }
});

test('cli: --listen parsing', () => {
  assert.deepEqual(parseListen('127.0.0.1:0'), { host: '127.0.0.1', port: 0 });
  assert.deepEqual(parseListen(':8779'), { host: '0.0.0.0', port: 8779 });
  assert.deepEqual(parseListen('[::1]:9'), { host: '::1', port: 9 });
  assert.throws(() => parseListen('host:99999'));
});
