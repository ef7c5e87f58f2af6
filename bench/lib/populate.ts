/**
 * Fills a controller's database with servers through the store (src/store), not through the API: 50,000 API
 * creates would measure the create path 50,000 times. Rows look like the API's: several projects and users,
 * seeded flavors, a fixed address with MAC per server, metadata and tags on some, a spread of states, hosts
 * sim-0001.., creation times one second apart (oldest first) so the default sort and markers behave as in use.
 * Works on the live database of a running controller (SQLite WAL: one writer at a time, readers unaffected):
 * batches are short transactions with a pause between them, so the controller's own writes (heartbeats) get the
 * write lock within its busy timeout instead of starving behind back-to-back batches.
 */
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { SqliteStore, isPostgresUrl, openStore, type Flavor, type NewServer } from '../../src/store/index.js';
import { databaseOf } from '../../src/store/sqlite/sqlite-store.js';

const STATES: Array<{ vmState: string; powerState: number; weight: number }> = [
  { vmState: 'active', powerState: 1, weight: 70 },
  { vmState: 'stopped', powerState: 4, weight: 15 },
  { vmState: 'paused', powerState: 3, weight: 5 },
  { vmState: 'suspended', powerState: 7, weight: 4 },
  { vmState: 'error', powerState: 0, weight: 3 },
  { vmState: 'shelved_offloaded', powerState: 4, weight: 3 },
];
const WEIGHTS = STATES.reduce((a, s) => a + s.weight, 0);

function stateFor(i: number): (typeof STATES)[number] {
  let x = (i * 7919) % WEIGHTS;
  for (const s of STATES) { if (x < s.weight) return s; x -= s.weight; }
  return STATES[0]!;
}

export interface PopulateOptions {
  dbFile: string;
  /** servers to add now */
  count: number;
  /** index of the first new row (so repeated calls extend the same sequence) */
  from: number;
  imageRef: string;
  hosts: number;
  /** projects (id, a user in it) to spread rows over */
  owners: Array<{ projectId: string; userId: string }>;
  networkName: string;
  batch?: number;
  /** pause between batches, ms (default 100) */
  pauseMs?: number;
}

export const POPULATED_EPOCH = Date.parse('2026-01-01T00:00:00Z');
export const populatedName = (i: number) => `bench-${String(i).padStart(6, '0')}`;

/** Inserts rows `from .. from+count-1`; returns their ids in insertion (= age, oldest first) order. */
export async function populateServers(o: PopulateOptions): Promise<string[]> {
  if (isPostgresUrl(o.dbFile)) return populatePostgres(o);
  const store = new SqliteStore(o.dbFile);
  const ids: string[] = [];
  try {
    const flavors: Flavor[] = (await store.listFlavors({ includePrivate: true })).filter((f) => f.ram <= 8192);
    const batch = o.batch ?? 1000;
    for (let start = o.from; start < o.from + o.count; start += batch) {
      const end = Math.min(o.from + o.count, start + batch);
      const pending: Promise<unknown>[] = [];
      // one transaction per batch: createServer's own transaction nests as a savepoint
      databaseOf(store).transaction(() => {
        for (let i = start; i < end; i++) {
          const s = row(o, i, flavors);
          ids.push(s.id);
          pending.push(store.createServer(s));
        }
      })();
      await Promise.all(pending);
      await sleep(o.pauseMs ?? 100);
    }
  } finally {
    await store.close();
  }
  return ids;
}

/** PostgreSQL (`dbFile` a postgres:// URL): each row its own insert, 16 in flight over the store's pool */
async function populatePostgres(o: PopulateOptions): Promise<string[]> {
  const store = await openStore(o.dbFile);
  const ids: string[] = [];
  try {
    const flavors: Flavor[] = (await store.listFlavors({ includePrivate: true })).filter((f) => f.ram <= 8192);
    let next = o.from;
    await Promise.all(Array.from({ length: 16 }, async () => {
      for (let i = next++; i < o.from + o.count; i = next++) {
        const s = row(o, i, flavors);
        ids[i - o.from] = s.id;
        await store.createServer(s);
      }
    }));
  } finally {
    await store.close();
  }
  return ids;
}

function row(o: PopulateOptions, i: number, flavors: Flavor[]): NewServer {
  const f = flavors[i % flavors.length]!;
  const owner = o.owners[i % o.owners.length]!;
  const st = stateFor(i);
  const created = new Date(POPULATED_EPOCH + i * 1000).toISOString();
  const host = `sim-${String((i % o.hosts) + 1).padStart(4, '0')}`;
  const n = i + 2;
  const mac = `fa:16:3e:${((n >> 16) & 0xff).toString(16).padStart(2, '0')}:${((n >> 8) & 0xff).toString(16).padStart(2, '0')}:${(n & 0xff).toString(16).padStart(2, '0')}`;
  const name = populatedName(i);
  return {
    id: randomUUID(), name, projectId: owner.projectId, userId: owner.userId, imageRef: o.imageRef,
    flavor: { id: f.id, name: f.name, vcpus: f.vcpus, ram: f.ram, disk: f.disk, ephemeral: f.ephemeral, swap: f.swap, extraSpecs: {} },
    oldFlavor: null, vmState: st.vmState, taskState: null, powerState: st.powerState,
    host: st.vmState === 'shelved_offloaded' ? null : host, node: st.vmState === 'shelved_offloaded' ? null : host,
    availabilityZone: 'nova', keyName: i % 3 === 0 ? 'bench-key' : null, keyData: null, userData: null,
    accessIPv4: '', accessIPv6: '', configDrive: '', diskConfig: 'MANUAL', description: i % 5 === 0 ? `bench server ${i}` : null,
    locked: i % 50 === 0, lockedReason: null, lockedBy: i % 50 === 0 ? 'owner' : null,
    reservationId: `r-${(i >> 4).toString(36).padStart(8, '0')}`, launchIndex: i % 16, hostname: name,
    kernelId: '', ramdiskId: '', rootDeviceName: '/dev/vda', progress: 0,
    addresses: [{ network: o.networkName, addr: `10.${(n >> 16) & 0xff}.${(n >> 8) & 0xff}.${n & 0xff}`, version: 4, mac, type: 'fixed' }],
    requestedNetworks: null, securityGroups: ['default'], blockDeviceMapping: [],
    metadata: i % 4 === 0 ? { role: ['web', 'db', 'cache'][i % 3]!, owner: `team-${i % 7}` } : {},
    tags: i % 10 === 0 ? ['bench', `shard-${i % 4}`] : [],
    fault: st.vmState === 'error' ? { code: 500, message: 'No valid host was found. ', created } : null,
    createdAt: created, launchedAt: st.vmState === 'error' ? null : created,
  };
}

/**
 * Writes to servers of the first page of the default sort (newest 1,000) as the controller's writes do (a new
 * updated_at, which their views show), so that the controller's kept renders of them are stale: `share` 1 = every
 * one, 0.1 = about one in ten (picked at random each time).
 */
export function serverToucher(dbFile: string): { touch(share: number): number; close(): Promise<void> } {
  const store = new SqliteStore(dbFile);
  const page = 'SELECT id FROM servers WHERE deleted = 0 ORDER BY created_at DESC, id DESC LIMIT 1000';
  const all = databaseOf(store).prepare(`UPDATE servers SET updated_at = ? WHERE id IN (${page})`);
  const some = databaseOf(store).prepare(`UPDATE servers SET updated_at = ? WHERE id IN (${page}) AND abs(random()) % 1000 < ?`);
  return {
    touch: (share) => {
      const now = new Date().toISOString();
      return (share >= 1 ? all.run(now) : some.run(now, Math.round(share * 1000))).changes;
    },
    close: () => store.close(),
  };
}
