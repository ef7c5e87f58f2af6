/**
 * The real agent process on real libvirt/QEMU, driven over RPC like the controller will: spawn the test
 * guest (READY on its console), pause/unpause (heartbeat stops, then continues in the same boot), suspend/
 * resume (same boot), stop (ACPI seen by the guest) / start (new boot), soft reboot (ACPI + new boot),
 * disk hot-plug (seen in the heartbeat), snapshot to image, destroy (domain and files gone).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { ConsoleLog, POWEROFF_RE } from '../support/guest.js';
import { destroyAndUndefine, ensureGuestBuilt, ensureRootLibvirtd, isRoot, ROOT_URI, virsh } from '../support/virsh.js';
import { domainNameFor } from '../../src/virt/hypervisor.js';
import { AgentProcess, randomUUID, until } from './agent-process.js';

describe('agent on real QEMU: lifecycle over RPC', { skip: !isRoot() && 'needs root (libvirtd + QEMU)' }, () => {
  const agent = new AgentProcess();
  const uuid = randomUUID();
  let con: ConsoleLog;
  let boot = '';

  const run = async (kind: string, params: unknown = {}) => {
    const r = await agent.client.submit(kind as never, uuid, params as never);
    const op = await agent.waitOp(r.operation);
    assert.equal(op.state, 'succeeded', `${kind}: ${JSON.stringify(op.error)}\n${agent.log.slice(-2000)}`);
    return op;
  };
  const power = async () => (await agent.client.getServer(uuid)).server.power;

  before(async () => {
    await ensureRootLibvirtd();
    await ensureGuestBuilt();
    await agent.makeImage();
    await agent.start();
    con = new ConsoleLog(agent.consoleLog(uuid));
  });

  after(async () => {
    await agent.stop();
    await destroyAndUndefine(ROOT_URI, domainNameFor(uuid)).catch(() => undefined);
    agent.cleanup();
  });

  it('spawns: image cached, overlay created, guest boots (READY), heartbeat sees the root disk', async () => {
    const op = await run('spawn', { spec: agent.guestSpec(uuid, { ephemeralGiB: 1 }) });
    assert.equal(op.progress, 100);
    boot = (await con.waitForReady({ timeoutMs: 90_000 })).boot;
    const hb = await con.waitForHeartbeat((h) => h.boot === boot);
    assert.deepEqual(hb.disks, ['vda', 'vdb']);
    assert.equal(await power(), 'running');
    const inv = await agent.client.inventory();
    assert.ok(inv.servers.some((s) => s.uuid === uuid && s.power === 'running'));
    assert.ok(existsSync(`${agent.dataDir}/images/it-image`));
  });

  it('pause / unpause: heartbeat stops, then continues in the same boot', async () => {
    await run('pause');
    assert.equal(await power(), 'paused');
    const mark = await con.mark();
    await sleep(2500);
    assert.equal(con.heartbeats(mark).length, 0, 'no heartbeat while paused');
    await run('unpause');
    const hb = await con.waitForHeartbeat(() => true, { since: mark });
    assert.equal(hb.boot, boot);
  });

  it('suspend (managed save) / resume: suspended, then the same boot continues', async () => {
    await run('suspend');
    assert.equal(await power(), 'suspended');
    const st = await virsh(ROOT_URI, ['domstate', '--reason', domainNameFor(uuid)]);
    assert.match(st, /shut off \(saved\)/);
    const mark = await con.mark();
    await run('resume');
    const hb = await con.waitForHeartbeat(() => true, { since: mark, timeoutMs: 60_000 });
    assert.equal(hb.boot, boot, 'restored, not rebooted');
  });

  it('stop by ACPI (the guest sees the button) and start (new boot)', async () => {
    const mark = await con.mark();
    const op = await run('stop');
    assert.equal((op.result as { method: string }).method, 'acpi');
    await con.waitFor(POWEROFF_RE, 10_000, mark);
    assert.equal(await power(), 'shutdown');
    await run('start');
    const r = await con.waitForReady({ since: mark, timeoutMs: 90_000 });
    assert.notEqual(r.boot, boot);
    boot = r.boot;
  });

  it('soft reboot: ACPI power-off seen, then a new boot', async () => {
    const mark = await con.mark();
    const op = await run('reboot', { hard: false });
    assert.equal((op.result as { method: string }).method, 'soft');
    await con.waitFor(POWEROFF_RE, 10_000, mark);
    const r = await con.waitForReady({ since: mark, timeoutMs: 90_000 });
    assert.notEqual(r.boot, boot);
    boot = r.boot;
  });

  it('attach a blank disk: the guest sees it; detach: gone', async () => {
    const mark = await con.mark();
    await run('attach_disk', { disk: { target: 'vdd', sizeGiB: 1 } });
    await con.waitForHeartbeat((h) => h.boot === boot && h.disks.length === 3, { since: mark, timeoutMs: 30_000 });
    const mark2 = await con.mark();
    await run('detach_disk', { target: 'vdd' });
    await con.waitForHeartbeat((h) => h.boot === boot && h.disks.length === 2, { since: mark2, timeoutMs: 40_000 });
  });

  it('snapshot to image while running: image written, guest keeps running on its own disk', async () => {
    const mark = await con.mark();
    const op = await run('snapshot', { imageId: 'it-snap' });
    const r = op.result as { path: string; sizeBytes: number };
    assert.ok(existsSync(r.path));
    const xml = await virsh(ROOT_URI, ['dumpxml', domainNameFor(uuid)]);
    assert.doesNotMatch(xml, /overlay\.qcow2/, 'overlay committed back');
    const hb = await con.waitForHeartbeat(() => true, { since: mark });
    assert.equal(hb.boot, boot);
  });

  it('destroy: domain undefined and every owned file deleted', async () => {
    const files = (await agent.client.getServer(uuid)).server.files;
    await run('destroy');
    assert.equal((await agent.client.getServer(uuid)).server.status, 'deleted');
    await until('domain gone', async () => !(await virsh(ROOT_URI, ['list', '--all', '--name'])).includes(domainNameFor(uuid)), 10_000);
    for (const f of files) assert.ok(!existsSync(f), f);
  });
});
