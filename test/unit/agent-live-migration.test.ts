/**
 * Live migration on the agents, with the fake hypervisor: two agents (source A, destination B) whose FakeHosts
 * are peers, so a completed migration moves the domain from A's host to B's. Covers the whole host-call flow
 * (prepare on B, live_migrate on A, finish / rollback on B), Nova's monitor policy (downtime steps, completion
 * timeout, no progress, post-copy switch, force complete), abort, a paused guest, and a source agent restart.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import type { OperationRow } from '../../src/agent/journal/journal.js';
import { downtimeSteps, dataGiB, NOVA_POLICY, completionTimeoutMs } from '../../src/agent/migration/policy.js';
import { agentBackend } from '../../src/agent/rpc-backend.js';
import { AgentError } from '../../src/rpc/errors.js';
import { AgentClient } from '../../src/rpc/client.js';
import { createRpcServer } from '../../src/rpc/server.js';
import { AgentTransport } from '../../src/controller/agents/transport.js';
import type { AgentDirectory } from '../../src/controller/agents/directory.js';
import { HostCallError } from '../../src/controller/hosts/transport.js';
import { calls, harness, silentLog, spawnParams, uuid, type Harness } from './agent-doubles.js';

const DEST_URI = 'qemu+tcp://host-b/system';

async function run(h: Harness, serverUuid: string, kind: string, params: unknown = {}): Promise<OperationRow> {
  const { operation } = h.agent.runner.submit({ requestId: `req-${Math.random().toString(16).slice(2)}`, serverUuid, kind: kind as never, params });
  const done = await h.agent.runner.wait(operation.id, 10_000);
  assert.ok(done);
  return done;
}

function submit(h: Harness, serverUuid: string, kind: string, params: unknown): OperationRow {
  return h.agent.runner.submit({ requestId: `req-${Math.random().toString(16).slice(2)}`, serverUuid, kind: kind as never, params }).operation;
}

async function until(what: string, ok: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(5);
  }
}

interface Pair { a: Harness; b: Harness; id: string; spec: ReturnType<typeof spawnParams>['spec']; cleanup(): Promise<void> }

/** A spawned server on A; B is a second agent whose host is A's migration peer at DEST_URI. */
async function pair(over: Record<string, unknown> = {}): Promise<Pair> {
  const fast = { liveMigrationMonitorIntervalMs: 5 };
  const a = await harness(fast);
  const b = await harness({ ...fast, liveMigrationScheme: 'tcp', liveMigrationInboundAddr: 'host-b' });
  a.hv.host.peers.set(DEST_URI, b.hv.host);
  const id = uuid();
  const params = spawnParams(id, a.imageFile, { nics: [{ portId: 'p1', mac: '52:54:00:00:00:01', attachment: { type: 'network', network: 'default' }, ip: '10.0.0.5' }], ...over });
  a.hv.addNetwork('default');
  b.hv.addNetwork('default');
  const op = await run(a, id, 'spawn', params);
  assert.equal(op.state, 'succeeded', JSON.stringify(op.error));
  return { a, b, id, spec: { ...params.spec, image: { ...params.spec.image, source: b.imageFile } }, cleanup: async () => { await a.cleanup(); await b.cleanup(); } };
}

/** prepare on B, then submit live_migrate on A with the prepare's answer; returns A's operation (running) */
async function startMigration(p: Pair, params: Record<string, unknown> = {}): Promise<OperationRow> {
  const prep = await run(p.b, p.id, 'live_migrate_prepare', { spec: p.spec, blockMigration: true });
  assert.equal(prep.state, 'succeeded', JSON.stringify(prep.error));
  const r = prep.result as { destUri: string; migrateUri?: string; paths: { instances: string; images: string } };
  return submit(p.a, p.id, 'live_migrate', { destUri: r.destUri, ...(r.migrateUri ? { migrateUri: r.migrateUri } : {}), blockMigration: true, destPaths: r.paths, ...params });
}

test('policy: Nova downtime steps, data GiB (RAM at least 2, disks when copied), completion timeout per GiB', () => {
  const steps = downtimeSteps(NOVA_POLICY, 2);
  assert.equal(steps.length, 11);
  assert.deepEqual(steps[0], [0, 50]);
  assert.deepEqual(steps[1], [150_000, 95]);
  assert.deepEqual(steps[10], [1_500_000, 500]);
  const spec = { memoryMiB: 4096, rootGiB: 10, ephemeralGiB: 1, swapMiB: 512 } as never;
  assert.equal(dataGiB(spec, false), 4);
  assert.equal(dataGiB(spec, true), 15.5);
  assert.equal(dataGiB({ memoryMiB: 128, rootGiB: 1 } as never, false), 2);
  assert.equal(completionTimeoutMs(NOVA_POLICY, 2), 1_600_000);
  assert.equal(completionTimeoutMs({ ...NOVA_POLICY, completionTimeoutPerGiBSec: 0 }, 2), 0);
});

test('the flow: prepare on B (migrating, disks pre-created, DHCP), live_migrate on A (paths rewritten, A forgets), finish on B', async () => {
  const p = await pair();
  try {
    const { a, b, id } = p;
    const aFiles = a.agent.deps.journal.getServer(id)!.files;
    const op = await startMigration(p);
    // the destination knows the incoming server before the domain arrives: never an unknown domain there
    assert.equal(b.agent.deps.journal.getServer(id)!.status, 'migrating');
    assert.ok(b.disks.calls.some((c) => c.startsWith('overlay:') && c.includes(b.dir)), 'root overlay pre-created on B');
    assert.deepEqual(await b.hv.listDhcpHosts('default'), [{ mac: '52:54:00:00:00:01', ip: '10.0.0.5' }]);

    const done = await a.agent.runner.wait(op.id, 5000);
    assert.equal(done!.state, 'succeeded', JSON.stringify(done!.error));
    const req = a.hv.faults.callsOf('migrate')[0]!.args[1] as { destUri: string; blockMigration: boolean; migrateUri: string; pathRewrites: [string, string][] };
    assert.equal(req.destUri, DEST_URI);
    assert.equal(req.migrateUri, 'tcp://host-b');
    assert.equal(req.blockMigration, true);
    assert.deepEqual(req.pathRewrites[0], [a.agent.deps.paths.instances, b.agent.deps.paths.instances]);
    // libvirt: gone from A, running on B with B's paths
    assert.equal(a.hv.has(id), false);
    assert.equal(b.hv.inspect(id)?.power, 'running');
    assert.ok(b.hv.spec(id)!.disks.every((d) => d.path.startsWith(b.dir)), 'disk paths rewritten to B');
    assert.ok(b.hv.spec(id)!.consoleLog.startsWith(b.dir));
    // A forgot the server: row deleted, files and DHCP entry gone
    const sa = a.agent.deps.journal.getServer(id)!;
    assert.equal(sa.status, 'deleted');
    assert.deepEqual(sa.files, []);
    for (const f of aFiles) assert.equal(existsSync(f), false, f);
    assert.deepEqual(await a.hv.listDhcpHosts('default'), []);

    const fin = await run(b, id, 'live_migrate_finish');
    assert.equal(fin.state, 'succeeded', JSON.stringify(fin.error));
    const sb = b.agent.deps.journal.getServer(id)!;
    assert.equal(sb.status, 'active');
    assert.equal(sb.power, 'running');
    const { unknown } = await b.agent.power.sweep();
    assert.deepEqual(unknown, []);
    // the progress view on A after the end: the final reading with the end state
    const view = agentBackend(a.agent).liveMigration(id).migration;
    assert.equal(view?.phase, 'succeeded');
  } finally { await p.cleanup(); }
});

test('a migration over before the monitor\'s first reading: the result has the numbers of libvirt\'s JOB_COMPLETED event', async () => {
  const p = await pair();
  try {
    p.a.hv.nextMigration({ final: { memoryTotal: 134217728, memoryProcessed: 20971520, dataTotal: 134217728, elapsedMs: 80, iterations: 2 } });
    const op = await startMigration(p);
    const done = await p.a.agent.runner.wait(op.id, 5000);
    assert.equal(done!.state, 'succeeded', JSON.stringify(done!.error));
    const r = done!.result as { memoryTotal: number; memoryProcessed: number; iterations: number };
    assert.deepEqual([r.memoryTotal, r.memoryProcessed, r.iterations], [134217728, 20971520, 2]);
  } finally { await p.cleanup(); }
});

test('downtime is raised in steps while the migration runs, up to maxDowntimeMs', async () => {
  const p = await pair();
  try {
    p.a.hv.nextMigration({ script: [{ dataTotal: 100, dataRemaining: 90, iterations: 1 }], hold: true });
    // 2 GiB x 0.01 s per step: a step every 20 ms
    const op = await startMigration(p, { maxDowntimeMs: 300, downtimeSteps: 3, downtimeDelaySec: 0.01, progressTimeoutSec: 0 });
    await until('migration', () => p.a.hv.migration(p.id) !== undefined);
    const m = p.a.hv.migration(p.id)!;
    await until('last downtime step', () => m.downtimes.includes(300));
    m.complete();
    const done = await p.a.agent.runner.wait(op.id, 5000);
    assert.equal(done!.state, 'succeeded');
    assert.equal(m.downtimes[0], 100);
    assert.deepEqual([...m.downtimes].sort((x, y) => x - y), m.downtimes, 'only ever raised');
    assert.equal((done!.result as { maxDowntimeMs: number }).maxDowntimeMs, 300);
  } finally { await p.cleanup(); }
});

test('completion timeout (per GiB) aborts: rolled_back, the guest keeps running on A; rollback on B undoes prepare', async () => {
  const p = await pair();
  try {
    p.a.hv.nextMigration({ script: [{ dataTotal: 100, dataRemaining: 90, iterations: 1 }], hold: true });
    const op = await startMigration(p, { completionTimeoutPerGiBSec: 0.05, progressTimeoutSec: 0 }); // 100 ms for 2 GiB
    const done = await p.a.agent.runner.wait(op.id, 5000);
    assert.equal(done!.state, 'rolled_back');
    assert.equal(done!.error?.cause, 'completion_timeout');
    assert.match(done!.error!.message, /completion timeout/);
    assert.ok(calls(p.a.hv).includes(`abortJob:${p.id}`));
    assert.equal(p.a.hv.inspect(p.id)?.power, 'running');
    assert.equal(p.a.agent.deps.journal.getServer(p.id)!.status, 'active');
    assert.equal(p.b.hv.has(p.id), false);

    const bFiles = p.b.agent.deps.journal.getServer(p.id)!.files;
    const rb = await run(p.b, p.id, 'live_migrate_rollback');
    assert.equal(rb.state, 'succeeded', JSON.stringify(rb.error));
    assert.equal(p.b.agent.deps.journal.getServer(p.id)!.status, 'deleted');
    for (const f of bFiles) assert.equal(existsSync(f), false, f);
    assert.deepEqual(await p.b.hv.listDhcpHosts('default'), []);
    // A still has its entry: the guest runs there
    assert.deepEqual(await p.a.hv.listDhcpHosts('default'), [{ mac: '52:54:00:00:00:01', ip: '10.0.0.5' }]);
  } finally { await p.cleanup(); }
});

test('no progress (no new low of the data remaining) aborts', async () => {
  const p = await pair();
  try {
    p.a.hv.nextMigration({ script: [{ dataTotal: 100, dataRemaining: 50, iterations: 1 }], hold: true });
    const op = await startMigration(p, { completionTimeoutPerGiBSec: 0, progressTimeoutSec: 0.08 });
    const done = await p.a.agent.runner.wait(op.id, 5000);
    assert.equal(done!.state, 'rolled_back');
    assert.equal(done!.error?.cause, 'no_progress');
    assert.equal(p.a.hv.inspect(p.id)?.power, 'running');
  } finally { await p.cleanup(); }
});

test('post-copy: after N memory passes without convergence the monitor switches (when permitted) and it completes', async () => {
  const p = await pair();
  try {
    const script = [1, 2, 3, 4].map((i) => ({ dataTotal: 1000, dataRemaining: 500 - i, memoryRemaining: 500 - i, iterations: i }));
    p.a.hv.nextMigration({ script, hold: true });
    const op = await startMigration(p, { permitPostCopy: true, postCopyAfterIterations: 2, progressTimeoutSec: 0 });
    const done = await p.a.agent.runner.wait(op.id, 5000);
    assert.equal(done!.state, 'succeeded', JSON.stringify(done!.error));
    const req = p.a.hv.faults.callsOf('migrate')[0]!.args[1] as { postCopy: boolean; autoConverge: boolean };
    assert.equal(req.postCopy, true);
    assert.equal(req.autoConverge, false, 'Nova: no auto-converge where post-copy is permitted');
    assert.ok(calls(p.a.hv).includes(`startPostCopy:${p.id}`));
    const r = done!.result as { postCopy: boolean; events: string[] };
    assert.equal(r.postCopy, true);
    assert.ok(r.events.some((e) => /post-copy/.test(e)));
    assert.equal(p.b.hv.inspect(p.id)?.power, 'running');
  } finally { await p.cleanup(); }
});

test('without post-copy permitted the monitor never switches; auto-converge is a start flag when permitted', async () => {
  const p = await pair();
  try {
    const script = [1, 2, 3, 4].map((i) => ({ dataTotal: 1000, dataRemaining: 500 - i, iterations: i }));
    p.a.hv.nextMigration({ script });
    const op = await startMigration(p, { permitAutoConverge: true, progressTimeoutSec: 0 });
    const done = await p.a.agent.runner.wait(op.id, 5000);
    assert.equal(done!.state, 'succeeded');
    assert.ok(!calls(p.a.hv).includes(`startPostCopy:${p.id}`));
    assert.equal((p.a.hv.faults.callsOf('migrate')[0]!.args[1] as { autoConverge: boolean }).autoConverge, true);
  } finally { await p.cleanup(); }
});

test('abort (the RPC action): rolled_back with cause aborted, guest running on A; progress readable while it ran', async () => {
  const p = await pair();
  try {
    p.a.hv.nextMigration({ script: [{ dataTotal: 1000, dataProcessed: 400, dataRemaining: 600, memoryTotal: 1000, memoryRemaining: 600, iterations: 1 }], hold: true });
    const op = await startMigration(p, { progressTimeoutSec: 0 });
    const api = agentBackend(p.a.agent);
    await until('a reading', () => (api.liveMigration(p.id).migration?.memoryRemaining ?? 0) > 0);
    const view = api.liveMigration(p.id).migration!;
    assert.equal(view.phase, 'running');
    assert.equal(view.operationId, op.id);
    assert.equal(view.memoryTotal, 1000);
    assert.equal(view.iterations, 1);
    await until('operation progress', () => p.a.agent.deps.journal.getOperation(op.id)!.progress === 40);

    assert.deepEqual(await api.liveMigrationAction(p.id, 'abort'), { action: 'abort', operationId: op.id });
    const done = await p.a.agent.runner.wait(op.id, 5000);
    assert.equal(done!.state, 'rolled_back');
    assert.equal(done!.error?.cause, 'aborted');
    assert.equal(p.a.hv.inspect(p.id)?.power, 'running');
    assert.equal(api.liveMigration(p.id).migration?.phase, 'rolled_back');
    await assert.rejects(api.liveMigrationAction(p.id, 'abort'), (e: unknown) => e instanceof AgentError && e.code === 'invalid_state');
  } finally { await p.cleanup(); }
});

test('force complete without post-copy pauses the guest; it arrives running on B (libvirt resumes it)', async () => {
  const p = await pair();
  try {
    p.a.hv.nextMigration({ script: [{ dataTotal: 100, dataRemaining: 90, iterations: 1 }], hold: true });
    const op = await startMigration(p, { progressTimeoutSec: 0 });
    await until('migration', () => p.a.hv.migration(p.id) !== undefined);
    assert.equal((await agentBackend(p.a.agent).liveMigrationAction(p.id, 'force-complete')).action, 'pause');
    const done = await p.a.agent.runner.wait(op.id, 5000);
    assert.equal(done!.state, 'succeeded', JSON.stringify(done!.error));
    assert.ok(calls(p.a.hv).includes(`pause:${p.id}`));
    assert.equal(p.b.hv.inspect(p.id)?.power, 'running');
  } finally { await p.cleanup(); }
});

test('abort is refused once in post-copy (the guest already runs on the destination)', async () => {
  const p = await pair();
  try {
    p.a.hv.nextMigration({ script: [{ dataTotal: 100, dataRemaining: 90, iterations: 1 }], hold: true, stuck: true });
    const op = await startMigration(p, { permitPostCopy: true, progressTimeoutSec: 0 });
    await until('migration', () => p.a.hv.migration(p.id) !== undefined);
    const api = agentBackend(p.a.agent);
    assert.equal((await api.liveMigrationAction(p.id, 'force-complete')).action, 'postcopy');
    await assert.rejects(api.liveMigrationAction(p.id, 'abort'), (e: unknown) => e instanceof AgentError && e.code === 'invalid_state');
    p.a.hv.migration(p.id)!.complete();
    assert.equal((await p.a.agent.runner.wait(op.id, 5000))!.state, 'succeeded');
  } finally { await p.cleanup(); }
});

test('a paused guest migrates and arrives paused; finish records paused', async () => {
  const p = await pair();
  try {
    assert.equal((await run(p.a, p.id, 'pause')).state, 'succeeded');
    const op = await startMigration(p);
    const done = await p.a.agent.runner.wait(op.id, 5000);
    assert.equal(done!.state, 'succeeded', JSON.stringify(done!.error));
    assert.equal(p.b.hv.inspect(p.id)?.power, 'paused');
    const fin = await run(p.b, p.id, 'live_migrate_finish');
    assert.deepEqual(fin.result, { power: 'paused' });
    assert.equal(p.b.agent.deps.journal.getServer(p.id)!.desiredPower, 'paused');
  } finally { await p.cleanup(); }
});

test('refusals: prepare without shared storage needs block migration; rollback while the guest runs on B; live_migrate of a server the host forgot', async () => {
  const p = await pair();
  try {
    assert.throws(() => submit(p.b, p.id, 'live_migrate_prepare', { spec: p.spec, blockMigration: false }),
      (e: unknown) => e instanceof AgentError && e.code === 'invalid_state' && /block migration/.test(e.message));
    const op = await startMigration(p);
    assert.equal((await p.a.agent.runner.wait(op.id, 5000))!.state, 'succeeded');
    const rb = await run(p.b, p.id, 'live_migrate_rollback');
    assert.equal(rb.state, 'failed');
    assert.match(rb.error!.message, /runs on this host/);
    assert.equal(p.b.hv.inspect(p.id)?.power, 'running', 'never touched');
    assert.throws(() => submit(p.a, p.id, 'live_migrate', { destUri: DEST_URI, blockMigration: true }),
      (e: unknown) => e instanceof AgentError && e.code === 'unknown_server');
  } finally { await p.cleanup(); }
});

test('shared storage markers: seen on the host that wrote it only (separate instance dirs)', async () => {
  const p = await pair();
  try {
    const apiA = agentBackend(p.a.agent);
    const apiB = agentBackend(p.b.agent);
    const { marker } = await apiB.createStorageMarker();
    assert.equal(apiB.checkStorageMarker(marker).exists, true);
    assert.equal(apiA.checkStorageMarker(marker).exists, false);
    await apiB.removeStorageMarker(marker);
    assert.equal(apiB.checkStorageMarker(marker).exists, false);
    assert.throws(() => apiA.checkStorageMarker('../../etc/passwd'), (e: unknown) => e instanceof AgentError && e.code === 'bad_request');
  } finally { await p.cleanup(); }
});

test('source agent dies mid-migration: the restarted agent waits for libvirt\'s job and, once the guest left, forgets the server', async () => {
  const p = await pair();
  try {
    p.a.hv.nextMigration({ script: [{ dataTotal: 100, dataRemaining: 90, iterations: 1 }], hold: true });
    await startMigration(p, { progressTimeoutSec: 0 });
    await until('migration', () => p.a.hv.migration(p.id) !== undefined);
    const m = p.a.hv.migration(p.id)!;
    // the new agent's start recovers the interrupted live_migrate; it waits while the job still runs
    const restarting = p.a.restart();
    await sleep(50);
    m.complete();
    const a2 = await restarting;
    p.a = a2;
    const s = a2.agent.deps.journal.getServer(p.id)!;
    assert.equal(s.status, 'deleted');
    const op = a2.agent.deps.journal.listOperations(p.id).find((o) => o.kind === 'live_migrate')!;
    assert.equal(op.state, 'succeeded');
    assert.equal(p.b.hv.inspect(p.id)?.power, 'running');
  } finally { await p.cleanup(); }
});

test('source agent dies and the migration had failed: rolled_back, the guest stays on A', async () => {
  const p = await pair();
  try {
    p.a.hv.nextMigration({ script: [{ dataTotal: 100, dataRemaining: 90, iterations: 1 }], hold: true });
    await startMigration(p, { progressTimeoutSec: 0 });
    await until('migration', () => p.a.hv.migration(p.id) !== undefined);
    p.a.hv.migration(p.id)!.fail();
    const a2 = await p.a.restart();
    p.a = a2;
    const op = a2.agent.deps.journal.listOperations(p.id).find((o) => o.kind === 'live_migrate')!;
    assert.ok(op.state === 'rolled_back', op.state);
    assert.equal(a2.agent.deps.journal.getServer(p.id)!.status, 'active');
    assert.equal(a2.hv.inspect(p.id)?.power, 'running');
  } finally { await p.cleanup(); }
});

test('over the RPC, through the controller\'s host-call API: shared storage check, progress, abort, errors', async () => {
  const p = await pair();
  const secret = 'test-secret-0123456789abcdef';
  const servers = [createRpcServer({ backend: agentBackend(p.a.agent), secret, log: silentLog }), createRpcServer({ backend: agentBackend(p.b.agent), secret, log: silentLog })];
  try {
    const entries = new Map<string, unknown>();
    for (const [i, name] of ['a', 'b'].entries()) {
      const url = await servers[i]!.listen({ host: '127.0.0.1', port: 0 });
      entries.set(name, { endpoint: { url, local: true }, client: new AgentClient({ url, secret }), host: name });
    }
    const t = new AgentTransport({ agents: { forHost: (h: string) => entries.get(h) } as unknown as AgentDirectory, imagePath: (i) => i, imageUrl: (i) => i, imageUploadUrl: (i) => i });
    assert.equal(await t.sharedInstancePath('a', 'b'), false);
    assert.equal(await t.sharedInstancePath('b', 'b'), true, 'a host shares its instances dir with itself');
    assert.deepEqual(readdirSync(p.b.agent.deps.paths.instances).filter((f) => f.startsWith('.novalet-shared-')), [], 'markers removed');
    assert.equal(await t.liveMigrationProgress('a', p.id), null);
    await assert.rejects(t.liveMigrationAction('a', p.id, 'abort'), (e: unknown) => e instanceof HostCallError && e.code === 'invalid_state');
    await assert.rejects(t.liveMigrationProgress('a', uuid()), (e: unknown) => e instanceof HostCallError && e.code === 'unknown_server');

    p.a.hv.nextMigration({ script: [{ dataTotal: 1000, dataRemaining: 700, memoryTotal: 1000, memoryProcessed: 300, memoryRemaining: 700, iterations: 1 }], hold: true });
    const prep = await t.call({ host: 'b', kind: 'live_migrate_prepare', serverId: p.id, params: { spec: p.spec, blockMigration: true }, requestId: 'req-lm', tag: 'prepare' });
    assert.equal(prep['destUri'], DEST_URI);
    const job = t.call({ host: 'a', kind: 'live_migrate', serverId: p.id, requestId: 'req-lm', tag: 'source',
      params: { destUri: String(prep['destUri']), blockMigration: true, destPaths: prep['paths'] as { instances: string; images: string }, progressTimeoutSec: 0 } });
    const outcome = job.then(() => null, (e: unknown) => e);
    await until('progress over RPC', () => p.a.agent.deps.migrations.get(p.id)?.monitor.stats.memoryProcessed === 300);
    const seen = await t.liveMigrationProgress('a', p.id);
    assert.equal(seen?.phase, 'running');
    assert.equal(seen?.memoryRemaining, 700);
    assert.equal(await t.liveMigrationAction('a', p.id, 'abort'), 'abort');
    const err = await outcome;
    assert.ok(err instanceof HostCallError && err.rolledBack, String(err));
    assert.equal((await t.liveMigrationProgress('a', p.id))?.phase, 'rolled_back');
    const rb = await t.call({ host: 'b', kind: 'live_migrate_rollback', serverId: p.id, params: {}, requestId: 'req-lm', tag: 'rollback' });
    assert.ok(Number(rb['deletedFiles']) > 0);
  } finally {
    for (const s of servers) await s.close();
    await p.cleanup();
  }
});

test('FakeHosts (the controller tests\' double) plays the same host calls: prepare, held migration with progress, abort, completion', async () => {
  const { FakeHosts } = await import('../support/fake-hosts.js');
  const hosts = new FakeHosts(1);
  const id = uuid();
  const call = <K extends 'spawn' | 'live_migrate_prepare' | 'live_migrate' | 'live_migrate_finish'>(host: string, kind: K, params: unknown) =>
    hosts.call({ host, kind, serverId: id, params: params as never, requestId: 'req-x', tag: kind });
  await call('a', 'spawn', {});
  assert.equal(await hosts.sharedInstancePath(), false);
  const prep = await call('b', 'live_migrate_prepare', { spec: {}, blockMigration: true });
  assert.equal(prep['destUri'], 'qemu+tls://b/system');
  hosts.holdLiveMigrations = true;
  const first = call('a', 'live_migrate', { destUri: prep['destUri'], blockMigration: true }).then(() => null, (e: unknown) => e);
  await until('held', () => hosts.calls.some((c) => c.op === 'live_migrate'));
  await sleep(5);
  assert.equal((await hosts.liveMigrationProgress('a', id))?.phase, 'running');
  assert.equal(await hosts.liveMigrationAction('a', id, 'abort'), 'abort');
  const err = await first;
  assert.ok(err instanceof HostCallError && err.rolledBack);
  assert.equal(hosts.guests.get(id)?.host, 'a');
  const second = call('a', 'live_migrate', { destUri: prep['destUri'], blockMigration: true });
  await sleep(5);
  hosts.completeLiveMigration(id);
  await second;
  assert.equal(hosts.guests.get(id)?.host, 'b');
  assert.deepEqual(await call('b', 'live_migrate_finish', {}), { power: 'running' });
  assert.equal((await hosts.liveMigrationProgress('a', id))?.phase, 'succeeded');
});

test('destination: prepare does not wait for the DHCP entries; an agent restarted before finish adds them, and the migration and finish work', async () => {
  const p = await pair();
  try {
    p.b.hv.faults.hangNext('setDhcpHost');
    const prep = await run(p.b, p.id, 'live_migrate_prepare', { spec: p.spec, blockMigration: true });
    assert.equal(prep.state, 'succeeded', JSON.stringify(prep.error));
    assert.deepEqual(await p.b.hv.listDhcpHosts('default'), [], 'the entry is still on its way');
    p.b = await p.b.restart();
    p.a.hv.host.peers.set(DEST_URI, p.b.hv.host);
    assert.equal(p.b.agent.deps.journal.getServer(p.id)!.status, 'migrating');
    const r = prep.result as { destUri: string; paths: { instances: string; images: string } };
    const op = await run(p.a, p.id, 'live_migrate', { destUri: r.destUri, blockMigration: true, destPaths: r.paths });
    assert.equal(op.state, 'succeeded', JSON.stringify(op.error));
    // a sweep on B between arrival and finish: the incoming domain is the journal's, never unknown
    assert.deepEqual((await p.b.agent.power.sweep()).unknown, []);
    assert.equal((await run(p.b, p.id, 'live_migrate_finish')).state, 'succeeded');
    assert.equal(p.b.agent.deps.journal.getServer(p.id)!.power, 'running');
    assert.deepEqual(await p.b.hv.listDhcpHosts('default'), [{ mac: '52:54:00:00:00:01', ip: '10.0.0.5' }]);
  } finally { await p.cleanup(); }
});
