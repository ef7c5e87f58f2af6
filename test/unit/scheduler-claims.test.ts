/**
 * Claims in the database: 200 creates sent at once to two controllers sharing one database (a SQLite file, and
 * PostgreSQL where it runs: test/support/postgres.ts), racing for the last few slots of four small hosts. Each controller's scheduler view is stale about the other's claims; the database
 * decides. No host is ever over-committed, exactly the free slots are filled, and every loser ends in ERROR with
 * Nova's fault "No valid host was found." (code 400).
 */
import test from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Store } from '../../src/store/index.js';
import { createHarness, IMAGE_ID, type Harness } from '../support/harness.js';
import { freshPostgresDatabase, postgresBase } from '../support/postgres.js';

const S = '/compute/v2.1/servers';
const HOSTS = ['small-1', 'small-2', 'small-3', 'small-4'];
// m1.tiny is 1 vCPU / 512 MiB: 1 vCPU x the 4.0 ratio = 4 servers a host (RAM: 3072 - 512 reserved = 5)
const PER_HOST = 4;

async function smallHosts(h: Harness<Store>): Promise<void> {
  const hosts = h.app.novalet.compute.hosts;
  await hosts.update('fake-host', { disabled: true });
  for (const name of HOSTS) await hosts.heartbeat(name, { vcpus: 1, memoryMb: 3072, diskGb: 100, hostIp: '127.0.0.1' });
  await h.app.novalet.compute.placement.refresh();
}

const quota = { instances: 1000, cores: 10_000, ram: 10_000_000, key_pairs: 100, metadata_items: 128, server_groups: 10, server_group_members: 10 };

test('200 creates racing on two controllers for a nearly full cloud: no host over-committed, losers "No valid host" (SQLite file)', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'novalet-claims-'));
  const dbPath = join(dir, 'shared.db');
  try {
    await race(await createHarness({ quotaDefaults: quota }, 1, { dbPath }), await createHarness({ quotaDefaults: quota }, 1, { dbPath }));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

const pg = postgresBase();
test('the same race on PostgreSQL', { skip: 'skip' in pg ? pg.skip : false }, async () => {
  const db = await freshPostgresDatabase((pg as { url: string }).url);
  try {
    const a = await createHarness({ quotaDefaults: quota }, 1, { storeUrl: db.url });
    await race(a, await createHarness({ quotaDefaults: quota }, 1, { storeUrl: db.url }));
  } finally {
    await db.drop();
  }
});

async function race(a: Harness<Store>, b: Harness<Store>): Promise<void> {
  try {
    await smallHosts(a);
    await b.app.novalet.compute.placement.refresh();
    // nearly full: 13 of the 16 slots taken through the first controller
    for (let i = 0; i < 13; i++) await a.boot(a.tokens.demo, `pre-${i}`);
    const free = HOSTS.length * PER_HOST - 13;
    // both views as they were before: B has not seen any of A's claims (its view is stale on purpose)
    const posts = await Promise.all(Array.from({ length: 200 }, (_, i) => {
      const h = i % 2 ? a : b;
      return h.req(h.tokens.demo, 'POST', S, { server: { name: `race-${i}`, imageRef: IMAGE_ID, flavorRef: '1', networks: 'none' } }, '2.37');
    }));
    assert.ok(posts.every((r) => r.statusCode === 202), posts.find((r) => r.statusCode !== 202)?.body);
    await Promise.all([a.idle(), b.idle()]);
    const servers = (await a.req(a.tokens.admin, 'GET', `${S}/detail?all_tenants=1&limit=1000`)).json().servers as Array<Record<string, any>>;
    const race = servers.filter((s) => s.name.startsWith('race-'));
    assert.equal(race.length, 200);
    const active = race.filter((s) => s.status === 'ACTIVE');
    const errored = race.filter((s) => s.status === 'ERROR');
    assert.equal(active.length, free, 'exactly the free slots were filled');
    assert.equal(errored.length, 200 - free);
    for (const s of errored) {
      assert.equal(s.fault?.code, 400);
      assert.match(s.fault?.message, /^No valid host was found\./);
    }
    const perHost = new Map<string, number>();
    for (const s of servers.filter((x) => x.status === 'ACTIVE')) perHost.set(s['OS-EXT-SRV-ATTR:host'], (perHost.get(s['OS-EXT-SRV-ATTR:host']) ?? 0) + 1);
    for (const name of HOSTS) assert.ok((perHost.get(name) ?? 0) <= PER_HOST, `${name} holds ${perHost.get(name)}`);
    assert.equal(perHost.get('fake-host'), undefined, 'the disabled host got nothing');
    // the usage rows equal what the servers hold, and the losers hold nothing
    for (const name of HOSTS) {
      const u = await a.store.getHostUsage(name);
      assert.equal(u.instances, perHost.get(name) ?? 0);
      assert.equal(u.vcpus, perHost.get(name) ?? 0);
    }
    for (const s of errored) assert.equal(await a.store.getAllocation(s.id), null);
  } finally {
    await a.close();
    await b.close();
  }
}
