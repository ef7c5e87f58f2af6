/**
 * VXLAN peers by delta (src/controller/network/peer-sync.ts): what a host is told is what the store says when it is
 * sent, changes for one host are coalesced into one call while another is in flight, and the calls to one host
 * never overlap.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { PeerSync, type PeerTruth } from '../../src/controller/network/peer-sync.js';
import { HostCallError, type HostTransport } from '../../src/controller/hosts/transport.js';
import type { PeerChangesRequest, PeerChangesResponse } from '../../src/rpc/protocol/networks.js';

/** hosts that apply deltas to their peer sets, slowly (so that changes pile up behind a call in flight) */
function fakeHosts(delayMs: number) {
  const peers = new Map<string, Set<string>>(); // `${host}/${network}` -> peers
  const calls: Array<{ host: string; req: PeerChangesRequest }> = [];
  let inFlight = new Map<string, number>();
  let overlap = false;
  const t = {
    async changePeers(host: string, req: PeerChangesRequest): Promise<PeerChangesResponse> {
      calls.push({ host, req });
      inFlight.set(host, (inFlight.get(host) ?? 0) + 1);
      if (inFlight.get(host)! > 1) overlap = true;
      await new Promise((r) => setTimeout(r, delayMs));
      for (const c of req.changes) {
        const k = `${host}/${c.networkId}`;
        const s = peers.get(k) ?? new Set<string>();
        for (const a of c.add) s.add(a);
        for (const r of c.remove) s.delete(r);
        peers.set(k, s);
      }
      inFlight.set(host, inFlight.get(host)! - 1);
      return { networks: [], unknown: [] };
    },
  } as unknown as HostTransport;
  return { t, peers, calls, overlap: () => overlap, reset: () => { inFlight = new Map(); } };
}

/** the store: which hosts carry which network */
function truth(carrying: Map<string, Set<string>>): PeerTruth {
  return {
    carries: async (n, h) => carrying.get(n)?.has(h) ?? false,
    tunnelIp: async (h) => (h === 'nohost' ? null : `ip-${h}`),
    locked: async (_keys, fn) => fn(),
    fullSpecs: async () => { throw new Error('not expected'); },
  };
}

describe('peer deltas', () => {
  it('50 hosts joining at once: each carrying host gets their entries in a few coalesced calls, never overlapping', async () => {
    const hosts = fakeHosts(20);
    const carrying = new Map([['net1', new Set(['t1', 't2'])]]);
    const sync = new PeerSync(hosts.t, truth(carrying));
    const joins: Promise<void>[] = [];
    for (let i = 0; i < 50; i++) {
      carrying.get('net1')!.add(`j${i}`);
      joins.push(sync.changed('net1', `j${i}`, ['t1', 't2'], `req-${i}`));
    }
    await Promise.all(joins);
    for (const t of ['t1', 't2']) {
      assert.equal(hosts.peers.get(`${t}/net1`)!.size, 50);
      const n = hosts.calls.filter((c) => c.host === t).length;
      assert.ok(n <= 3, `${t}: ${n} calls for 50 joins`);
    }
    assert.equal(hosts.overlap(), false);
    for (const c of hosts.calls) assert.match(c.req.requestId, /^req-\d+\.peers\.t[12]\.\d+$/);
  });

  it('sends what is true when it is sent: a join and a leave that raced leave the store\'s word; the target itself and hosts without an address are skipped', async () => {
    const hosts = fakeHosts(5);
    const carrying = new Map([['net1', new Set(['t1'])]]);
    const sync = new PeerSync(hosts.t, truth(carrying));
    // the join's event is older than the leave that already happened in the store
    const p = sync.changed('net1', 'x', ['t1', 'x', 'nohost'], 'req-join');
    await p;
    assert.deepEqual([...hosts.peers.get('t1/net1') ?? []], []);
    assert.deepEqual(hosts.calls.at(-1)!.req.changes, [{ networkId: 'net1', add: [], remove: ['ip-x'] }]);
    assert.ok(!hosts.calls.some((c) => c.host === 'x'), 'a host is never told about itself');
    carrying.get('net1')!.add('x');
    await sync.changed('net1', 'x', ['t1'], 'req-join-2');
    assert.deepEqual([...hosts.peers.get('t1/net1')!], ['ip-x']);
    // a host with no tunnel address: nothing to send
    const before = hosts.calls.length;
    await sync.changed('net1', 'nohost', ['t1'], 'req-3');
    assert.equal(hosts.calls.length, before);
  });

  it('an agent without the delta endpoint gets the networks\' whole specs instead', async () => {
    const t = { async changePeers() { throw new HostCallError('bad_request', 'no endpoint POST /v1/network-peers', false); } } as unknown as HostTransport;
    const full: string[] = [];
    const sync = new PeerSync(t, { ...truth(new Map([['n', new Set(['a'])]])), fullSpecs: async (host, nets) => { full.push(`${host}:${nets.join(',')}`); } });
    await sync.changed('n', 'a', ['b'], 'req-1');
    assert.deepEqual(full, ['b:n']);
  });

  it('a failed call rejects its waiters; the next change for that host is sent again', async () => {
    let fail = true;
    const sent: PeerChangesRequest[] = [];
    const t = { async changePeers(_h: string, req: PeerChangesRequest) { if (fail) { fail = false; throw new Error('host down'); } sent.push(req); return { networks: [], unknown: [] }; } } as unknown as HostTransport;
    const sync = new PeerSync(t, truth(new Map([['n', new Set(['a'])]])));
    await assert.rejects(sync.changed('n', 'a', ['b'], 'req-1'), /host down/);
    await sync.changed('n', 'a', ['b'], 'req-2');
    assert.deepEqual(sent.map((r) => r.changes), [[{ networkId: 'n', add: ['ip-a'], remove: [] }]]);
  });
});
