/**
 * Background work of several controllers on one database (issue 16), each controller with its own store
 * connection as in separate processes: a periodic job (`PeriodicDuty`) runs on exactly one of them and moves to
 * the other when its holder dies (lease ran out) or stops (released at once); the hosts' heartbeat records, power
 * sync and orphan reaping are split between the live controllers (`ClusterMembers`), every host recorded by
 * exactly one per round, and a dead controller's hosts go to the survivor after its membership lease. A single
 * controller (SQLite, nobody else) keeps doing every host.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { openStore, type Store } from '../../src/store/index.js';
import { PeriodicDuty, ClusterMembers, runExclusive } from '../../src/controller/cluster-duty.js';
import { HeartbeatMonitor } from '../../src/controller/agents/heartbeats.js';
import { HostRegistry } from '../../src/controller/hosts/registry.js';
import type { AgentDirectory } from '../../src/controller/agents/directory.js';
import type { Inventory } from '../../src/rpc/protocol/inventory.js';
import { defaultConfig } from '../../src/controller/config.js';
import { freshPostgresDatabase, postgresBase } from '../support/postgres.js';

const HOSTS = 24;

function inventory(hostname: string, drained = false): Inventory {
  return {
    protocol: '1', hostname, hostUuid: hostname, seq: 1, startedAt: '', time: '', drained,
    hypervisor: { domainType: 'kvm', hypervisorVersion: '8.2.0', libvirtVersion: '9.0.0', cpus: 8, cpuModel: 'x', memoryMiB: 16384, freeMemoryMiB: 16000 },
    cpu: { cores: 8, model: 'x', load1: 0 }, memory: { totalMiB: 16384, availableMiB: 16000 }, disk: { path: '/', totalGiB: 100, freeGiB: 90 },
    servers: [], unknownDomains: 0,
  };
}

/** the agents as the controller's directory sees them: every controller asks every agent */
function agents(names: string[], drained: Set<string>): AgentDirectory {
  const entries = names.map((n) => ({ endpoint: { url: `http://127.0.0.1:1/${n}` }, host: n, client: { inventory: async () => inventory(n, drained.has(n)) } }));
  return { all: () => entries, name: () => true } as unknown as AgentDirectory;
}

interface Ctl { id: string; store: Store; registry: HostRegistry; monitor: HeartbeatMonitor; recorded: string[] }

function controller(id: string, store: Store, names: string[], drained: Set<string>, leaseMs: number | null): Ctl {
  const registry = new HostRegistry(store, defaultConfig({}));
  const recorded: string[] = [];
  const heartbeat = registry.heartbeat.bind(registry);
  registry.heartbeat = async (name, inv, at) => { recorded.push(name); return heartbeat(name, inv, at); };
  const members = leaseMs === null ? null : new ClusterMembers(store, id, leaseMs);
  // the scheduler refresh reads every host back, as placement.refresh does
  const monitor = new HeartbeatMonitor(agents(names, drained), registry, async () => { await registry.list(); }, store, undefined, null, 8, members);
  return { id, store, registry, monitor, recorded };
}

async function twoControllers(open: () => Promise<Store>): Promise<void> {
  const names = Array.from({ length: HOSTS }, (_, i) => `host-${String(i).padStart(3, '0')}`);
  const drained = new Set<string>(['host-005']);
  const [sa, sb] = [await open(), await open()];
  try {
    // --- a periodic job runs on exactly one controller ---
    const ran: string[] = [];
    const every = 200;
    const da = new PeriodicDuty(sa, 'job', 'ctl-a', every, async () => { ran.push('a'); });
    const db = new PeriodicDuty(sb, 'job', 'ctl-b', every, async () => { ran.push('b'); });
    const t0 = Date.now();
    const first = await Promise.all([da.round(t0), db.round(t0)]);
    assert.deepEqual(first.filter(Boolean).length, 1, 'of two racing controllers one runs the job');
    const [holder, other, h] = first[0] ? [da, db, 'a'] : [db, da, 'b'];
    for (let i = 1; i <= 2; i++) {
      assert.equal(await other.round(t0 + i * every), false);
      assert.equal(await holder.round(t0 + i * every), true);
    }
    assert.deepEqual(ran, [h, h, h]);
    // the holder dies (no more rounds): the other takes over once the lease (three rounds) ran out
    assert.equal(await other.round(t0 + 4 * every), false, 'the lease still runs');
    assert.equal(await other.round(t0 + 5 * every + 1), true, 'taken over after the lease');
    assert.equal(await holder.round(t0 + 5 * every + 2), false, 'the old holder (come back) does not run it too');
    // a controller that stops gives it up at once
    await other.stop();
    assert.equal(await holder.round(t0 + 5 * every + 3), true);
    await holder.stop();
    // runExclusive: the helper other periodic work (a host monitor) uses
    assert.equal(await runExclusive(sa, 'monitor', 'ctl-a', 10_000, async () => 'done'), 'done');
    assert.equal(await runExclusive(sb, 'monitor', 'ctl-b', 10_000, async () => 'done'), null);

    // --- heartbeats split between the live controllers ---
    const leaseMs = 600;
    const a = controller('ctl-a', sa, names, drained, leaseMs);
    const b = controller('ctl-b', sb, names, drained, leaseMs);
    await a.monitor.poll(); // a alone: every host
    assert.equal(a.recorded.length, HOSTS);
    await b.monitor.poll(); // b joined: sees both
    await a.monitor.poll();
    a.recorded.length = b.recorded.length = 0;
    await Promise.all([a.monitor.poll(), b.monitor.poll()]);
    assert.deepEqual([...a.recorded, ...b.recorded].sort(), names, 'every host recorded by exactly one controller per round');
    assert.ok(a.recorded.length >= 4 && b.recorded.length >= 4, `both take a share (${a.recorded.length}/${b.recorded.length})`);
    // the drained flag of a host the other controller records is still known (the scheduler skips it)
    const h5 = (await a.registry.list()).find((x) => x.name === 'host-005')!;
    assert.equal(a.registry.isSchedulable(h5), false);
    assert.equal(b.registry.isSchedulable(h5), false);
    // b dies (no more rounds, no goodbye): after its membership lease a records every host again
    const bShare = [...b.recorded];
    const before = new Map((await sa.listHosts()).map((x) => [x.name, x.lastSeenAt]));
    await sleep(leaseMs + 50);
    a.recorded.length = 0;
    await a.monitor.poll();
    assert.deepEqual(a.recorded.sort(), names, 'the survivor records every host');
    for (const n of bShare) assert.notEqual((await sa.listHosts()).find((x) => x.name === n)!.lastSeenAt, before.get(n), `${n} beats again`);
    // b comes back, then stops cleanly: leaving gives its hosts back at once (no lease wait)
    await b.monitor.poll();
    await a.monitor.poll();
    await b.monitor.leave();
    a.recorded.length = 0;
    await a.monitor.poll();
    assert.equal(a.recorded.length, HOSTS);
    // a live controller that does not reach its hosts (its config lacks the agents, a cut link): their records go
    // stale, and past a membership lease the others record them
    const blind = controller('ctl-blind', sb, [], drained, leaseMs);
    await blind.monitor.poll();
    await a.monitor.poll();
    a.recorded.length = 0;
    await a.monitor.poll();
    const mine = a.recorded.length;
    assert.ok(mine > 0 && mine < HOSTS, `a records its share only while the records are fresh (${mine})`);
    await sleep(leaseMs + 50);
    await blind.monitor.poll(); // still a live member
    a.recorded.length = 0;
    await a.monitor.poll();
    assert.deepEqual(a.recorded.sort(), names, 'the stale hosts are recorded by a');
    assert.deepEqual(blind.recorded, []);
  } finally {
    await sa.close();
    await sb.close();
  }
}

test('two controllers on one SQLite file: one runs each job, hosts split, a dead one taken over', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'novalet-split-'));
  try {
    await twoControllers(() => openStore(join(dir, 'shared.db')));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

const pg = postgresBase();
test('the same on PostgreSQL', { skip: 'skip' in pg ? pg.skip : false }, async () => {
  const db = await freshPostgresDatabase((pg as { url: string }).url);
  try {
    await twoControllers(() => openStore(db.url));
  } finally {
    await db.drop();
  }
});

test('a single controller without membership (the all-in-one) records every host each round', async () => {
  const store = await openStore(':memory:');
  try {
    const names = ['h1', 'h2', 'h3'];
    const c = controller('only', store, names, new Set(), null);
    await c.monitor.poll();
    await c.monitor.poll();
    assert.deepEqual(c.recorded.sort(), [...names, ...names].sort());
    const single = controller('solo', store, names, new Set(), 30_000);
    await single.monitor.poll();
    assert.deepEqual(single.recorded.sort(), names, 'alone in the cluster: every host');
  } finally {
    await store.close();
  }
});
