// Operations settle from libvirt's lifecycle events (power sync re-reads, PowerWatch wakes the waiter), with the
// slow re-read (pollIntervalMs) and a reconnect's sweep as the safety nets for a lost event.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import type { OperationRow } from '../../src/agent/journal/journal.js';
import { isOff, powerOf } from '../../src/agent/ops/helpers.js';
import { PowerWatch } from '../../src/agent/reconcile/power-watch.js';
import { harness, spawnParams, uuid, type Harness } from './agent-doubles.js';

/** No re-read and no ACPI retry within a test's time: only an event (or a sweep) can settle a wait. */
const EVENTS_ONLY = { pollIntervalMs: 60_000, shutdownTimeoutSec: 60, shutdownRetryIntervalSec: 30 };

async function run(h: Harness, serverUuid: string, kind: string, params: unknown = {}): Promise<OperationRow> {
  const { operation } = h.agent.runner.submit({ requestId: `req-${Math.random().toString(16).slice(2)}`, serverUuid, kind: kind as never, params });
  const done = await h.agent.runner.wait(operation.id, 10_000);
  assert.ok(done);
  assert.equal(done.state, 'succeeded', JSON.stringify(done.error));
  return done;
}

async function spawned(h: Harness): Promise<string> {
  const id = uuid();
  await run(h, id, 'spawn', spawnParams(id, h.imageFile));
  return id;
}

/** When the fake guest went off (its 'stopped' event, as libvirt emits it). */
function offAt(h: Harness, id: string): () => number {
  let at = NaN;
  const un = h.hv.onEvent((e) => { if (e.type === 'power' && e.uuid === id && e.libvirtEvent === 'stopped' && Number.isNaN(at)) { at = performance.now(); un(); } });
  return () => at;
}

test('stop and soft reboot settle from the guest\'s event, not from a re-read', async () => {
  const h = await harness(EVENTS_ONLY);
  try {
    const id = await spawned(h);
    const off = offAt(h, id);
    const t0 = performance.now();
    const stop = await run(h, id, 'stop');
    const t1 = performance.now();
    assert.equal((stop.result as { method: string }).method, 'acpi');
    assert.equal(h.agent.deps.journal.getServer(id)!.power, 'shutdown');
    // the fake guest powers off 5 ms after the ACPI button; the next re-read would be a minute away
    assert.ok(t1 - off() < 50, `stop finished ${(t1 - off()).toFixed(1)} ms after the guest went off`);
    assert.ok(t1 - t0 < 500, `stop took ${(t1 - t0).toFixed(1)} ms`);

    await run(h, id, 'start');
    const r0 = performance.now();
    const reboot = await run(h, id, 'reboot', { hard: false });
    assert.equal((reboot.result as { method: string }).method, 'soft');
    assert.ok(performance.now() - r0 < 500, `soft reboot took ${(performance.now() - r0).toFixed(1)} ms`);
    assert.equal(h.agent.deps.journal.getServer(id)!.power, 'running');
  } finally { await h.cleanup(); }
});

test('a lost event is caught by the safety re-read (pollIntervalMs)', async () => {
  const h = await harness({ ...EVENTS_ONLY, pollIntervalMs: 150 });
  try {
    const id = await spawned(h);
    const t0 = performance.now();
    // events are dropped while this runs: the guest's power-off is seen only by a read
    const stop = await h.hv.withoutEvents(() => run(h, id, 'stop'));
    const ms = performance.now() - t0;
    assert.equal((stop.result as { method: string }).method, 'acpi');
    assert.equal(h.agent.deps.journal.getServer(id)!.power, 'shutdown');
    assert.ok(ms >= 140 && ms < 1000, `stop took ${ms.toFixed(1)} ms: the re-read, not an event, settled it`);
  } finally { await h.cleanup(); }
});

test('a reconnect (connectionRestored) re-reads power and settles a waiting stop whose event was lost', async () => {
  const h = await harness(EVENTS_ONLY);
  try {
    const id = await spawned(h);
    await h.hv.withoutEvents(async () => {
      const { operation } = h.agent.runner.submit({ requestId: 'stop-lost', serverUuid: id, kind: 'stop', params: {} });
      await sleep(100);
      assert.equal(h.hv.inspect(id)!.power, 'shutdown', 'the guest is off');
      assert.equal(h.agent.deps.journal.getOperation(operation.id)!.state, 'running', 'but no event told the agent');
      h.hv.disconnect('keepalive');
      h.hv.reconnect();
      const done = await h.agent.runner.wait(operation.id, 500);
      assert.equal(done!.state, 'succeeded');
      assert.equal((done!.result as { method: string }).method, 'acpi');
    });
  } finally { await h.cleanup(); }
});

test('a managed save\'s \'stopped\' event records suspended and does not satisfy a wait for shut off', async () => {
  const h = await harness(EVENTS_ONLY);
  try {
    const id = await spawned(h);
    const { powerWatch } = h.agent.deps;
    const waiting = powerWatch.wait(id, isOff, { timeoutMs: 200, rereadMs: 60_000, read: async () => powerOf(await h.hv.getDomain(id)) });
    await h.hv.managedSave(id);
    assert.equal(await waiting, false, 'suspended is not off');
    assert.equal(h.agent.deps.journal.getServer(id)!.power, 'suspended', 'recorded from the event\'s re-read');

    // restored: running again; then saved while paused: restored as paused (libvirt: started, then suspended)
    await h.hv.start(id);
    await sleep(20);
    assert.equal(h.agent.deps.journal.getServer(id)!.power, 'running');
    await h.hv.pause(id);
    await h.hv.managedSave(id);
    await sleep(20);
    assert.equal(h.agent.deps.journal.getServer(id)!.power, 'suspended');
    await h.hv.start(id);
    await sleep(20);
    assert.equal(h.agent.deps.journal.getServer(id)!.power, 'paused');

    // a real shut-off after all that is shut off
    await h.hv.destroy(id);
    await sleep(20);
    assert.equal(h.agent.deps.journal.getServer(id)!.power, 'shutdown');
  } finally { await h.cleanup(); }
});

test('many operations leave no waiter and no event listener behind', async () => {
  const h = await harness(EVENTS_ONLY);
  try {
    const ids = [await spawned(h), await spawned(h), await spawned(h)];
    const listeners = h.hv.host.events.listenerCount('event');
    for (let i = 0; i < 10; i++) {
      await Promise.all(ids.map(async (id) => {
        await run(h, id, 'stop');
        await run(h, id, 'start');
        await run(h, id, 'reboot', { hard: false });
      }));
    }
    assert.equal(h.agent.deps.powerWatch.pending(), 0);
    assert.equal(h.hv.host.events.listenerCount('event'), listeners);
  } finally { await h.cleanup(); }
});

test('PowerWatch: a read begun before the wait is not trusted; one begun after settles it', async () => {
  const w = new PowerWatch();
  const stale = w.ticket(); // e.g. a sweep that started before the operation waited
  const waiting = w.wait('AB-1', (p) => p === 'shutdown', { timeoutMs: 300, rereadMs: 60_000, read: async () => 'running' });
  await sleep(5);
  w.observe('ab-1', 'shutdown', stale);
  w.observe('ab-2', 'shutdown', w.ticket()); // another domain
  await sleep(5);
  assert.equal(w.pending(), 1, 'still waiting');
  w.observe('ab-1', 'shutdown', w.ticket());
  assert.equal(await waiting, true);
  assert.equal(w.pending(), 0);
});

test('PowerWatch: a failing read rejects the wait and leaves nothing behind', async () => {
  const w = new PowerWatch();
  const err = new Error('libvirt connection lost');
  await assert.rejects(w.wait('x', () => true, { timeoutMs: 100, rereadMs: 10, read: async () => { throw err; } }), err);
  assert.equal(w.pending(), 0);
  // the deadline's last read decides when no event came
  let reads = 0;
  assert.equal(await w.wait('x', (p) => p === 'shutdown', { timeoutMs: 50, rereadMs: 20, read: async () => (++reads >= 3 ? 'shutdown' : 'running') }), true);
  assert.equal(await w.wait('x', (p) => p === 'paused', { timeoutMs: 30, rereadMs: 1000, read: async () => 'running' }), false);
  assert.equal(w.pending(), 0);
});
