import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { Journal } from '../../src/agent/journal/journal.js';
import { openDatabase } from '../../src/agent/journal/db.js';
import { MIGRATIONS } from '../../src/agent/journal/migrations.js';
import { tmpDir, uuid } from './agent-doubles.js';

const spec = (id: string) => ({ uuid: id, displayName: 'a', vcpus: 1, memoryMiB: 128, image: { id: 'i', source: '/x' }, rootGiB: 1 });

test('journal: WAL + synchronous FULL for intent rows + schema version; survives a reopen with steps, data and results', () => {
  const t = tmpDir();
  try {
    const path = join(t.dir, 'j.sqlite');
    const id = uuid();
    let j = Journal.open(path);
    assert.equal(j.db.pragma('journal_mode', { simple: true }), 'wal');
    assert.equal(j.db.pragma('synchronous', { simple: true }), 1); // NORMAL by default ...
    assert.equal(j.durable(() => j.db.pragma('synchronous', { simple: true })), 2); // ... FULL for intent rows
    assert.equal(j.db.pragma('synchronous', { simple: true }), 1);
    assert.equal(j.schemaVersion(), MIGRATIONS.at(-1)!.version);
    j.putServer({ uuid: id, spec: spec(id), status: 'building', desiredPower: 'running', power: 'nostate', task: null, opId: null, files: [], resizeOld: null });
    const op = j.createOperation({ requestId: 'req-1', serverUuid: id, kind: 'spawn', params: { spec: spec(id) } });
    assert.equal(j.getServer(id)!.opId, op.id);
    j.markRunning(op.id);
    j.setStep(op.id, 'image', { wasRunning: true });
    j.setProgress(op.id, 42);
    j.addFiles(id, ['/a', '/b']);
    j.close();

    j = Journal.open(path);
    const again = j.getOperationByRequestId('req-1')!;
    assert.equal(again.state, 'running');
    assert.equal(again.step, 'image');
    assert.equal(again.progress, 42);
    assert.deepEqual(again.data, { wasRunning: true });
    assert.deepEqual(j.listUnfinished().map((o) => o.id), [op.id]);
    assert.deepEqual(j.getServer(id)!.files, ['/a', '/b']);
    j.finishOperation(op.id, 'succeeded', { result: { power: 'running' } });
    assert.equal(j.getServer(id)!.opId, null);
    j.close();

    j = Journal.open(path);
    const fin = j.getOperation(op.id)!;
    assert.equal(fin.state, 'succeeded');
    assert.equal(fin.progress, 100);
    assert.deepEqual(fin.result, { power: 'running' });
    assert.deepEqual(j.steps(op.id).map((s) => s.step), ['accepted', 'image', 'succeeded']);
    assert.equal(j.listUnfinished().length, 0);
    assert.throws(() => j.createOperation({ requestId: 'req-1', serverUuid: id, kind: 'stop', params: {} }), /UNIQUE/);
    j.close();
  } finally { t.cleanup(); }
});

test('journal: migrations apply once, in order; a newer journal is refused', () => {
  const t = tmpDir();
  try {
    const path = join(t.dir, 'm.sqlite');
    const extra = [...MIGRATIONS, { version: 99, name: 'future', sql: 'CREATE TABLE future (x INTEGER)' }];
    openDatabase(path, extra).close();
    openDatabase(path, extra).close(); // idempotent
    assert.throws(() => openDatabase(path), /newer than this agent/);
  } finally { t.cleanup(); }
});

test('journal pruning: finished operations older than the retention go with their steps; unfinished ones, recent ones and live servers stay', async () => {
  const { harness, spawnParams } = await import('./agent-doubles.js');
  const h = await harness({ journalRetentionDays: 7 });
  try {
    const j = h.agent.deps.journal;
    const run = async (id: string, kind: string, params: unknown = {}) => {
      const { operation } = h.agent.runner.submit({ requestId: `r-${Math.random()}`, serverUuid: id, kind: kind as never, params });
      return (await h.agent.runner.wait(operation.id, 10_000))!;
    };
    const gone = uuid();
    const kept = uuid();
    const spawnGone = await run(gone, 'spawn', spawnParams(gone, h.imageFile));
    await run(gone, 'destroy');
    const spawnKept = await run(kept, 'spawn', spawnParams(kept, h.imageFile));
    const stuck = j.createOperation({ requestId: 'r-unfinished', serverUuid: kept, kind: 'pause', params: {} });
    j.finishOperation(stuck.id, 'succeeded', {}); // finished now: recent
    const open = j.createOperation({ requestId: 'r-open', serverUuid: kept, kind: 'stop', params: {} }); // never finished

    assert.deepEqual(h.agent.pruneJournal(new Date(Date.now() + 6 * 86_400_000)), { operations: 0, servers: 0 }, 'nothing is 7 days old yet');
    const later = new Date(Date.now() + 8 * 86_400_000);
    assert.deepEqual(h.agent.pruneJournal(later), { operations: 4, servers: 1 });
    assert.equal(j.getOperation(spawnGone.id), undefined);
    assert.deepEqual(j.steps(spawnGone.id), []);
    assert.equal(j.getOperation(spawnKept.id), undefined, 'old and finished: pruned although its server lives');
    assert.equal(j.getServer(gone), undefined, 'deleted server without operations left: pruned');
    assert.equal(j.getServer(kept)!.status, 'active', 'live server kept');
    assert.equal(j.getOperation(open.id)!.state, 'pending', 'unfinished operation kept');
    assert.ok(j.steps(open.id).length > 0);
  } finally { await h.cleanup(); }
});
