// ConnectionKeeper (the LibvirtHypervisor's connection) with a scripted stand-in for LibvirtConnection:
// single-flight opening, loss announcement, background reconnect, event translation.
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';

import { ConnectionKeeper } from '../../src/virt/libvirt-hypervisor/connection.js';
import { isVirtError } from '../../src/virt/errors.js';
import type { HypervisorEvent } from '../../src/virt/hypervisor.js';
import type { LibvirtConnection } from '../../src/virt/libvirt/index.js';

class StubConnection extends EventEmitter {
  lost = false;
  closed = false;
  async close(): Promise<void> { this.closed = true; }
}

function setup(failures = 0): { keeper: ConnectionKeeper; events: HypervisorEvent[]; opened: StubConnection[]; attempts: () => number } {
  const events: HypervisorEvent[] = [];
  const opened: StubConnection[] = [];
  let attempts = 0;
  const keeper = new ConnectionKeeper({
    uri: 'stub:///', reconnectMinMs: 10, reconnectMaxMs: 40,
    open: async () => {
      attempts++;
      await sleep(5);
      if (attempts <= failures) throw new Error('connection refused');
      const c = new StubConnection();
      opened.push(c);
      return c as unknown as LibvirtConnection;
    },
  }, (e) => events.push(e));
  return { keeper, events, opened, attempts: () => attempts };
}

describe('ConnectionKeeper', () => {
  test('concurrent callers share one open; the connection is reused', async () => {
    const { keeper, attempts } = setup();
    const [a, b] = await Promise.all([keeper.get(), keeper.get()]);
    assert.equal(a, b);
    assert.equal(await keeper.get(), a);
    assert.equal(attempts(), 1);
    await keeper.close();
  });

  test('an unreachable daemon is hypervisor_unavailable', async () => {
    const { keeper } = setup(1);
    await assert.rejects(keeper.get(), (e: unknown) => isVirtError(e, 'hypervisor_unavailable'));
    assert.ok(await keeper.get(), 'the next call tries again');
    await keeper.close();
  });

  test('close event: connectionLost, background reconnect with backoff, connectionRestored', async () => {
    const { keeper, events, opened } = setup();
    await keeper.get();
    opened[0]!.emit('close', { reason: 'eof', reasonCode: 1 });
    assert.deepEqual(events, [{ type: 'connectionLost', reason: 'eof' }]);
    assert.equal(opened[0]!.closed, true, 'the dead connection is released');
    await sleep(60);
    assert.equal(opened.length, 2);
    assert.deepEqual(events.at(-1), { type: 'connectionRestored' });
    assert.equal(await keeper.get(), opened[1]);
    await keeper.close();
  });

  test('a loss noticed by a call before the close event is still announced, once', async () => {
    const { keeper, events, opened } = setup();
    await keeper.get();
    opened[0]!.lost = true;
    assert.equal(await keeper.get(), opened[1]);
    opened[0]!.emit('close', { reason: 'eof', reasonCode: 1 }); // late: ignored
    assert.deepEqual(events, [{ type: 'connectionLost', reason: 'error' }, { type: 'connectionRestored' }]);
    await keeper.close();
  });

  test('domain events are translated; close() stops everything', async () => {
    const { keeper, events, opened } = setup();
    keeper.connectSoon();
    await sleep(20);
    const c = opened[0]!;
    c.emit('lifecycle', { name: 'n', uuid: 'u', event: 'suspended', detail: 'paused', eventCode: 3, detailCode: 0 });
    c.emit('lifecycle', { name: 'n', uuid: 'u', event: 'defined', detail: 'added', eventCode: 0, detailCode: 0 });
    c.emit('deviceRemoved', { name: 'n', uuid: 'u', alias: 'ua-p' });
    c.emit('blockJob', { name: 'n', uuid: 'u', disk: 'vda', type: 'active_commit', typeCode: 4, status: 'ready', statusCode: 3 });
    assert.deepEqual(events, [
      { type: 'power', uuid: 'u', power: 'paused', libvirtEvent: 'suspended', detail: 'paused' },
      { type: 'deviceRemoved', uuid: 'u', alias: 'ua-p' },
      { type: 'blockJob', uuid: 'u', disk: 'vda', status: 'ready' },
    ]);
    await keeper.close();
    assert.equal(c.closed, true);
    await assert.rejects(keeper.get(), (e: unknown) => isVirtError(e, 'hypervisor_unavailable'));
  });
});
