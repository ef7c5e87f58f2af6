/**
 * Crash tests of the real agent on real QEMU: kill -9 the agent in the middle of spawn, stop (of a guest
 * that ignores ACPI, so the stop is long), resize and snapshot; restart it on the same data dir and check
 * that every operation ends in a consistent state, and that a running guest was never killed by an agent
 * death or restart (its heartbeat keeps the same boot id throughout).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { ConsoleLog, noOsDomainXml } from '../support/guest.js';
import { defineXml, destroyAndUndefine, ensureGuestBuilt, ensureRootLibvirtd, isRoot, ROOT_URI, uniqueName, virsh } from '../support/virsh.js';
import { domainNameFor } from '../../src/virt/hypervisor.js';
import type { OperationView } from '../../src/rpc/protocol/operations.js';
import { AgentProcess, randomUUID } from './agent-process.js';

describe('agent on real QEMU: kill -9 mid-operation', { skip: !isRoot() && 'needs root (libvirtd + QEMU)' }, () => {
  const agent = new AgentProcess({ shutdownTimeoutSec: 20, shutdownRetryIntervalSec: 2 });
  const guest = randomUUID();      // the test guest: must never be killed by an agent crash/restart
  const noOs = randomUUID();       // a domain with no OS: ignores the ACPI button
  const late = randomUUID();       // spawned while the agent dies
  const extra: string[] = [];
  const foreign = { name: uniqueName('foreign'), uuid: randomUUID() }; // an operator's own domain
  let con: ConsoleLog;
  let boot = '';

  const domstate = async (u: string) => (await virsh(ROOT_URI, ['domstate', domainNameFor(u)]).catch(() => 'missing')).trim();
  const submit = async (u: string, kind: string, params: unknown, requestId: string) => (await agent.client.submit(kind as never, u, params as never, requestId)).operation;
  const finished = async (requestId: string): Promise<OperationView> => {
    const op = await agent.waitOp(await agent.client.getOperationByRequestId(requestId), 120_000);
    console.log(`# ${requestId}: ${op.kind} ended ${op.state} (last step ${op.step})`);
    return op;
  };
  const stillSameBoot = async (): Promise<void> => {
    const mark = await con.mark();
    const hb = await con.waitForHeartbeat(() => true, { since: mark, timeoutMs: 20_000 });
    assert.equal(hb.boot, boot, 'the guest was not restarted');
  };

  before(async () => {
    await ensureRootLibvirtd();
    await ensureGuestBuilt();
    await agent.makeImage();
    await agent.start();
    await defineXml(ROOT_URI, noOsDomainXml({ ...foreign, domainType: (await agent.client.inventory()).hypervisor.domainType as 'qemu' | 'kvm' }));
    await virsh(ROOT_URI, ['start', foreign.name]);
    con = new ConsoleLog(agent.consoleLog(guest));
    const a = await agent.waitOp(await submit(guest, 'spawn', { spec: agent.guestSpec(guest) }, 'crash-sp-guest'));
    assert.equal(a.state, 'succeeded', JSON.stringify(a.error));
    boot = (await con.waitForReady({ timeoutMs: 90_000 })).boot;
    const b = await agent.waitOp(await submit(noOs, 'spawn', { spec: agent.guestSpec(noOs, { boot: { kind: 'disk' } }) }, 'crash-sp-noos'));
    assert.equal(b.state, 'succeeded', JSON.stringify(b.error));
  });

  after(async () => {
    await agent.stop();
    await destroyAndUndefine(ROOT_URI, foreign.name).catch(() => undefined);
    for (const u of [guest, noOs, late, ...extra]) await destroyAndUndefine(ROOT_URI, domainNameFor(u)).catch(() => undefined);
    agent.cleanup();
  });

  it('a guest that ignores ACPI is stopped by the timeout fallback (destroy)', async () => {
    const op = await agent.waitOp(await submit(noOs, 'stop', { timeoutSec: 3, retryIntervalSec: 1 }, 'crash-stop-noos-1'));
    assert.equal(op.state, 'succeeded');
    assert.equal((op.result as { method: string }).method, 'destroy');
    assert.equal(await domstate(noOs), 'shut off');
    assert.equal((await agent.waitOp(await submit(noOs, 'start', {}, 'crash-start-noos'))).state, 'succeeded');
  });

  it('kill -9 during stop: the guest is not killed by the crash; on restart the stop is finished', async () => {
    await submit(noOs, 'stop', { timeoutSec: 8, retryIntervalSec: 2 }, 'crash-stop-noos-2');
    await sleep(1500);
    await agent.kill9();
    assert.equal(await domstate(noOs), 'running', 'agent death does not kill the guest');
    await stillSameBoot();
    await agent.start();
    const op = await finished('crash-stop-noos-2');
    assert.equal(op.state, 'succeeded', JSON.stringify(op.error));
    assert.equal(await domstate(noOs), 'shut off');
    assert.equal((await agent.client.getServer(noOs)).server.power, 'shutdown');
    await stillSameBoot();
  });

  it('kill -9 during spawn: on restart the server is either fully there or fully rolled back', async () => {
    await submit(late, 'spawn', { spec: agent.guestSpec(late) }, 'crash-sp-late');
    await agent.kill9();
    await agent.start();
    const op = await finished('crash-sp-late');
    const { server } = await agent.client.getServer(late);
    if (op.state === 'succeeded') {
      assert.equal(server.status, 'active');
      assert.equal(await domstate(late), 'running');
      await new ConsoleLog(agent.consoleLog(late)).waitForReady({ timeoutMs: 90_000 });
    } else {
      assert.equal(op.state, 'rolled_back', JSON.stringify(op));
      assert.equal(server.status, 'error');
      assert.equal(await domstate(late), 'missing');
      assert.deepEqual(server.files, []);
      assert.ok(!existsSync(`${agent.dataDir}/instances/${late}/disk`));
    }
    assert.equal(server.task, null, 'not left busy');
    await stillSameBoot();
  });

  it('kill -9 during spawn once the domain is being defined/started: on restart it is finished and boots', async () => {
    const late2 = randomUUID();
    extra.push(late2);
    const sub = await submit(late2, 'spawn', { spec: agent.guestSpec(late2) }, 'crash-sp-late2');
    let caught = '';
    for (let i = 0; i < 500 && !caught; i++) {
      const op = await agent.client.getOperation(sub.id).catch(() => undefined);
      if (op && (op.step === 'define' || op.step === 'start' || op.state !== 'running' && op.state !== 'pending')) caught = `${op.state}/${op.step}`;
    }
    await agent.kill9();
    console.log(`# spawn killed at ${caught}`);
    await agent.start();
    const op = await finished('crash-sp-late2');
    assert.equal(op.state, 'succeeded', JSON.stringify(op));
    assert.equal(await domstate(late2), 'running');
    await new ConsoleLog(agent.consoleLog(late2)).waitForReady({ timeoutMs: 90_000 });
    assert.equal((await agent.client.getServer(late2)).server.status, 'active');
    await stillSameBoot();
  });

  it('kill -9 during snapshot: on restart no overlay is left and the guest runs on', async () => {
    await submit(guest, 'snapshot', { imageId: 'crash-snap' }, 'crash-snap-1');
    await sleep(200);
    await agent.kill9();
    await agent.start();
    const op = await finished('crash-snap-1');
    assert.ok(op.state === 'succeeded' || op.state === 'rolled_back', JSON.stringify(op));
    const xml = await virsh(ROOT_URI, ['dumpxml', domainNameFor(guest)]);
    assert.doesNotMatch(xml, /overlay\.qcow2/);
    assert.equal((await agent.client.getServer(guest)).server.task, null);
    // rolled back: no image at all; succeeded: the complete image (recovery only had the commit left)
    assert.equal(existsSync(`${agent.dataDir}/images/crash-snap`), op.state === 'succeeded');
    await stillSameBoot();
  });

  it('kill -9 during resize: on restart it is rolled back or finished, and the guest runs', async () => {
    await submit(guest, 'resize', { vcpus: 1, memoryMiB: 160, rootGiB: 1 }, 'crash-resize-1');
    await sleep(300);
    await agent.kill9();
    await agent.start();
    const op = await finished('crash-resize-1');
    const { server } = await agent.client.getServer(guest);
    if (op.state === 'succeeded') {
      assert.equal(server.status, 'resized');
      assert.equal(server.spec.memoryMiB, 160);
      assert.equal((await agent.waitOp(await submit(guest, 'resize_confirm', {}, 'crash-resize-confirm'))).state, 'succeeded');
    } else {
      assert.equal(op.state, 'rolled_back', JSON.stringify(op));
      assert.equal(server.status, 'active');
      assert.equal(server.spec.memoryMiB, 128);
      assert.equal(server.resizePending, false);
    }
    assert.equal(await domstate(guest), 'running');
    const maxMem = await virsh(ROOT_URI, ['dominfo', domainNameFor(guest)]);
    assert.match(maxMem, new RegExp(`Max memory:\\s+${(op.state === 'succeeded' ? 160 : 128) * 1024} KiB`));
    assert.equal(server.task, null);
  });

  it('an operator\'s own domain survived every kill -9 and restart untouched, reported as unknown', async () => {
    assert.equal((await virsh(ROOT_URI, ['domstate', foreign.name])).trim(), 'running');
    const { unknownDomains } = await agent.client.listServers();
    assert.ok(unknownDomains.some((d) => d.uuid === foreign.uuid && d.name === foreign.name && !d.managed), JSON.stringify(unknownDomains));
  });
});
