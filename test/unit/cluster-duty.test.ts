/**
 * Periodic work once per cluster: two controllers on one database (a SQLite file; PostgreSQL where it runs) both
 * run the recycle bin's reclaim round; only the one holding the reclaim duty does the work, the other takes the
 * duty when the holder stops renewing it (its lease ran out) or at once when the holder stops (releases it).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Store } from '../../src/store/index.js';
import { createHarness, type Harness } from '../support/harness.js';
import { freshPostgresDatabase, postgresBase } from '../support/postgres.js';

const S = '/compute/v2.1/servers';
const CFG = { reclaimIntervalSeconds: 60 };

async function softDeleted(h: Harness<Store>, name: string): Promise<string> {
  const id = await h.boot(h.tokens.demo, name);
  assert.equal((await h.req(h.tokens.demo, 'DELETE', `${S}/${id}`)).statusCode, 204);
  await h.idle();
  assert.equal((await h.store.getServer(id))!.vmState, 'soft-delete');
  return id;
}

async function oncePerCluster(open: () => Promise<Harness<Store>>): Promise<void> {
  const a = await open();
  const b = await open();
  const open2 = new Set([a, b]);
  const close = async (h: Harness<Store>) => { if (open2.delete(h)) await h.close(); };
  try {
    const round = 60_000;
    const later = Date.now() + 2 * 3600_000; // past the reclaim interval of every soft-deleted server
    await softDeleted(a, 'r1');
    // both controllers run their round; only one (the first to take the duty) reclaims
    const first = await Promise.all([a.app.novalet.compute.reclaimRound(later), b.app.novalet.compute.reclaimRound(later)]);
    assert.deepEqual(first.sort(), [0, 1]);
    const [holder, other] = (await a.app.novalet.compute.reclaimDuty.held(later + 1)) ? [a, b] : [b, a];
    await holder.idle();
    await softDeleted(a, 'r2');
    // the holder renews each round; the other does nothing while the holder's lease lasts
    assert.equal(await other.app.novalet.compute.reclaimRound(later + round), 0);
    assert.equal(await holder.app.novalet.compute.reclaimRound(later + round), 1);
    await holder.idle();
    // the holder stops renewing (hung, killed): after its lease (three rounds) the other takes the duty
    await softDeleted(a, 'r3');
    assert.equal(await other.app.novalet.compute.reclaimRound(later + 3 * round), 0);
    assert.equal(await other.app.novalet.compute.reclaimRound(later + 4 * round + 1), 1);
    await other.idle();
    // a controller that stops gives the duty up: the next round of the other one does the work at once
    await softDeleted(a, 'r4');
    const [stopping, staying] = [other, holder];
    await close(stopping);
    assert.equal(await staying.app.novalet.compute.reclaimRound(later + 4 * round + 2), 1);
    await staying.idle();
    const left = await staying.store.listServers({ projectId: staying.ids.demoProject });
    assert.deepEqual(left.map((s) => s.name), [], 'every soft-deleted server reclaimed exactly once');
  } finally {
    await close(a);
    await close(b);
  }
}

test('the recycle bin is reclaimed by one controller of two sharing a SQLite file', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'novalet-duty-'));
  try {
    await oncePerCluster(() => createHarness(CFG, 1, { dbPath: join(dir, 'shared.db') }));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

const pg = postgresBase();
test('the same on PostgreSQL', { skip: 'skip' in pg ? pg.skip : false }, async () => {
  const db = await freshPostgresDatabase((pg as { url: string }).url);
  try {
    await oncePerCluster(() => createHarness(CFG, 1, { storeUrl: db.url }));
  } finally {
    await db.drop();
  }
});
