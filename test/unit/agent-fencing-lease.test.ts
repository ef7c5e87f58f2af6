/**
 * The agent's fencing lease (src/agent/fencing/controller-lease.ts): after a start, no new guest until a
 * controller's heartbeat poll reached the agent; once the lease runs out new work is refused again while running
 * guests keep running and stopping work is still accepted; destroy with keepFiles leaves the files.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { AgentError } from '../../src/rpc/errors.js';
import { agentBackend } from '../../src/agent/rpc-backend.js';
import { ControllerLease } from '../../src/agent/fencing/controller-lease.js';
import { serverFiles } from '../../src/agent/ops/domain-spec.js';
import { runCtlCommand } from '../../src/agent/ctl/commands.js';
import { harness, spawnParams, uuid } from './agent-doubles.js';

test('lease: off at 0; refuses before the first contact and after the lease; renewed by a contact', () => {
  let now = 1_000_000;
  assert.equal(new ControllerLease(0, () => now).refusal(), null);
  const l = new ControllerLease(20, () => now);
  assert.match(l.refusal() ?? '', /since it started/);
  l.touch();
  assert.equal(l.refusal(), null);
  now += 20_000;
  assert.equal(l.refusal(), null);
  now += 1_000;
  assert.match(l.refusal() ?? '', /for 21 s \(lease 20 s\)/);
  l.touch();
  assert.equal(l.refusal(), null);
});

test('agent with a lease: spawn waits for a controller poll; a lapsed lease refuses start but not stop; guests keep running', async () => {
  const h = await harness({ controllerLeaseSec: 0.3 });
  try {
    const backend = agentBackend(h.agent);
    const id = uuid();
    assert.throws(() => h.agent.runner.submit({ requestId: 'l-sp0', serverUuid: id, kind: 'spawn', params: spawnParams(id, h.imageFile) }),
      (e: unknown) => e instanceof AgentError && e.code === 'draining' && /since it started/.test(e.message));
    assert.match((await runCtlCommand(h.agent, { cmd: 'status' }) as { fencingLease: { refusing: string } }).fencingLease.refusing, /since it started/);
    await backend.inventory('127.0.0.1'); // the controller's heartbeat poll
    assert.deepEqual((await runCtlCommand(h.agent, { cmd: 'status' }) as { fencingLease: unknown }).fencingLease, { leaseSec: 0.3, sinceControllerSec: 0, refusing: null });
    const { operation } = h.agent.runner.submit({ requestId: 'l-sp', serverUuid: id, kind: 'spawn', params: spawnParams(id, h.imageFile) });
    assert.equal((await h.agent.runner.wait(operation.id, 5000))!.state, 'succeeded');

    await new Promise((r) => setTimeout(r, 400)); // no controller for longer than the lease
    assert.equal((await h.hv.getDomain(id))?.power, 'running', 'a running guest keeps running');
    const stop = h.agent.runner.submit({ requestId: 'l-stop', serverUuid: id, kind: 'stop', params: {} });
    assert.equal((await h.agent.runner.wait(stop.operation.id, 10_000))!.state, 'succeeded', 'stopping is still accepted');
    assert.throws(() => h.agent.runner.submit({ requestId: 'l-start', serverUuid: id, kind: 'start', params: {} }),
      (e: unknown) => e instanceof AgentError && e.code === 'draining' && /lease/.test(e.message), 'a stopped guest is not started');

    // fencing of an evacuated guest on shared storage: the guest goes, its files stay
    const files = serverFiles(h.agent.deps.paths, id);
    const d = h.agent.runner.submit({ requestId: 'l-destroy', serverUuid: id, kind: 'destroy', params: { keepFiles: true } });
    assert.equal((await h.agent.runner.wait(d.operation.id, 5000))!.state, 'succeeded');
    assert.equal(await h.hv.getDomain(id), null);
    assert.ok(existsSync(files.root), 'the root disk stays');
  } finally {
    await h.cleanup();
  }
});

test('agent with a lease restarted during a start: the start is not re-driven (failed), the guest stays off and can be destroyed', async () => {
  let h = await harness({ controllerLeaseSec: 30 });
  try {
    const backend = agentBackend(h.agent);
    await backend.inventory('127.0.0.1');
    const id = uuid();
    const sp = h.agent.runner.submit({ requestId: 'r-sp', serverUuid: id, kind: 'spawn', params: spawnParams(id, h.imageFile) });
    assert.equal((await h.agent.runner.wait(sp.operation.id, 5000))!.state, 'succeeded');
    const st = h.agent.runner.submit({ requestId: 'r-stop', serverUuid: id, kind: 'stop', params: {} });
    assert.equal((await h.agent.runner.wait(st.operation.id, 10_000))!.state, 'succeeded');
    // a start the process dies in (its hypervisor call never returns)
    const hang = h.hv.faults.hangNext('start');
    const { operation } = h.agent.runner.submit({ requestId: 'r-start', serverUuid: id, kind: 'start', params: {} });
    for (let i = 0; i < 400 && hang.waiting === 0; i++) await new Promise((r) => setTimeout(r, 5));
    assert.ok(hang.waiting > 0);
    h = await h.restart(); // no controller has reached the new process yet
    const o = h.agent.deps.journal.getOperation(operation.id)!;
    assert.equal(o.state, 'failed');
    assert.match(o.error?.message ?? '', /not re-driven: no controller has reached this agent since it started/);
    assert.notEqual(h.hv.inspect(id)?.power, 'running', 'never started');
    assert.equal(h.agent.deps.journal.getServer(id)!.opId, null, 'not busy: the fence can destroy it');
    const d = h.agent.runner.submit({ requestId: 'r-destroy', serverUuid: id, kind: 'destroy', params: {} });
    assert.equal((await h.agent.runner.wait(d.operation.id, 5000))!.state, 'succeeded');
  } finally {
    await h.cleanup();
  }
});
