/**
 * Live migration between two testbed hosts (two libvirtds in their own network + mount namespaces, real QEMU):
 * one agent per host, run in this process against its host's libvirtd socket, each behind its own RPC server, and
 * driven through the controller's host-call API (AgentTransport) exactly as the live migration task will:
 * sharedInstancePath, live_migrate_prepare on the destination, live_migrate on the source (progress read and
 * abort sent meanwhile), live_migrate_finish / live_migrate_rollback on the destination.
 * The agents' data dirs differ (so the disks are block-migrated and the definition's paths are rewritten).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, statSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { FastifyInstance } from 'fastify';
import { pino } from 'pino';
import { Agent } from '../../src/agent/agent.js';
import { DEFAULT_CONFIG } from '../../src/agent/config.js';
import { agentBackend } from '../../src/agent/rpc-backend.js';
import { AgentTransport } from '../../src/controller/agents/transport.js';
import type { AgentDirectory } from '../../src/controller/agents/directory.js';
import { HostCallError, type LiveMigrationProgress } from '../../src/controller/hosts/transport.js';
import { AgentClient } from '../../src/rpc/client.js';
import { createRpcServer } from '../../src/rpc/server.js';
import { LibvirtHypervisor } from '../../src/virt/index.js';
import * as qemuImg from '../../src/virt/qemu-img.js';
import { ConsoleLog, guestArtifacts } from '../support/guest.js';
import { cleanupStaleTestbeds, createTestbed, type Testbed, type TestbedHost } from '../support/testbed.js';
import { ensureGuestBuilt, isRoot } from '../support/virsh.js';

const log = pino({ level: process.env['NOVALET_TEST_LOG'] ?? 'silent' });

interface HostAgent { name: string; agent: Agent; hv: LibvirtHypervisor; rpc: FastifyInstance; dataDir: string }

/** `sharedInstances`: the agent's instances dir is (a link to) a directory both hosts see, like an NFS mount */
async function startAgent(tb: Testbed, h: TestbedHost, secret: string, name = h.name, sharedInstances?: string): Promise<HostAgent> {
  const dataDir = join(tb.dir, `agent-${name}`);
  mkdirSync(dataDir, { recursive: true });
  if (sharedInstances) {
    mkdirSync(sharedInstances, { recursive: true });
    symlinkSync(sharedInstances, join(dataDir, 'instances'));
  }
  const hv = new LibvirtHypervisor({ uri: h.uri });
  const agent = await Agent.create({
    hv, log,
    config: {
      ...DEFAULT_CONFIG, dataDir, runDir: join(dataDir, 'run'), secret, pollIntervalMs: 200, shutdownTimeoutSec: 10,
      liveMigrationScheme: 'tcp', liveMigrationInboundAddr: h.ip, liveMigrationMonitorIntervalMs: 200,
    },
  });
  await agent.start();
  const rpc = createRpcServer({ backend: agentBackend(agent), secret, log });
  await rpc.listen({ host: '127.0.0.1', port: 0 });
  return { name, agent, hv, rpc, dataDir };
}

describe('live migration between two hosts through the agents', { skip: !isRoot() && 'needs root (namespaces, libvirtd + QEMU)' }, () => {
  let tb: Testbed;
  const secret = randomBytes(24).toString('hex');
  const hosts: HostAgent[] = [];
  let transport: AgentTransport;
  const entries = new Map<string, { endpoint: { url: string; local: boolean }; client: AgentClient; host: string }>();
  const register = (h: HostAgent): void => {
    const url = `http://127.0.0.1:${(h.rpc.server.address() as { port: number }).port}`;
    entries.set(h.name, { endpoint: { url, local: true }, client: new AgentClient({ url, secret }), host: h.name });
  };
  const id = randomUUID();
  const id2 = randomUUID();
  const requestId = `req-${randomUUID()}`;
  let imageFile = '';
  let bootId = '';
  let call = 0;
  const consoleOf = (h: HostAgent) => join(h.agent.deps.paths.instanceDir(id), 'console.log');
  const a = () => hosts[0]!;
  const b = () => hosts[1]!;

  let lun = '';
  const hostCall = <K extends 'spawn' | 'pause' | 'unpause' | 'destroy' | 'live_migrate_prepare' | 'live_migrate' | 'live_migrate_finish' | 'live_migrate_rollback'>(
    host: HostAgent, kind: K, params: Record<string, unknown>, serverId = id) =>
    transport.call({ host: host.name, kind, serverId, params: params as never, requestId, tag: `${kind}-${++call}` });

  /** the test guest: root overlay on the cached image (local), plus a volume on a shared block device (the testbed's LUN) */
  const spec = (uuid = id, withLun = true) => {
    const g = guestArtifacts();
    return {
      uuid, displayName: 'lm-it', vcpus: 1, memoryMiB: 128, image: { id: 'lm-image', source: imageFile, format: 'raw' as const }, rootGiB: 0,
      boot: { kind: 'kernel' as const, kernel: g.kernel, ramdisk: g.initrd, cmdline: g.cmdline },
      ...(withLun ? { disks: [{ target: 'vdb', path: lun, format: 'raw' as const, sourceType: 'block' as const, volumeId: 'vol-lm' }] } : {}),
    };
  };

  /** sharedInstancePath, prepare on `to`, live_migrate on `from` with its answer; returns the running live_migrate */
  async function migrate(from: HostAgent, to: HostAgent, extra: Record<string, unknown> = {}, uuid = id, withLun = true) {
    const shared = await transport.sharedInstancePath(from.name, to.name);
    const prep = await hostCall(to, 'live_migrate_prepare', { spec: spec(uuid, withLun), blockMigration: !shared, sharedInstancePath: shared }, uuid);
    const job = hostCall(from, 'live_migrate', {
      destUri: prep['destUri'], migrateUri: prep['migrateUri'], destPaths: prep['paths'], blockMigration: !shared, sharedInstancePath: shared, ...extra,
    }, uuid);
    return { job, shared };
  }

  /** progress readings from the source while `job` runs */
  async function watchProgress(from: HostAgent, job: Promise<unknown>): Promise<LiveMigrationProgress[]> {
    let settled = false;
    void job.then(() => { settled = true; }, () => { settled = true; });
    const seen: LiveMigrationProgress[] = [];
    while (!settled) {
      const p = await transport.liveMigrationProgress(from.name, id).catch(() => null);
      if (p && p.phase === 'running' && p.memoryProcessed > 0) seen.push(p);
      await sleep(150);
    }
    return seen;
  }

  before(async () => {
    await ensureGuestBuilt();
    await cleanupStaleTestbeds();
    tb = await createTestbed({ hosts: 2 });
    imageFile = join(tb.sharedDir, 'lm-image.raw');
    await qemuImg.create(imageFile, { format: 'raw', sizeBytes: 32 * 1024 * 1024 });
    lun = (await tb.createSharedDisk({ name: 'lm-lun', sizeMiB: 16 })).device;
    for (const h of tb.hosts) hosts.push(await startAgent(tb, h, secret));
    hosts.forEach(register);
    const agents = { forHost: (name: string) => entries.get(name) } as unknown as AgentDirectory;
    transport = new AgentTransport({ agents, imagePath: (i) => i, imageUrl: (i) => i, imageUploadUrl: (i) => i, operationTimeoutMs: 300_000 });
  });

  after(async () => {
    for (const h of hosts) {
      for (const u of [id, id2]) {
        await h.hv.destroy(u).catch(() => undefined);
        await h.hv.undefine(u).catch(() => undefined);
      }
      await h.agent.stop();
      await h.rpc.close();
      await h.hv.close();
      h.agent.close();
    }
    await tb?.destroy();
  });

  it('spawns the test guest on h0 with a local qcow2 overlay', async () => {
    const r = await hostCall(a(), 'spawn', { spec: spec() });
    assert.equal(r['power'], 'running');
    const con = new ConsoleLog(consoleOf(a()));
    bootId = (await con.waitForReady({ timeoutMs: 120_000 })).boot;
    const hb = await con.waitForHeartbeat((h) => h.boot === bootId && h.seq >= 2, { timeoutMs: 30_000 });
    assert.deepEqual(hb.disks, ['vda', 'vdb']);
  });

  it('live-migrates h0 -> h1 (block migration): progress recorded, the heartbeat continues on h1 with the same boot id', async () => {
    const conA = new ConsoleLog(consoleOf(a()));
    await conA.poll();
    const lastSeq = conA.heartbeats().at(-1)!.seq;
    // 8 MiB/s: long enough to watch the monitor's readings
    const { job, shared } = await migrate(a(), b(), { bandwidthMiBs: 8 });
    assert.equal(shared, false, 'separate data dirs: nothing shared, the disks are copied');
    assert.equal(b().agent.deps.journal.getServer(id)!.status, 'migrating');
    const readings = await watchProgress(a(), job);
    const result = await job;

    assert.ok(readings.length >= 2, `progress read ${readings.length} times while it ran`);
    assert.ok(readings.every((p) => p.memoryTotal > 0 && p.destUri === `qemu+tcp://${tb.hosts[1]!.ip}/system`));
    assert.ok(readings.at(-1)!.memoryProcessed >= readings[0]!.memoryProcessed);
    assert.ok(Number(result['iterations']) >= 1);
    assert.ok(Number(result['memoryTotal']) > 0);
    assert.ok(Number(result['maxDowntimeMs']) >= 50, 'Nova\'s first downtime step was set');
    const final = await transport.liveMigrationProgress(a().name, id);
    assert.equal(final?.phase, 'succeeded');

    const fin = await hostCall(b(), 'live_migrate_finish', {});
    assert.equal(fin['power'], 'running');
    assert.equal((await a().hv.getDomain(id)), null, 'gone from h0');
    assert.equal((await b().hv.getDomain(id))?.power, 'running');
    assert.equal(a().agent.deps.journal.getServer(id)!.status, 'deleted');
    assert.equal(existsSync(a().agent.deps.paths.instanceDir(id)), false, 'h0 instance dir removed');
    assert.equal(b().agent.deps.journal.getServer(id)!.status, 'active');
    assert.match(await b().hv.getDomainXml(id), new RegExp(b().dataDir), 'h1 runs it from its own instance dir');

    const conB = new ConsoleLog(consoleOf(b()));
    const hb = await conB.waitForHeartbeat((h) => h.seq > lastSeq, { timeoutMs: 30_000 });
    assert.equal(hb.boot, bootId, 'no reboot: the same boot continues on h1');
    assert.deepEqual(hb.disks, ['vda', 'vdb'], 'the shared volume came along (not copied: only vda is local)');
    assert.equal((await b().agent.power.sweep()).unknown.length, 0, 'h1 never saw an unknown domain');
  });

  it('an abort leaves the guest running on the source (h1); rollback on h0 undoes its prepare', async () => {
    const { job } = await migrate(b(), a(), { bandwidthMiBs: 1 });
    const outcome = job.then(() => null, (e: unknown) => e);
    for (let i = 0; i < 100; i++) {
      const p = await transport.liveMigrationProgress(b().name, id);
      if (p?.phase === 'running' && p.memoryProcessed > 0) break;
      await sleep(100);
    }
    assert.equal(await transport.liveMigrationAction(b().name, id, 'abort'), 'abort');
    const err = await outcome;
    assert.ok(err instanceof HostCallError, `live_migrate ended with ${String(err)}`);
    assert.equal(err.rolledBack, true);
    assert.match(err.message, /aborted/);
    assert.equal((await transport.liveMigrationProgress(b().name, id))?.phase, 'rolled_back');
    assert.equal((await b().hv.getDomain(id))?.power, 'running');
    assert.equal(b().agent.deps.journal.getServer(id)!.status, 'active');

    const rb = await hostCall(a(), 'live_migrate_rollback', {});
    assert.ok(Number(rb['deletedFiles']) >= 1);
    assert.equal(a().agent.deps.journal.getServer(id)!.status, 'deleted');
    assert.equal(existsSync(a().agent.deps.paths.instanceDir(id)), false);
    assert.equal(await a().hv.getDomain(id), null);

    const conB = new ConsoleLog(consoleOf(b()));
    const mark = await conB.mark();
    const hb = await conB.waitForHeartbeat(() => true, { since: mark, timeoutMs: 30_000 });
    assert.equal(hb.boot, bootId, 'still the same boot on h1');
  });

  it('a paused guest migrates (h1 -> h0) and arrives paused; unpaused there it continues the same boot', async () => {
    await hostCall(b(), 'pause', {});
    const { job } = await migrate(b(), a());
    await job;
    const fin = await hostCall(a(), 'live_migrate_finish', {});
    assert.equal(fin['power'], 'paused');
    assert.equal((await a().hv.getDomain(id))?.power, 'paused');
    assert.equal(await b().hv.getDomain(id), null);
    const conA = new ConsoleLog(consoleOf(a()), { fromEnd: true });
    await hostCall(a(), 'unpause', {});
    const hb = await conA.waitForHeartbeat(() => true, { timeoutMs: 30_000 });
    assert.equal(hb.boot, bootId);
    await hostCall(a(), 'destroy', {});
  });

  it('instances dir on shared storage (seen by both hosts, as NFS would be): detected, migrated without copying the disks', async () => {
    const shared = join(tb.sharedDir, 'instances');
    const c = await startAgent(tb, tb.hosts[0]!, secret, 'h0-shared', shared);
    const d = await startAgent(tb, tb.hosts[1]!, secret, 'h1-shared', shared);
    hosts.push(c, d);
    register(c);
    register(d);
    await hostCall(c, 'spawn', { spec: spec(id2, false) }, id2);
    const con = new ConsoleLog(join(shared, id2, 'console.log'));
    const boot = (await con.waitForReady({ timeoutMs: 120_000 })).boot;
    await con.waitForHeartbeat((h) => h.boot === boot && h.seq >= 1, { timeoutMs: 30_000 });
    const disk = join(shared, id2, 'disk');
    const ino = statSync(disk).ino;

    const { job, shared: detected } = await migrate(c, d, {}, id2, false);
    assert.equal(detected, true, 'the storage marker written on h1 was seen on h0');
    const result = await job;
    assert.equal(result['blockMigration'], false);
    assert.equal(result['deletedFiles'], 0, 'h0 deleted nothing: the files are h1\'s now');
    assert.equal((await hostCall(d, 'live_migrate_finish', {}, id2))['power'], 'running');
    assert.equal(statSync(disk).ino, ino, 'the same disk file, neither copied nor recreated');
    assert.equal(await c.hv.getDomain(id2), null);
    const mark = await con.mark();
    const hb = await con.waitForHeartbeat(() => true, { since: mark, timeoutMs: 30_000 });
    assert.equal(hb.boot, boot, 'the same boot continues on h1');
    await hostCall(d, 'destroy', {}, id2);
  });
});
