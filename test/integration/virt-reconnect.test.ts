/**
 * LibvirtHypervisor survives libvirtd restarts and crashes: the lost connection is announced, calls while the
 * daemon is away fail with 'hypervisor_unavailable' (never hang), and a new connection is opened by the next
 * call or the background retry, announced as connectionRestored. Uses a one-host testbed so the machine's
 * own libvirtd (which other suites use) is never touched.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';

import { LibvirtHypervisor } from '../../src/virt/libvirt-hypervisor/index.js';
import type { HypervisorEvent } from '../../src/virt/hypervisor.js';
import { isVirtError } from '../../src/virt/errors.js';
import { cleanupStaleTestbeds, createTestbed, type Testbed } from '../support/testbed.js';
import { isRoot } from '../support/virsh.js';

async function waitForEvent(events: HypervisorEvent[], type: HypervisorEvent['type'], since: number, timeoutMs = 20_000): Promise<HypervisorEvent> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const e = events.slice(since).find((x) => x.type === type);
    if (e) return e;
    if (Date.now() > deadline) assert.fail(`no ${type} event; seen ${JSON.stringify(events.slice(since))}`);
    await sleep(50);
  }
}

describe('LibvirtHypervisor reconnects', { skip: !isRoot() && 'needs root (namespaces, libvirtd)' }, () => {
  let tb: Testbed;
  let hv: LibvirtHypervisor;
  const events: HypervisorEvent[] = [];

  before(async () => {
    await cleanupStaleTestbeds();
    tb = await createTestbed({ hosts: 1 });
    hv = new LibvirtHypervisor({ uri: tb.hosts[0]!.uri, keepaliveInterval: 1, keepaliveCount: 2, reconnectMinMs: 200, reconnectMaxMs: 1000 });
    hv.onEvent((e) => events.push(e));
  });

  after(async () => {
    await hv?.close();
    await tb?.destroy();
  });

  it('a restarted daemon: connectionLost, then connectionRestored by the background retry', async () => {
    const h1 = await hv.hostInfo();
    const since = events.length;
    const t0 = Date.now();
    await tb.hosts[0]!.restartDaemon();
    const lost = await waitForEvent(events, 'connectionLost', since);
    assert.equal(lost.type === 'connectionLost' && lost.reason, 'eof');
    await waitForEvent(events, 'connectionRestored', since);
    console.log(`restart -> connection restored in ${Date.now() - t0} ms`);
    assert.equal((await hv.hostInfo()).hostUuid, h1.hostUuid);
  });

  it('a dead daemon: calls fail fast with hypervisor_unavailable; the first call after it is back reconnects', async () => {
    const since = events.length;
    await tb.hosts[0]!.killDaemon();
    await waitForEvent(events, 'connectionLost', since);
    const t0 = Date.now();
    await assert.rejects(hv.listDomains(), (e: unknown) => isVirtError(e, 'hypervisor_unavailable'));
    assert.ok(Date.now() - t0 < 5000, 'fails fast');
    await tb.hosts[0]!.restartDaemon();
    // the next call may race the background retry; either way it succeeds once the socket answers
    const deadline = Date.now() + 20_000;
    for (;;) {
      try { assert.ok(Array.isArray(await hv.listDomains())); break; } catch (e) {
        if (!isVirtError(e, 'hypervisor_unavailable') || Date.now() > deadline) throw e;
        await sleep(200);
      }
    }
    await waitForEvent(events, 'connectionRestored', since);
  });
});
