import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { OperationRow } from '../../src/agent/journal/journal.js';
import { addForeignDomain, calls, harness, spawnParams, uuid, type Harness } from './agent-doubles.js';
import { isOverlayPath } from '../../src/virt/overlays.js';
import type { FakeMethod } from '../../src/virt/fake/index.js';

/** Submits an operation whose hypervisor call `method` never returns, then "crashes" (restarts) the agent. */
async function crashDuring(h: Harness, serverUuid: string, kind: string, params: unknown, method: FakeMethod): Promise<{ h: Harness; opId: string }> {
  const hang = h.hv.faults.hangNext(method); // never released: the process "dies" in this call
  const { operation } = h.agent.runner.submit({ requestId: `crash-${kind}-${serverUuid}`, serverUuid, kind: kind as never, params });
  for (let i = 0; i < 400 && hang.waiting === 0; i++) await new Promise((r) => setTimeout(r, 5));
  assert.ok(hang.waiting > 0, `operation never reached ${method}`);
  const h2 = await h.restart();
  return { h: h2, opId: operation.id };
}

async function spawned(h: Harness): Promise<string> {
  const id = uuid();
  const { operation } = h.agent.runner.submit({ requestId: `sp-${id}`, serverUuid: id, kind: 'spawn', params: spawnParams(id, h.imageFile) });
  assert.equal((await h.agent.runner.wait(operation.id, 5000))!.state, 'succeeded');
  return id;
}

const op = (h: Harness, id: string): OperationRow => h.agent.deps.journal.getOperation(id)!;
const destroys = (h: Harness, id: string) => calls(h.hv).filter((c) => c === `destroy:${id}` || c === `undefine:${id}`);

test('reconcile: spawn interrupted before define is rolled back (files deleted, server error)', async () => {
  let h = await harness();
  try {
    const id = uuid();
    const j = h.agent.deps.journal;
    const p = spawnParams(id, h.imageFile);
    j.putServer({ uuid: id, spec: p.spec, status: 'building', desiredPower: 'running', power: 'nostate', task: null, opId: null, files: [], resizeOld: null });
    const o = j.createOperation({ requestId: 'sp-crash', serverUuid: id, kind: 'spawn', params: p });
    j.markRunning(o.id);
    j.setStep(o.id, 'disks');
    const dir = h.agent.deps.paths.instanceDir(id);
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'disk'), '{}');
    j.addFiles(id, [dir, join(dir, 'disk')]);
    h = await h.restart();
    assert.equal(op(h, o.id).state, 'rolled_back');
    assert.ok(!existsSync(dir));
    assert.equal(h.agent.deps.journal.getServer(id)!.status, 'error');
    assert.equal(h.agent.deps.journal.getServer(id)!.opId, null, 'server no longer busy');
  } finally { await h.cleanup(); }
});

test('reconcile: spawn interrupted at define is finished (defined + running)', async () => {
  let h = await harness();
  try {
    const id = uuid();
    const r = await crashDuring(h, id, 'spawn', spawnParams(id, h.imageFile), 'define');
    h = r.h;
    assert.equal(op(h, r.opId).state, 'succeeded', JSON.stringify(op(h, r.opId).error));
    assert.equal(h.hv.inspect(id)?.power, 'running');
    assert.equal(h.agent.deps.journal.getServer(id)!.status, 'active');
    assert.ok(op(h, r.opId).attempts >= 2);
  } finally { await h.cleanup(); }
});

test('reconcile: stop interrupted while the guest still runs is re-driven; already off is just finished', async () => {
  let h = await harness();
  try {
    const id = await spawned(h);
    const r = await crashDuring(h, id, 'stop', {}, 'shutdown');
    h = r.h;
    assert.equal(op(h, r.opId).state, 'succeeded');
    assert.equal(h.hv.inspect(id)!.power, 'shutdown');

    const id2 = await spawned(h);
    h.hv.setGuest(id2, { ignoreAcpi: true });
    const r2 = await crashDuring(h, id2, 'stop', { timeoutSec: 0.05, retryIntervalSec: 0.05 }, 'destroy');
    h = r2.h;
    assert.equal(op(h, r2.opId).state, 'succeeded');
    assert.equal(h.agent.deps.journal.getServer(id2)!.power, 'shutdown');
  } finally { await h.cleanup(); }
});

test('reconcile: soft reboot interrupted after the guest went down is finished by a start', async () => {
  let h = await harness();
  try {
    const id = await spawned(h);
    const r = await crashDuring(h, id, 'reboot', { hard: false }, 'start');
    h = r.h;
    assert.equal(op(h, r.opId).state, 'succeeded');
    assert.equal(h.hv.inspect(id)!.power, 'running');
  } finally { await h.cleanup(); }
});

test('reconcile: pause, suspend, destroy, attach are re-driven to completion', async () => {
  let h = await harness();
  try {
    const a = await spawned(h);
    let r = await crashDuring(h, a, 'pause', {}, 'pause');
    h = r.h;
    assert.equal(op(h, r.opId).state, 'succeeded');
    assert.equal(h.hv.inspect(a)!.power, 'paused');

    const b = await spawned(h);
    r = await crashDuring(h, b, 'suspend', {}, 'managedSave');
    h = r.h;
    assert.equal(op(h, r.opId).state, 'succeeded');
    assert.equal(h.agent.deps.journal.getServer(b)!.power, 'suspended');

    const c = await spawned(h);
    r = await crashDuring(h, c, 'attach_disk', { disk: { target: 'vdd', sizeGiB: 1 } }, 'attachDisk');
    h = r.h;
    assert.equal(op(h, r.opId).state, 'succeeded');
    assert.equal(h.hv.spec(c)!.disks.filter((d) => d.target === 'vdd').length, 1);

    const files = h.agent.deps.journal.getServer(c)!.files;
    r = await crashDuring(h, c, 'destroy', {}, 'undefine');
    h = r.h;
    assert.equal(op(h, r.opId).state, 'succeeded');
    assert.ok(!h.hv.has(c));
    for (const f of files) assert.ok(!existsSync(f), f);
  } finally { await h.cleanup(); }
});

test('reconcile: resize interrupted before the new definition is rolled back and the running guest is never killed', async () => {
  let h = await harness();
  try {
    const id = await spawned(h);
    // crash while the resize is stopping the guest (ACPI ignored, hard power-off hangs): the guest is still up
    h.hv.setGuest(id, { ignoreAcpi: true });
    const r = await crashDuring(h, id, 'resize', { vcpus: 2, memoryMiB: 256, rootGiB: 2, timeoutSec: 0.05, retryIntervalSec: 0.05 }, 'destroy');
    h = r.h;
    assert.equal(op(h, r.opId).state, 'rolled_back');
    const s = h.agent.deps.journal.getServer(id)!;
    assert.equal(s.status, 'active');
    assert.equal(s.resizeOld, null);
    assert.equal(s.spec.vcpus, 1);
    assert.equal(h.hv.inspect(id)!.power, 'running');
    assert.equal(destroys(h, id).length, 0, 'recovery neither destroys nor undefines (the interrupted call was the dead process\'s)');
  } finally { await h.cleanup(); }
});

test('reconcile: resize interrupted at define is finished and awaits confirm', async () => {
  let h = await harness();
  try {
    const id = await spawned(h);
    const r = await crashDuring(h, id, 'resize', { vcpus: 2, memoryMiB: 256, rootGiB: 2 }, 'define');
    h = r.h;
    assert.equal(op(h, r.opId).state, 'succeeded', JSON.stringify(op(h, r.opId).error));
    const s = h.agent.deps.journal.getServer(id)!;
    assert.equal(s.status, 'resized');
    assert.equal(h.hv.spec(id)!.vcpus, 2);
    assert.equal(h.hv.inspect(id)!.power, 'running');
  } finally { await h.cleanup(); }
});

test('reconcile: snapshot interrupted mid-copy is rolled back (overlays committed, no partial image)', async () => {
  let h = await harness();
  try {
    const id = await spawned(h);
    h.disks.convertGate = new Promise<void>(() => { /* never */ });
    const { operation } = h.agent.runner.submit({ requestId: 'snap-mid', serverUuid: id, kind: 'snapshot', params: { imageId: 'snap-x' } });
    for (let i = 0; i < 200 && !h.disks.calls.some((c) => c.startsWith('convert:')); i++) await new Promise((r) => setTimeout(r, 5));
    h.disks.convertGate = undefined;
    h = await h.restart();
    assert.equal(op(h, operation.id).state, 'rolled_back');
    assert.ok(h.hv.spec(id)!.disks.every((d) => !isOverlayPath(d.path)), 'overlays committed back');
    assert.ok(!existsSync(h.agent.deps.images.pathFor('snap-x')));
    assert.equal(h.hv.inspect(id)!.power, 'running');
  } finally { await h.cleanup(); }
});

test('reconcile: snapshot interrupted after the image was complete is finished (commit only)', async () => {
  let h = await harness();
  try {
    const id = await spawned(h);
    const r = await crashDuring(h, id, 'snapshot', { imageId: 'snap-y' }, 'commitDisk');
    h = r.h;
    assert.equal(op(h, r.opId).state, 'succeeded');
    assert.ok(h.hv.spec(id)!.disks.every((d) => !isOverlayPath(d.path)), 'overlays committed back');
    assert.ok(existsSync(h.agent.deps.images.pathFor('snap-y')));
  } finally { await h.cleanup(); }
});

test('restart: running guests keep running; unknown domains are reported and never destroyed', async () => {
  let h = await harness();
  try {
    const a = await spawned(h);
    const b = await spawned(h);
    const foreign = '11111111-2222-4333-8444-555555555555';
    const managedLooking = '11111111-2222-4333-8444-666666666666';
    addForeignDomain(h.hv, foreign);
    addForeignDomain(h.hv, managedLooking, { novaletName: true });
    const before = h.hv.faults.calls.length;
    h = await h.restart();
    h = await h.restart();
    const after = calls(h.hv, before);
    assert.ok(!after.some((c) => /^(destroy|undefine|shutdown|managedSave|pause):/.test(c)), after.join(','));
    for (const u of [a, b, foreign, managedLooking]) assert.equal(h.hv.inspect(u)!.power, 'running');
    const unknown = h.agent.listServers().unknownDomains.map((d) => d.uuid).sort();
    assert.deepEqual(unknown, [foreign, managedLooking].sort());
    // an operation on an unknown domain is refused: it is not a server of this agent
    assert.throws(() => h.agent.runner.submit({ requestId: 'u1', serverUuid: foreign, kind: 'destroy', params: {} }), /no such server/);
  } finally { await h.cleanup(); }
});

test('power sync: events and the sweep record libvirt truth without acting', async () => {
  const h = await harness();
  try {
    const id = await spawned(h);
    // the guest powers itself off (event path)
    await h.hv.shutdown(id);
    await new Promise((r) => setTimeout(r, 30));
    assert.equal(h.agent.deps.journal.getServer(id)!.power, 'shutdown');
    // a change without an event (missed while disconnected) is found by the sweep
    await h.hv.withoutEvents(() => h.hv.start(id));
    assert.equal(h.agent.deps.journal.getServer(id)!.power, 'shutdown', 'no event, not seen yet');
    await h.agent.sweep();
    assert.equal(h.agent.deps.journal.getServer(id)!.power, 'running');
    assert.deepEqual(calls(h.hv).filter((c) => /^(start|shutdown|destroy|pause|unpause):/.test(c)), [`start:${id}`, `shutdown:${id}`, `start:${id}`],
      'the spawn\'s start and the test\'s own calls: the agent only recorded');
  } finally { await h.cleanup(); }
});

/** Leaves an operation in the journal as a crash at `step` would (the previous process died right there). */
function orphan(h: Harness, serverUuid: string, kind: string, params: unknown, step: string, data: Record<string, unknown>): string {
  const j = h.agent.deps.journal;
  const o = j.createOperation({ requestId: `orphan-${kind}-${Math.random()}`, serverUuid, kind: kind as never, params });
  j.markRunning(o.id);
  j.setStep(o.id, step, data);
  return o.id;
}

test('reconcile: resize and rebuild that died after their final start are finished without a second reboot', async () => {
  let h = await harness();
  try {
    const id = await spawned(h);
    const { operation } = h.agent.runner.submit({ requestId: 'rz-full', serverUuid: id, kind: 'resize', params: { vcpus: 2, memoryMiB: 256 } });
    await h.agent.runner.wait(operation.id, 5000);
    const rz = orphan(h, id, 'resize', { vcpus: 2, memoryMiB: 256 }, 'start', { wasRunning: true });
    const id2 = await spawned(h);
    const rb = orphan(h, id2, 'rebuild', { image: { id: 'img-test', source: h.imageFile } }, 'start', { wasRunning: true });
    const from = h.hv.faults.calls.length;
    h = await h.restart();
    assert.equal(op(h, rz).state, 'succeeded');
    assert.equal(op(h, rb).state, 'succeeded');
    assert.equal(h.agent.deps.journal.getServer(id)!.status, 'resized');
    const after = calls(h.hv, from).filter((c) => /^(shutdown|destroy|start):/.test(c));
    assert.deepEqual(after, []);
  } finally { await h.cleanup(); }
});

test('reconcile: resize_revert that died after restoring but before the start is finished by the start', async () => {
  let h = await harness();
  try {
    const id = await spawned(h);
    await h.hv.destroy(id);
    h.agent.deps.journal.updateServer(id, { power: 'shutdown' });
    const rv = orphan(h, id, 'resize_revert', {}, 'restore_root', { wasRunning: true });
    h = await h.restart();
    assert.equal(op(h, rv).state, 'succeeded');
    assert.equal(h.hv.inspect(id)!.power, 'running');
  } finally { await h.cleanup(); }
});

test('reconcile: soft reboot that died after the button press is re-driven (never left off)', async () => {
  let h = await harness();
  try {
    const id = await spawned(h);
    await h.hv.destroy(id); // the guest powered off after the press; nobody started it
    const rb = orphan(h, id, 'reboot', { hard: false }, 'acpi_shutdown', {});
    h = await h.restart();
    assert.equal(op(h, rb).state, 'succeeded');
    assert.equal(h.hv.inspect(id)!.power, 'running');
  } finally { await h.cleanup(); }
});
