/**
 * Live migration through the native binding between two testbed hosts (two libvirtds in their own
 * network + mount namespaces): a completed migration with job stats read while it runs, and an aborted one.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  DomainJobType, DomainMigrateFlags, LibvirtConnection, LibvirtError, type JobStats, type LibvirtDomain,
} from '../../src/virt/libvirt/index.js';
import { ConsoleLog, detectDomainType, guestArtifacts, guestDomainXml, READY_RE } from '../support/guest.js';
import { EventRecorder } from '../support/events.js';
import { cleanupStaleTestbeds, createTestbed, type Testbed } from '../support/testbed.js';
import { ensureGuestBuilt, isRoot, uniqueName } from '../support/virsh.js';

/** Nova's flags for a live migration on shared storage. */
const NOVA_LIVE = DomainMigrateFlags.LIVE | DomainMigrateFlags.PEER2PEER | DomainMigrateFlags.PERSIST_DEST |
  DomainMigrateFlags.UNDEFINE_SOURCE;

interface Sample { stats: JobStats; latencyMs: number }

/** Reads job stats every 100 ms until `job` settles; returns the samples taken while a job was active. */
async function sampleJobStats(dom: LibvirtDomain, job: Promise<unknown>): Promise<Sample[]> {
  let settled = false;
  void job.then(() => { settled = true; }, () => { settled = true; });
  const samples: Sample[] = [];
  while (!settled) {
    const t0 = performance.now();
    const stats = await dom.getJobStats().catch(() => undefined);
    if (stats && stats.type !== DomainJobType.NONE) samples.push({ stats, latencyMs: performance.now() - t0 });
    await sleep(100);
  }
  return samples;
}

const num = (v: unknown): number => (typeof v === 'bigint' ? Number(v) : typeof v === 'number' ? v : 0);

describe('live migration through the binding', { skip: !isRoot() && 'needs root (namespaces, libvirtd + QEMU)' }, () => {
  let tb: Testbed;
  let connA: LibvirtConnection;
  let connB: LibvirtConnection;
  const name = uniqueName('lm');
  let console_: ConsoleLog;
  let bootId = '';

  before(async () => {
    await ensureGuestBuilt();
    await cleanupStaleTestbeds();
    tb = await createTestbed({ hosts: 2 });
    const [a, b] = tb.hosts;
    connA = await LibvirtConnection.open(a!.uri);
    connB = await LibvirtConnection.open(b!.uri);
    // Kernel, initrd and console log live in the shared directory: the same path on both hosts.
    const art = guestArtifacts();
    const kernel = `${tb.sharedDir}/vmlinuz`;
    const initrd = `${tb.sharedDir}/initrd.img`;
    copyFileSync(art.kernel, kernel);
    copyFileSync(art.initrd, initrd);
    const consoleLog = `${tb.sharedDir}/${name}.console.log`;
    const domainType = detectDomainType(await connA.getCapabilities());
    const dom = await connA.defineDomain(guestDomainXml({ name, consoleLog, domainType, kernel, initrd, cmdline: art.cmdline }));
    console_ = new ConsoleLog(consoleLog);
    await dom.create();
    bootId = (await console_.waitForReady({ timeoutMs: 90_000 })).boot;
    await console_.waitForHeartbeat((h) => h.boot === bootId && h.seq >= 2);
  });

  after(async () => {
    await connA?.close().catch(() => undefined);
    await connB?.close().catch(() => undefined);
    await tb?.destroy();
  });

  it('live-migrates A -> B; job stats answer during the migration; the guest keeps running', async () => {
    const eventsA = new EventRecorder(connA, name);
    const eventsB = new EventRecorder(connB, name);
    const domA = await connA.lookupDomainByName(name);
    const lastSeq = console_.heartbeats().at(-1)!.seq;
    // A bandwidth cap keeps the migration running long enough to be observed (the guest is mostly zero pages).
    const migration = domA.migrateToURI3(tb.hosts[1]!.migrationUri, { bandwidth: 20 }, NOVA_LIVE);
    const samples = await sampleJobStats(domA, migration);
    await migration;

    assert.ok(samples.length >= 2, `job stats sampled ${samples.length} times during the migration`);
    assert.ok(samples.every((s) => s.stats.type === DomainJobType.UNBOUNDED), 'a live migration is an unbounded job');
    assert.ok(samples.some((s) => num(s.stats.stats['memory_processed']) > 0), 'memory_processed grows');
    const slowest = Math.max(...samples.map((s) => s.latencyMs));
    assert.ok(slowest < 1000, `getJobStats took ${slowest.toFixed(0)} ms while the migration ran`);

    const domB = await connB.lookupDomainByName(name);
    assert.equal((await domB.getState()).stateName, 'running');
    await assert.rejects(connA.lookupDomainByName(name), (e: unknown) => e instanceof LibvirtError && e.codeName === 'VIR_ERR_NO_DOMAIN');
    await eventsA.waitFor('lifecycle', { event: 'stopped', detail: 'migrated' });
    assert.ok(eventsA.find('migrationIteration').length >= 1, 'migration iteration events on the source');
    await eventsB.waitFor('lifecycle', { event: 'resumed', detail: 'migrated' });
    const completed = await eventsA.waitFor('jobCompleted');
    assert.ok(num((completed.data['stats'] as Record<string, unknown>)['memory_processed']) > 0);

    const hb = await console_.waitForHeartbeat((h) => h.seq > lastSeq + 1, { timeoutMs: 20_000 });
    assert.equal(hb.boot, bootId, 'the guest did not reboot');
    assert.equal(console_.lines.filter((l) => READY_RE.test(l)).length, 1);
    eventsA.stop();
    eventsB.stop();
  });

  it('aborts a migration B -> A: the call rejects as aborted and the guest stays on B', async () => {
    const domB = await connB.lookupDomainByName(name);
    const eventsB = new EventRecorder(connB, name);
    // 1 MiB/s: far too slow to finish before the abort.
    const migration = domB.migrateToURI3(tb.hosts[0]!.migrationUri, { bandwidth: 1 }, NOVA_LIVE);
    const outcome = migration.then(() => 'completed', (e: unknown) => e);
    let active: JobStats | undefined;
    for (let i = 0; i < 100 && !active; i++) {
      const s = await domB.getJobStats();
      if (s.type === DomainJobType.UNBOUNDED && num(s.stats['memory_processed']) > 0) active = s;
      else await sleep(100);
    }
    assert.ok(active, 'the migration job became visible');
    await domB.abortJob();
    const result = await outcome;
    assert.ok(result instanceof LibvirtError, `migration ended with ${String(result)}`);
    assert.equal(result.codeName, 'VIR_ERR_OPERATION_ABORTED', result.message);

    assert.equal((await domB.getState()).stateName, 'running');
    assert.equal((await domB.getJobStats()).type, DomainJobType.NONE);
    await assert.rejects(connA.lookupDomainByName(name), (e: unknown) => e instanceof LibvirtError && e.codeName === 'VIR_ERR_NO_DOMAIN');
    const mark = await console_.mark();
    const hb = await console_.waitForHeartbeat(() => true, { since: mark, timeoutMs: 20_000 });
    assert.equal(hb.boot, bootId, 'the guest kept running through the aborted migration');
    eventsB.stop();
    await domB.destroy();
  });
});
