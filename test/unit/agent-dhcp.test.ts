import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { OperationRow } from '../../src/agent/journal/journal.js';
import { calls, harness, spawnParams, uuid, type Harness } from './agent-doubles.js';

async function run(h: Harness, serverUuid: string, kind: string, params: unknown = {}): Promise<OperationRow> {
  const { operation } = h.agent.runner.submit({ requestId: `req-${Math.random().toString(16).slice(2)}`, serverUuid, kind: kind as never, params });
  const done = await h.agent.runner.wait(operation.id, 10_000);
  assert.ok(done);
  return done;
}

const nic = (portId: string, mac: string, ip?: string, network = 'tenant-net') => ({
  portId, mac, attachment: { type: 'network' as const, network }, ...(ip ? { ip } : {}),
});
const hosts = (h: Harness, network = 'tenant-net') => h.hv.host.networks.get(network) ?? [];

test('spawn with a fixed ip: DHCP host entry before the start; conflicting entries replaced; destroy removes it', async () => {
  const h = await harness();
  try {
    // a stale entry with the same MAC (other ip) and one with the same ip (other MAC): both give way
    h.hv.addNetwork('tenant-net', [
      { mac: '52:54:00:aa:00:01', ip: '10.78.0.99' }, { mac: '52:54:00:ff:ff:ff', ip: '10.78.0.10' }, { mac: '52:54:00:bb:00:01', ip: '10.78.0.20' },
    ]);
    const id = uuid();
    const op = await run(h, id, 'spawn', spawnParams(id, h.imageFile, {
      nics: [nic('p1', '52:54:00:AA:00:01', '10.78.0.10'), nic('p2', '52:54:00:aa:00:02'), { portId: 'p3', mac: '52:54:00:aa:00:03', ip: '10.9.9.9', attachment: { type: 'bridge', bridge: 'br0' } }],
    }));
    assert.equal(op.state, 'succeeded', JSON.stringify(op.error));
    assert.deepEqual(hosts(h), [{ mac: '52:54:00:bb:00:01', ip: '10.78.0.20' }, { mac: '52:54:00:aa:00:01', ip: '10.78.0.10' }]);
    const made = calls(h.hv);
    assert.ok(made.indexOf('setDhcpHost') < made.indexOf(`start:${id}`), 'entry exists before the guest boots');
    assert.equal(made.filter((c) => c === 'setDhcpHost').length, 1, 'only NICs on a network with an ip');
    assert.ok(h.agent.deps.journal.steps(op.id).some((s) => s.step === 'network'));

    assert.equal((await run(h, id, 'destroy')).state, 'succeeded');
    assert.deepEqual(hosts(h), [{ mac: '52:54:00:bb:00:01', ip: '10.78.0.20' }], 'only the server\'s own entry removed');
  } finally { await h.cleanup(); }
});

test('attach_nic with an ip adds the entry before the hot-plug, detach_nic removes it', async () => {
  const h = await harness();
  try {
    h.hv.addNetwork('tenant-net');
    const id = uuid();
    assert.equal((await run(h, id, 'spawn', spawnParams(id, h.imageFile))).state, 'succeeded');
    assert.equal((await run(h, id, 'attach_nic', { nic: nic('p9', '52:54:00:aa:00:09', '10.78.0.9') })).state, 'succeeded');
    assert.deepEqual(hosts(h), [{ mac: '52:54:00:aa:00:09', ip: '10.78.0.9' }]);
    const made = calls(h.hv);
    assert.ok(made.lastIndexOf('setDhcpHost') < made.lastIndexOf(`attachNic:${id}`));
    assert.equal((await run(h, id, 'detach_nic', { portId: 'p9' })).state, 'succeeded');
    assert.deepEqual(hosts(h), []);

    // a failed hot-plug leaves no reservation behind
    h.hv.faults.failNext('attachNic', new Error('injected attach failure'));
    const failed = await run(h, id, 'attach_nic', { nic: nic('p10', '52:54:00:aa:00:10', '10.78.0.11') });
    assert.equal(failed.state, 'failed');
    assert.deepEqual(hosts(h), []);
  } finally { await h.cleanup(); }
});

test('a spawn that fails is rolled back without its entry; an entry left by a failed cleanup is pruned by reconcile', async () => {
  const h = await harness();
  try {
    h.hv.addNetwork('tenant-net');
    const a = uuid();
    h.hv.faults.failNext('start', new Error('injected start failure'));
    const op = await run(h, a, 'spawn', spawnParams(a, h.imageFile, { nics: [nic('pa', '52:54:00:aa:00:0a', '10.78.0.30')] }));
    assert.equal(op.state, 'rolled_back');
    assert.deepEqual(hosts(h), []);

    // start fails, and so does the entry removal in the rollback: the server ends in error without a domain
    const b = uuid();
    h.hv.faults.failNext('start', new Error('injected start failure'));
    h.hv.faults.failNext('removeDhcpHost', new Error('injected virsh failure'));
    const op2 = await run(h, b, 'spawn', spawnParams(b, h.imageFile, { nics: [nic('pb', '52:54:00:aa:00:0b', '10.78.0.31')] }));
    assert.equal(op2.state, 'failed');
    assert.equal(h.agent.deps.journal.getServer(b)!.status, 'error');
    assert.deepEqual(hosts(h), [{ mac: '52:54:00:aa:00:0b', ip: '10.78.0.31' }]);
    // a live server holding an entry keeps it
    const c = uuid();
    assert.equal((await run(h, c, 'spawn', spawnParams(c, h.imageFile, { nics: [nic('pc', '52:54:00:aa:00:0c', '10.78.0.32')] }))).state, 'succeeded');

    await h.agent.reconcile();
    assert.deepEqual(hosts(h), [{ mac: '52:54:00:aa:00:0c', ip: '10.78.0.32' }]);
  } finally { await h.cleanup(); }
});
