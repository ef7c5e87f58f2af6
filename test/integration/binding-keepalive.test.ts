/**
 * A dead or hung libvirtd is detected by the binding: the close callback fires as a 'close' event and
 * calls pending on the connection reject instead of hanging. Uses a one-host testbed so that the daemon
 * can be frozen and killed without touching the machine's own libvirtd.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { LibvirtConnection, LibvirtError, type CloseEvent } from '../../src/virt/libvirt/index.js';
import { cleanupStaleTestbeds, createTestbed, type Testbed } from '../support/testbed.js';
import { isRoot } from '../support/virsh.js';

function nextClose(conn: LibvirtConnection, timeoutMs: number): Promise<CloseEvent> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no close event within ${timeoutMs} ms`)), timeoutMs);
    conn.once('close', (ev) => { clearTimeout(timer); resolve(ev); });
  });
}

describe('connection loss detection', { skip: !isRoot() && 'needs root (namespaces, libvirtd)' }, () => {
  let tb: Testbed;

  before(async () => {
    await cleanupStaleTestbeds();
    tb = await createTestbed({ hosts: 1 });
  });

  after(async () => {
    const pid = tb?.hosts[0]?.pid();
    if (pid) { try { process.kill(pid, 'SIGCONT'); } catch { /* already gone */ } }
    await tb?.destroy();
  });

  it('keepalive notices a hung daemon: close event with reason keepalive, the pending call rejects', async () => {
    const host = tb.hosts[0]!;
    const conn = await LibvirtConnection.open(host.uri, { keepaliveInterval: 1, keepaliveCount: 2 });
    assert.equal(conn.keepaliveEnabled, true);
    assert.ok((await conn.getHostname()).length > 0);
    const closed = nextClose(conn, 20_000);
    const pid = host.pid();
    assert.ok(pid, 'daemon pid');
    process.kill(pid, 'SIGSTOP');
    const t0 = Date.now();
    try {
      // Issued while the daemon is frozen: it must reject once keepalive gives up, not hang.
      const pendingRejects = assert.rejects(conn.getCapabilities(), (e: unknown) => e instanceof LibvirtError);
      const ev = await closed;
      assert.equal(ev.reason, 'keepalive');
      await pendingRejects;
      const detectedMs = Date.now() - t0;
      assert.ok(detectedMs < 15_000, `detected after ${detectedMs} ms`);
      assert.equal(conn.lost, true);
      await assert.rejects(conn.getHostname(), (e: unknown) => e instanceof LibvirtError);
    } finally {
      process.kill(pid, 'SIGCONT');
      await conn.close();
    }
  });

  it('a killed daemon fires the close event (eof) and later calls reject', async () => {
    const host = tb.hosts[0]!;
    await host.restartDaemon();
    const conn = await LibvirtConnection.open(host.uri);
    assert.ok((await conn.getHostname()).length > 0);
    const closed = nextClose(conn, 20_000);
    await host.killDaemon();
    const ev = await closed;
    assert.equal(ev.reason, 'eof');
    await assert.rejects(conn.listAllDomains(), (e: unknown) => e instanceof LibvirtError);
    await conn.close();
  });
});
