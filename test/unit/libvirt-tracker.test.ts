// CallTracker: pending calls settle when the connection dies even if libvirt leaves some of them
// blocked (observed with libvirt 9.0 and a hung daemon: only one in-flight call gets the keepalive error).
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { LibvirtError } from '../../src/virt/libvirt/errors.js';
import { CallTracker } from '../../src/virt/libvirt/tracker.js';

const rpcError = (): object => ({ libvirt: true, message: 'internal error: connection closed due to keepalive timeout', code: 1, domain: 7, level: 2 });

test('an RPC failure on a dead connection rejects every other pending call and later calls', async () => {
  let alive = true;
  const deaths: LibvirtError[] = [];
  const t = new CallTracker(async () => alive, (e) => deaths.push(e));
  const never = t.run(() => new Promise<number>(() => {}));         // a call libvirt never returns
  const never2 = t.run(() => new Promise<number>(() => {}));
  const ok = await t.run(async () => 42);
  assert.equal(ok, 42);
  alive = false;
  await assert.rejects(t.run(() => Promise.reject(rpcError())), (e: unknown) => e instanceof LibvirtError && e.codeName === 'VIR_ERR_INTERNAL_ERROR');
  await assert.rejects(never, /keepalive/);
  await assert.rejects(never2, /keepalive/);
  await assert.rejects(t.run(async () => 1), /keepalive/);
  assert.equal(deaths.length, 1);
  assert.equal(t.pendingCount, 0);
});

test('a non-RPC error, or an RPC error on a live connection, does not kill the tracker', async () => {
  const t = new CallTracker(async () => true, () => assert.fail('must not die'));
  await assert.rejects(t.run(() => Promise.reject({ libvirt: true, message: 'Domain not found', code: 42, domain: 12, level: 2 })));
  await assert.rejects(t.run(() => Promise.reject(rpcError())));
  await new Promise((r) => setTimeout(r, 10));
  assert.equal(await t.run(async () => 'still fine'), 'still fine');
});

test('kill() settles pending calls (close event path)', async () => {
  const t = new CallTracker(async () => false, () => {});
  const p = t.run(() => new Promise<void>(() => {}));
  t.kill(new LibvirtError('connection closed (eof)', 1, 7));
  await assert.rejects(p, (e: unknown) => e instanceof LibvirtError && e.message === 'connection closed (eof)');
});
