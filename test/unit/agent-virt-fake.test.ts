/**
 * The agent against the virt layer's own FakeHypervisor (src/virt/fake), which follows LibvirtHypervisor's
 * state rules (no-ops, invalid_state errors, real domain XML): every operation end to end, fault injection
 * (lost replies, hung calls across an agent restart, libvirtd going away during reconciliation).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { Agent } from '../../src/agent/agent.js';
import type { OperationRow } from '../../src/agent/journal/journal.js';
import { FakeHost, FakeHypervisor } from '../../src/virt/fake/index.js';
import { FakeDiskTool, silentLog, spawnParams, testConfig, tmpDir, uuid } from './agent-doubles.js';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

interface H { agent: Agent; hv: FakeHypervisor; host: FakeHost; dir: string; image: string; disks: FakeDiskTool; restart(): Promise<H>; done(): Promise<void> }

async function make(prev?: { host: FakeHost; dir: string; disks: FakeDiskTool; cleanup: () => void }): Promise<H> {
  const t = prev ?? { ...tmpDir(), host: new FakeHost(), disks: new FakeDiskTool() };
  const image = join(t.dir, 'img');
  if (!existsSync(image)) writeFileSync(image, JSON.stringify({ format: 'qcow2', size: 2 ** 30 }));
  const hv = new FakeHypervisor({ host: t.host, acpiDelayMs: 5 });
  const agent = await Agent.create({ hv, config: testConfig(t.dir), log: silentLog, disks: t.disks });
  await agent.start();
  const h: H = {
    agent, hv, host: t.host, dir: t.dir, image, disks: t.disks,
    restart: async () => { await agent.stop(); await hv.close(); agent.close(); return make(t); },
    done: async () => { await agent.stop(); await hv.close(); try { agent.close(); } catch { /* closed */ } t.cleanup(); },
  };
  return h;
}

async function run(h: H, id: string, kind: string, params: unknown = {}): Promise<OperationRow> {
  const { operation } = h.agent.runner.submit({ requestId: `r-${Math.random().toString(16).slice(2)}`, serverUuid: id, kind: kind as never, params });
  return (await h.agent.runner.wait(operation.id, 10_000))!;
}

async function ok(h: H, id: string, kind: string, params: unknown = {}): Promise<OperationRow> {
  const op = await run(h, id, kind, params);
  assert.equal(op.state, 'succeeded', `${kind}: ${JSON.stringify(op.error)}`);
  return op;
}

test('virt fake: every operation end to end', async () => {
  const h = await make();
  try {
    const id = uuid();
    await ok(h, id, 'spawn', spawnParams(id, h.image));
    const power = () => h.agent.deps.journal.getServer(id)!.power;
    assert.equal(power(), 'running');
    await ok(h, id, 'pause'); assert.equal(power(), 'paused');
    await ok(h, id, 'unpause'); assert.equal(power(), 'running');
    await ok(h, id, 'suspend'); assert.equal(power(), 'suspended');
    await ok(h, id, 'resume'); assert.equal(power(), 'running');
    const b0 = h.hv.boots(id);
    assert.equal((await ok(h, id, 'reboot', { hard: false })).result && power(), 'running');
    await ok(h, id, 'reboot', { hard: true });
    assert.ok(h.hv.boots(id) >= b0 + 2);
    await ok(h, id, 'attach_disk', { disk: { target: 'vdd', sizeGiB: 1 } });
    await ok(h, id, 'attach_nic', { nic: { portId: 'port-1', mac: '52:54:00:12:34:56', attachment: { type: 'network', network: 'default' } } });
    assert.ok(h.hv.spec(id, true)!.disks.some((d) => d.target === 'vdd'));
    assert.ok(h.hv.spec(id)!.nics.some((n) => n.portId === 'port-1'));
    await ok(h, id, 'detach_nic', { portId: 'port-1' });
    await ok(h, id, 'detach_disk', { target: 'vdd' });
    const snap = await ok(h, id, 'snapshot', { imageId: 'fake-snap' });
    assert.ok(existsSync((snap.result as { path: string }).path));
    assert.doesNotMatch(await h.hv.getDomainXml(id), /overlay/);
    await ok(h, id, 'resize', { vcpus: 2, memoryMiB: 256, rootGiB: 2 });
    assert.equal(h.hv.spec(id)!.vcpus, 2);
    await ok(h, id, 'resize_revert');
    assert.equal(h.hv.spec(id)!.vcpus, 1);
    await ok(h, id, 'resize', { vcpus: 2, memoryMiB: 256 });
    await ok(h, id, 'resize_confirm');
    assert.equal(h.hv.spec(id)!.memoryMiB, 256);
    await ok(h, id, 'rebuild', { image: { id: 'img-b', source: h.image } });
    assert.equal(power(), 'running');
    await ok(h, id, 'stop'); assert.equal(power(), 'shutdown');
    await ok(h, id, 'rebuild', { image: { id: 'img-c', source: h.image } });
    assert.equal(power(), 'shutdown', 'a stopped server stays stopped after rebuild');
    await ok(h, id, 'start');
    await ok(h, id, 'destroy');
    assert.ok(!h.hv.has(id));
  } finally { await h.done(); }
});

test('virt fake: ACPI ignored -> stop destroys after the timeout; soft reboot falls back to hard', async () => {
  const h = await make();
  try {
    const id = uuid();
    await ok(h, id, 'spawn', spawnParams(id, h.image));
    h.hv.setGuest(id, { ignoreAcpi: true });
    const rb = await ok(h, id, 'reboot', { hard: false, timeoutSec: 0.2 });
    assert.deepEqual([(rb.result as { method: string }).method, (rb.result as { fallback: boolean }).fallback], ['hard', true]);
    const st = await ok(h, id, 'stop', { timeoutSec: 0.2, retryIntervalSec: 0.05 });
    assert.equal((st.result as { method: string }).method, 'destroy');
    assert.ok(h.hv.faults.callsOf('shutdown').length >= 3);
  } finally { await h.done(); }
});

test('virt fake: a lost reply (call took effect, then failed) — the operation fails, a retry with a new request id is a no-op', async () => {
  const h = await make();
  try {
    const id = uuid();
    await ok(h, id, 'spawn', spawnParams(id, h.image));
    h.hv.faults.failAfterNext('pause');
    const failed = await run(h, id, 'pause');
    assert.equal(failed.state, 'failed');
    assert.equal(failed.error?.cause, 'hypervisor_unavailable');
    assert.equal(h.agent.deps.journal.getServer(id)!.power, 'paused', 'libvirt truth recorded anyway');
    // the controller sees paused and goes on: unpause works
    await ok(h, id, 'unpause');
  } finally { await h.done(); }
});

test('virt fake: hung call + agent restart -> recovery re-drives; libvirtd away at recovery -> retried next round', async () => {
  let h = await make();
  try {
    const id = uuid();
    await ok(h, id, 'spawn', spawnParams(id, h.image));
    h.hv.faults.hangNext('managedSave');
    const { operation } = h.agent.runner.submit({ requestId: 'hang-1', serverUuid: id, kind: 'suspend', params: {} });
    while (h.hv.faults.callsOf('managedSave').length === 0) await new Promise((r) => setTimeout(r, 5));
    // the new agent process finds libvirtd gone: the operation stays unfinished (and the server busy)
    h.hv.disconnect();
    h = await h.restart();
    let row = h.agent.deps.journal.getOperation(operation.id)!;
    assert.ok(row.state === 'running' || row.state === 'pending', row.state);
    assert.throws(() => h.agent.runner.submit({ requestId: 'hang-2', serverUuid: id, kind: 'stop', params: {} }), /in progress/);
    h.hv.reconnect();
    const rec = await h.agent.reconcile();
    assert.deepEqual(rec.map((r) => r.state), ['succeeded']);
    row = h.agent.deps.journal.getOperation(operation.id)!;
    assert.equal(row.state, 'succeeded');
    assert.equal(h.agent.deps.journal.getServer(id)!.power, 'suspended');
  } finally { await h.done(); }
});

test('virt fake: restarts never touch running guests or foreign domains', async () => {
  let h = await make();
  try {
    const id = uuid();
    await ok(h, id, 'spawn', spawnParams(id, h.image));
    const foreign = '0f0f0f0f-0000-4000-8000-0000000000ff';
    h.hv.addForeignDomain({ uuid: foreign, name: 'operator-vm', running: true });
    const boots = h.hv.boots(id);
    for (let i = 0; i < 3; i++) h = await h.restart();
    const touched = h.hv.faults.calls.filter((c) => ['destroy', 'shutdown', 'undefine', 'reboot', 'pause', 'managedSave'].includes(c.method));
    assert.deepEqual(touched, []);
    assert.equal((await h.hv.getDomain(id))!.power, 'running');
    assert.equal((await h.hv.getDomain(foreign))!.power, 'running');
    assert.equal(h.hv.boots(id), boots);
    assert.deepEqual(h.agent.listServers().unknownDomains.map((d) => d.uuid), [foreign]);
    // the guest crashing is recorded (not acted on)
    h.hv.crash(id);
    await h.agent.sweep();
    assert.equal(h.agent.deps.journal.getServer(id)!.power, 'shutdown');
  } finally { await h.done(); }
});
