import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { AgentError } from '../../src/rpc/errors.js';
import { isOverlayPath } from '../../src/virt/overlays.js';
import type { OperationRow } from '../../src/agent/journal/journal.js';
import { calls, GiB, harness, spawnParams, uuid, type Harness } from './agent-doubles.js';

async function run(h: Harness, serverUuid: string, kind: string, params: unknown = {}, requestId = `req-${Math.random().toString(16).slice(2)}`): Promise<OperationRow> {
  const { operation } = h.agent.runner.submit({ requestId, serverUuid, kind: kind as never, params });
  const done = await h.agent.runner.wait(operation.id, 10_000);
  assert.ok(done);
  return done;
}

async function spawned(h: Harness, over: Record<string, unknown> = {}): Promise<string> {
  const id = uuid();
  const op = await run(h, id, 'spawn', spawnParams(id, h.imageFile, over));
  assert.equal(op.state, 'succeeded', JSON.stringify(op.error));
  return id;
}

test('spawn: image cached, overlay + ephemeral + swap created and owned, domain defined and running', async () => {
  const h = await harness();
  try {
    const id = await spawned(h);
    const s = h.agent.deps.journal.getServer(id)!;
    assert.equal(s.status, 'active');
    assert.equal(s.power, 'running');
    assert.equal(s.task, null);
    assert.ok(existsSync(h.agent.deps.images.pathFor('img-test')));
    for (const f of ['disk', 'disk.eph0', 'disk.swap']) assert.ok(s.files.some((p) => p.endsWith(`/${f}`)), f);
    assert.equal(h.hv.inspect(id)?.power, 'running');
    const op = h.agent.deps.journal.listOperations(id)[0]!;
    assert.equal(op.progress, 100);
    const steps = h.agent.deps.journal.steps(op.id).map((r) => r.step);
    assert.deepEqual(steps, ['accepted', 'image', 'disks', 'define', 'start', 'succeeded']);
  } finally { await h.cleanup(); }
});

test('idempotent under request id: a repeat returns the same operation and never runs twice', async () => {
  const h = await harness();
  try {
    const id = await spawned(h);
    const a = h.agent.runner.submit({ requestId: 'req-stop-1', serverUuid: id, kind: 'stop', params: {} });
    const b = h.agent.runner.submit({ requestId: 'req-stop-1', serverUuid: id, kind: 'stop', params: {} });
    assert.equal(a.duplicate, false);
    assert.equal(b.duplicate, true);
    assert.equal(b.operation.id, a.operation.id);
    await h.agent.runner.wait(a.operation.id, 5000);
    const c = h.agent.runner.submit({ requestId: 'req-stop-1', serverUuid: id, kind: 'stop', params: {} });
    assert.equal(c.operation.state, 'succeeded');
    assert.equal(calls(h.hv).filter((x) => x.startsWith('shutdown:')).length, 1);
    assert.throws(() => h.agent.runner.submit({ requestId: 'req-stop-1', serverUuid: id, kind: 'start', params: {} }),
      (e: unknown) => e instanceof AgentError && e.code === 'bad_request');
  } finally { await h.cleanup(); }
});

test('one operation per server: a second op on a busy server gets server_busy', async () => {
  const h = await harness();
  try {
    const id = await spawned(h);
    const hang = h.hv.faults.hangNext('pause');
    const a = h.agent.runner.submit({ requestId: 'r-pause', serverUuid: id, kind: 'pause', params: {} });
    assert.throws(() => h.agent.runner.submit({ requestId: 'r-stop', serverUuid: id, kind: 'stop', params: {} }),
      (e: unknown) => e instanceof AgentError && e.code === 'server_busy');
    // another server is not blocked
    const other = await spawned(h);
    assert.ok(other);
    hang.release();
    assert.equal((await h.agent.runner.wait(a.operation.id, 5000))!.state, 'succeeded');
    assert.equal(h.agent.deps.journal.getServer(id)!.power, 'paused');
  } finally { await h.cleanup(); }
});

test('stop: a guest that ignores ACPI is destroyed after the timeout', async () => {
  const h = await harness();
  try {
    const id = await spawned(h);
    h.hv.setGuest(id, { ignoreAcpi: true });
    const t0 = Date.now();
    const op = await run(h, id, 'stop', { timeoutSec: 0.3, retryIntervalSec: 0.1 });
    assert.equal(op.state, 'succeeded');
    assert.equal((op.result as { method: string }).method, 'destroy');
    assert.ok(Date.now() - t0 >= 280);
    assert.ok(calls(h.hv).filter((c) => c === `shutdown:${id}`).length >= 2, 'ACPI retried');
    assert.ok(calls(h.hv).includes(`destroy:${id}`));
    assert.equal(h.agent.deps.journal.getServer(id)!.power, 'shutdown');
  } finally { await h.cleanup(); }
});

test('stop: a cooperative guest stops by ACPI, no destroy', async () => {
  const h = await harness();
  try {
    const id = await spawned(h);
    const op = await run(h, id, 'stop');
    assert.equal((op.result as { method: string }).method, 'acpi');
    assert.ok(!calls(h.hv).includes(`destroy:${id}`));
  } finally { await h.cleanup(); }
});

test('reboot: soft reboot by ACPI, and falls back to hard when the guest ignores it', async () => {
  const h = await harness();
  try {
    const id = await spawned(h);
    const boots0 = h.hv.boots(id);
    const soft = await run(h, id, 'reboot', { hard: false });
    assert.deepEqual({ m: (soft.result as { method: string }).method, f: (soft.result as { fallback: boolean }).fallback }, { m: 'soft', f: false });
    h.hv.setGuest(id, { ignoreAcpi: true });
    const fb = await run(h, id, 'reboot', { hard: false, timeoutSec: 0.2 });
    assert.equal((fb.result as { method: string }).method, 'hard');
    assert.equal((fb.result as { fallback: boolean }).fallback, true);
    const hard = await run(h, id, 'reboot', { hard: true });
    assert.equal(hard.state, 'succeeded');
    assert.equal(h.hv.boots(id), boots0 + 3);
    assert.equal(h.agent.deps.journal.getServer(id)!.power, 'running');
  } finally { await h.cleanup(); }
});

test('pause/unpause/suspend/resume/start and wrong-state checks', async () => {
  const h = await harness();
  try {
    const id = await spawned(h);
    assert.throws(() => h.agent.runner.submit({ requestId: 'x1', serverUuid: id, kind: 'unpause', params: {} }), (e: unknown) => (e as AgentError).code === 'invalid_state');
    assert.equal((await run(h, id, 'pause')).state, 'succeeded');
    assert.equal((await run(h, id, 'unpause')).state, 'succeeded');
    assert.equal((await run(h, id, 'suspend')).state, 'succeeded');
    assert.equal(h.agent.deps.journal.getServer(id)!.power, 'suspended');
    assert.equal(h.hv.inspect(id)!.managedSave, true);
    assert.equal((await run(h, id, 'resume')).state, 'succeeded');
    assert.equal(h.agent.deps.journal.getServer(id)!.power, 'running');
    assert.equal((await run(h, id, 'stop')).state, 'succeeded');
    assert.equal((await run(h, id, 'start')).state, 'succeeded');
    assert.throws(() => h.agent.runner.submit({ requestId: 'x2', serverUuid: uuid(), kind: 'start', params: {} }), (e: unknown) => (e as AgentError).code === 'unknown_server');
  } finally { await h.cleanup(); }
});

test('resize: grows, awaits confirm; confirm drops the saved state', async () => {
  const h = await harness();
  try {
    const id = await spawned(h);
    const op = await run(h, id, 'resize', { vcpus: 2, memoryMiB: 256, rootGiB: 3 });
    assert.equal(op.state, 'succeeded', JSON.stringify(op.error));
    let s = h.agent.deps.journal.getServer(id)!;
    assert.equal(s.status, 'resized');
    assert.ok(s.resizeOld?.rootBackup && existsSync(s.resizeOld.rootBackup));
    assert.equal(h.hv.spec(id)!.vcpus, 2);
    assert.equal(h.disks.sizeOf(s.files.find((f) => f.endsWith('/disk'))!), 3 * GiB);
    assert.equal(s.power, 'running');
    const backup = s.resizeOld!.rootBackup!;
    assert.equal((await run(h, id, 'resize_confirm')).state, 'succeeded');
    s = h.agent.deps.journal.getServer(id)!;
    assert.equal(s.status, 'active');
    assert.equal(s.resizeOld, null);
    assert.ok(!existsSync(backup));
    assert.equal(s.spec.vcpus, 2);
  } finally { await h.cleanup(); }
});

test('resize revert restores the old definition and root disk', async () => {
  const h = await harness();
  try {
    const id = await spawned(h);
    const root = h.agent.deps.journal.getServer(id)!.files.find((f) => f.endsWith('/disk'))!;
    assert.equal((await run(h, id, 'resize', { vcpus: 2, memoryMiB: 512, rootGiB: 4 })).state, 'succeeded');
    assert.throws(() => h.agent.runner.submit({ requestId: 'rz2', serverUuid: id, kind: 'resize', params: { vcpus: 1, memoryMiB: 128 } }), (e: unknown) => (e as AgentError).code === 'invalid_state');
    const rv = await run(h, id, 'resize_revert');
    assert.equal(rv.state, 'succeeded', JSON.stringify(rv.error));
    const s = h.agent.deps.journal.getServer(id)!;
    assert.equal(s.status, 'active');
    assert.equal(s.spec.vcpus, 1);
    assert.equal(s.spec.memoryMiB, 128);
    assert.equal(h.hv.spec(id)!.memoryMiB, 128);
    assert.equal(h.disks.sizeOf(root), 1 * GiB);
    assert.equal(s.power, 'running');
  } finally { await h.cleanup(); }
});

test('snapshot: overlays made, base converted, overlays committed and removed', async () => {
  const h = await harness();
  try {
    const id = await spawned(h);
    const op = await run(h, id, 'snapshot', { imageId: 'snap-1' });
    assert.equal(op.state, 'succeeded', JSON.stringify(op.error));
    const r = op.result as { path: string };
    assert.ok(existsSync(r.path));
    assert.ok(h.hv.spec(id)!.disks.every((d) => !isOverlayPath(d.path)), 'overlays committed back');
    const s = h.agent.deps.journal.getServer(id)!;
    assert.ok(!s.files.some((f) => f.includes('novalet-op-')), 'overlay files released');
    // the snapshot is a usable image for a new spawn on this host
    const id2 = uuid();
    const sp = await run(h, id2, 'spawn', spawnParams(id2, '/nonexistent', { image: { id: 'snap-1', source: '/nonexistent' } }));
    assert.equal(sp.state, 'succeeded', JSON.stringify(sp.error));
  } finally { await h.cleanup(); }
});

test('attach/detach disk and NIC follow into the spec; rebuild keeps them', async () => {
  const h = await harness();
  try {
    const id = await spawned(h);
    assert.equal((await run(h, id, 'attach_disk', { disk: { target: 'vdd', sizeGiB: 1 } })).state, 'succeeded');
    assert.equal((await run(h, id, 'attach_nic', { nic: { portId: 'p1', mac: '52:54:00:00:00:01', attachment: { type: 'network', network: 'default' } } })).state, 'succeeded');
    let dom = h.hv.spec(id)!;
    assert.ok(dom.disks.some((d) => d.target === 'vdd'));
    assert.ok(dom.nics.some((n) => n.portId === 'p1'));
    const rb = await run(h, id, 'rebuild', { image: { id: 'img-2', source: h.imageFile } });
    assert.equal(rb.state, 'succeeded', JSON.stringify(rb.error));
    dom = h.hv.spec(id)!;
    assert.ok(dom.disks.some((d) => d.target === 'vdd'), 'disk kept by rebuild');
    assert.equal(h.hv.inspect(id)!.power, 'running');
    assert.equal(h.agent.deps.journal.getServer(id)!.spec.image?.id, 'img-2');
    assert.equal((await run(h, id, 'detach_disk', { target: 'vdd' })).state, 'succeeded');
    assert.equal((await run(h, id, 'detach_nic', { portId: 'p1' })).state, 'succeeded');
    dom = h.hv.spec(id)!;
    assert.ok(!dom.disks.some((d) => d.target === 'vdd'));
    assert.equal(dom.nics.length, 0);
  } finally { await h.cleanup(); }
});

test('destroy deletes every owned file and the domain, never a volume given by path', async () => {
  const h = await harness();
  try {
    const id = await spawned(h, { disks: [{ target: 'vde', path: h.imageFile, format: 'qcow2' }] });
    const files = h.agent.deps.journal.getServer(id)!.files;
    assert.ok(files.length >= 4);
    assert.equal((await run(h, id, 'destroy')).state, 'succeeded');
    for (const f of files) assert.ok(!existsSync(f), f);
    assert.ok(existsSync(h.imageFile), 'volume untouched');
    assert.ok(!h.hv.has(id));
    assert.equal(h.agent.deps.journal.getServer(id)!.status, 'deleted');
  } finally { await h.cleanup(); }
});

test('spawn failure rolls back: files removed, domain gone, server error', async () => {
  const h = await harness();
  try {
    const id = uuid();
    h.hv.faults.failNext('start', new Error('qemu exploded'));
    const op = await run(h, id, 'spawn', spawnParams(id, h.imageFile));
    assert.equal(op.state, 'rolled_back');
    assert.match(op.error!.message, /exploded/);
    assert.ok(!h.hv.has(id));
    const s = h.agent.deps.journal.getServer(id)!;
    assert.equal(s.status, 'error');
    assert.deepEqual(s.files, []);
  } finally { await h.cleanup(); }
});

test('drained agent refuses spawn but still stops', async () => {
  const h = await harness();
  try {
    const id = await spawned(h);
    h.agent.runner.drained = true;
    const id2 = uuid();
    assert.throws(() => h.agent.runner.submit({ requestId: 'd1', serverUuid: id2, kind: 'spawn', params: spawnParams(id2, h.imageFile) }), (e: unknown) => (e as AgentError).code === 'draining');
    assert.equal((await run(h, id, 'stop')).state, 'succeeded');
  } finally { await h.cleanup(); }
});

test('spawn from an http URL: the image is downloaded once into the cache, through a temp file', async () => {
  const { createServer } = await import('node:http');
  const { readFileSync, readdirSync } = await import('node:fs');
  const h = await harness();
  let hits = 0;
  const srv = createServer((_req, res) => { hits++; res.setHeader('content-length', String(readFileSync(h.imageFile).length)); res.end(readFileSync(h.imageFile)); });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
  try {
    const url = `http://127.0.0.1:${(srv.address() as { port: number }).port}/image`;
    const a = uuid();
    const b = uuid();
    const [oa, ob] = await Promise.all([
      run(h, a, 'spawn', spawnParams(a, url, { image: { id: 'img-http', source: url } })),
      run(h, b, 'spawn', spawnParams(b, url, { image: { id: 'img-http', source: url } })),
    ]);
    assert.equal(oa.state, 'succeeded', JSON.stringify(oa.error));
    assert.equal(ob.state, 'succeeded', JSON.stringify(ob.error));
    assert.equal(hits, 1, 'fetched once for two spawns');
    assert.ok(!readdirSync(h.agent.deps.images.dir).some((f) => f.includes('.part-')));
  } finally {
    srv.close();
    await h.cleanup();
  }
});

test('a server whose domain vanished (host lost its guests, journal kept): start and hard reboot define it again from the spec', async () => {
  const h = await harness();
  try {
    for (const op of [{ kind: 'start', params: {} }, { kind: 'reboot', params: { hard: true } }]) {
      const id = await spawned(h);
      await h.hv.destroy(id);
      await h.hv.undefine(id);
      assert.equal(h.hv.has(id), false);
      // the agent's power sync records what libvirt now says (events; the sweep catches up after a host crash)
      for (let i = 0; i < 200 && h.agent.deps.journal.getServer(id)!.power !== 'nostate'; i++) await new Promise((r) => setTimeout(r, 5));
      assert.equal(h.agent.deps.journal.getServer(id)!.power, 'nostate');
      const done = await run(h, id, op.kind, op.params);
      assert.equal(done.state, 'succeeded', JSON.stringify(done.error));
      assert.equal(h.hv.inspect(id)?.power, 'running', op.kind);
      assert.ok(h.agent.deps.journal.steps(done.id).some((r) => r.step === 'redefine'));
      assert.equal(h.agent.deps.journal.getServer(id)!.power, 'running');
    }
  } finally { await h.cleanup(); }
});

