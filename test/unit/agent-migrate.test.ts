/**
 * The agents' side of a resize or cold migration across hosts: two agents on the fake hypervisor, the source
 * serving its instance files over the real RPC server (cluster secret), the target's migrate_receive pulling them,
 * pointing the root disk at its own cached base image, growing it and defining the new flavor.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { createRpcServer } from '../../src/rpc/server.js';
import { AgentClient, RpcError } from '../../src/rpc/client.js';
import { agentBackend } from '../../src/agent/rpc-backend.js';
import type { OperationRow } from '../../src/agent/journal/journal.js';
import { GiB, harness, silentLog, spawnParams, testConfig, uuid, type Harness } from './agent-doubles.js';

const SECRET = testConfig('/x').secret!;

async function run(h: Harness, serverUuid: string, kind: string, params: unknown, requestId = `req-${Math.random().toString(16).slice(2)}`): Promise<OperationRow> {
  const { operation } = h.agent.runner.submit({ requestId, serverUuid, kind: kind as never, params });
  const done = await h.agent.runner.wait(operation.id, 10_000);
  assert.ok(done);
  return done;
}

async function serve(h: Harness): Promise<{ url: string; close(): Promise<void> }> {
  const app = createRpcServer({ backend: agentBackend(h.agent), secret: SECRET, log: silentLog });
  await app.listen({ host: '127.0.0.1', port: 0 });
  return { url: `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`, close: () => app.close() };
}

/** a source agent serving its RPC (the cluster secret) and a target agent; both cleaned up after `fn` */
async function withTwoAgents(fn: (src: Harness, dst: Harness, rpc: { url: string }) => Promise<void>): Promise<void> {
  const src = await harness();
  const dst = await harness();
  const rpc = await serve(src);
  try {
    await fn(src, dst, rpc);
  } finally {
    await rpc.close();
    await dst.cleanup();
    await src.cleanup();
  }
}

test('migrate_receive: the target pulls the stopped source\'s files, rebases, grows, defines the new flavor and starts', async () => {
  await withTwoAgents(async (src, dst, rpc) => {
    const id = uuid();
    const spawn = spawnParams(id, src.imageFile);
    assert.equal((await run(src, id, 'spawn', spawn)).state, 'succeeded');
    const srcDir = src.agent.deps.paths.instanceDir(id);
    // what the guest wrote on its disks must arrive as it was
    writeFileSync(join(srcDir, 'disk.eph0'), 'written in the guest before the move');
    const client = new AgentClient({ url: rpc.url, secret: SECRET });

    // a running guest's files are not served (the copy would not be consistent)
    await assert.rejects(client.instanceFiles(id), (e: unknown) => e instanceof RpcError && e.code === 'invalid_state');
    assert.equal((await run(src, id, 'stop', {})).state, 'succeeded');
    const listed = (await client.instanceFiles(id)).files.map((f) => f.name).sort();
    assert.deepEqual(listed, ['disk', 'disk.eph0', 'disk.swap'], 'the console log stays behind');
    await assert.rejects(client.instanceFiles(uuid()), (e: unknown) => e instanceof RpcError && e.code === 'unknown_server');
    const wrong = new AgentClient({ url: rpc.url, secret: 'not-the-cluster-secret-0123' });
    await assert.rejects(wrong.instanceFiles(id), (e: unknown) => e instanceof RpcError && e.code === 'unauthorized');

    const params = {
      spec: { ...spawn.spec, vcpus: 2, memoryMiB: 256, rootGiB: 3, image: { ...spawn.spec.image, source: dst.imageFile } },
      sourceUrl: rpc.url, start: true,
    };
    const op = await run(dst, id, 'migrate_receive', params, 'req-move-1');
    assert.equal(op.state, 'succeeded', JSON.stringify(op.error));
    const s = dst.agent.deps.journal.getServer(id)!;
    assert.equal(s.status, 'active');
    assert.equal(s.power, 'running');
    assert.equal(dst.hv.inspect(id)?.power, 'running');
    const dstDir = dst.agent.deps.paths.instanceDir(id);
    assert.equal(readFileSync(join(dstDir, 'disk.eph0'), 'utf8'), 'written in the guest before the move');
    for (const f of ['disk', 'disk.eph0', 'disk.swap']) assert.ok(s.files.includes(join(dstDir, f)), `${f} owned on the target`);
    const root = await dst.disks.info(join(dstDir, 'disk'));
    assert.equal(root.backingFile, dst.agent.deps.images.pathFor('img-test'), 'the root disk sits on the target\'s cached base');
    assert.equal(root.virtualSize, 3 * GiB, 'grown to the new flavor');
    assert.equal(s.spec.vcpus, 2);
    assert.equal(s.spec.memoryMiB, 256);

    // the source keeps everything until confirm or revert
    for (const f of ['disk', 'disk.eph0', 'disk.swap']) assert.ok(existsSync(join(srcDir, f)), f);
    assert.equal(src.agent.deps.journal.getServer(id)!.status, 'active');

    // the same request id again: the recorded operation, not a second copy
    const again = dst.agent.runner.submit({ requestId: 'req-move-1', serverUuid: id, kind: 'migrate_receive', params });
    assert.equal(again.duplicate, true);
    assert.equal(dst.agent.deps.journal.listOperations(id).filter((o) => o.kind === 'migrate_receive').length, 1);

    // revert on the agents' side: the target's copy destroyed, the source's guest starts from its own files
    assert.equal((await run(dst, id, 'destroy', {})).state, 'succeeded');
    assert.ok(!existsSync(join(dstDir, 'disk')));
    assert.equal((await run(src, id, 'start', {})).state, 'succeeded');
    assert.equal(readFileSync(join(srcDir, 'disk.eph0'), 'utf8'), 'written in the guest before the move');
  });
});

test('migrate_receive from a source that lacks the server: rolled back, nothing left on the target', async () => {
  await withTwoAgents(async (src, dst, rpc) => {
    const id = uuid();
    const spawn = spawnParams(id, dst.imageFile);
    const op = await run(dst, id, 'migrate_receive', { spec: spawn.spec, sourceUrl: rpc.url, start: true });
    assert.equal(op.state, 'rolled_back');
    assert.equal(op.error?.code, 'unknown_server');
    assert.equal(dst.agent.deps.journal.getServer(id)!.status, 'error');
    assert.equal(dst.hv.inspect(id) ?? null, null);
    assert.ok(!existsSync(join(dst.agent.deps.paths.instanceDir(id), 'disk')));
    // a second move attempt of the same server to this host is accepted afterwards
    assert.equal((await run(dst, id, 'migrate_receive', { spec: spawn.spec, sourceUrl: rpc.url, start: false })).state, 'rolled_back');
  });
});

test('live_migrate_prepare copies the running source\'s config drive byte for byte; its other files stay refused while it runs', async () => {
  await withTwoAgents(async (src, dst, rpc) => {
    const id = uuid();
    const spawn = spawnParams(id, src.imageFile, { configDrive: true, userData: Buffer.from('#!/bin/sh\necho hi\n').toString('base64') });
    assert.equal((await run(src, id, 'spawn', { ...spawn, adminPass: 'only-the-source-drive-has-it' })).state, 'succeeded');
    const srcDrive = readFileSync(join(src.agent.deps.paths.instanceDir(id), 'disk.config'));
    const client = new AgentClient({ url: rpc.url, secret: SECRET });
    await assert.rejects(client.downloadInstanceFile(id, 'disk', join(dst.agent.deps.paths.instanceDir('x'), 'nope')),
      (e: unknown) => e instanceof RpcError && e.code === 'invalid_state', 'a running guest\'s disk is not served');
    const spec = { ...spawn.spec, image: { ...spawn.spec.image, source: dst.imageFile } };
    const op = await run(dst, id, 'live_migrate_prepare', { spec, blockMigration: true, sourceUrl: rpc.url });
    assert.equal(op.state, 'succeeded', JSON.stringify(op.error));
    const dstDrive = readFileSync(join(dst.agent.deps.paths.instanceDir(id), 'disk.config'));
    assert.ok(dstDrive.equals(srcDrive), 'the same bytes (a drive made again here would lack the admin password)');
    assert.ok(dst.agent.deps.journal.getServer(id)!.files.some((f) => f.endsWith('disk.config')), 'journaled: a rollback removes it');
  });
});
