/**
 * An agent restarted within service_down_time is no down -> up transition, yet it may have missed calls sent while
 * it was away: the heartbeat monitor sees its start time change (Inventory.startedAt) and tells its listeners
 * (wired to the network resync of compute/index.ts), once per restart and not on the first heartbeat it records.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openStore } from '../../src/store/index.js';
import { HeartbeatMonitor } from '../../src/controller/agents/heartbeats.js';
import { HostRegistry } from '../../src/controller/hosts/registry.js';
import type { AgentDirectory } from '../../src/controller/agents/directory.js';
import type { Inventory } from '../../src/rpc/protocol/inventory.js';
import { defaultConfig } from '../../src/controller/config.js';

const inventory = (hostname: string, startedAt: string): Inventory => ({
  protocol: '1', hostname, hostUuid: hostname, seq: 1, startedAt, time: '', drained: false,
  hypervisor: { domainType: 'kvm', hypervisorVersion: '8.2.0', libvirtVersion: '9.0.0', cpus: 8, cpuModel: 'x', memoryMiB: 16384, freeMemoryMiB: 16000 },
  cpu: { cores: 8, model: 'x', load1: 0 }, memory: { totalMiB: 16384, availableMiB: 16000 }, disk: { path: '/', totalGiB: 100, freeGiB: 90 },
  servers: [], unknownDomains: 0,
});

test('an agent that restarted between two heartbeats is reported once; the first heartbeat and steady ones are not', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'novalet-hb-restart-'));
  const store = await openStore(join(dir, 'store.sqlite'));
  try {
    const started: Record<string, string> = { a: '2026-12-06T10:00:00.000Z', b: '2026-12-06T10:00:00.000Z' };
    const entries = Object.keys(started).map((n) => ({ endpoint: { url: `http://127.0.0.1:1/${n}` }, host: n, client: { inventory: async () => inventory(n, started[n]!) } }));
    const agents = { all: () => entries, name: () => true } as unknown as AgentDirectory;
    const registry = new HostRegistry(store, defaultConfig({}));
    const monitor = new HeartbeatMonitor(agents, registry, async () => {}, store);
    const restarted: string[] = [];
    monitor.onAgentRestart((h) => restarted.push(h));

    await monitor.poll();
    await monitor.poll();
    assert.deepEqual(restarted, [], 'first and unchanged heartbeats: no restart');
    started['b'] = '2026-12-06T10:05:00.000Z';
    await monitor.poll();
    assert.deepEqual(restarted, ['b']);
    await monitor.poll();
    assert.deepEqual(restarted, ['b'], 'reported once');
  } finally {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
