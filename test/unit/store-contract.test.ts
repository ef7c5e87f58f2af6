/**
 * The store contract: one suite, run against every Store implementation — SQLite (in memory) and PostgreSQL (a
 * fresh database per test on the server scripts/postgres.sh starts; skipped with the reason where it cannot run,
 * never in CI: scripts/test.sh starts it). Each test is a behaviour the controller relies on, including the
 * concurrent ones: racing compare-and-swaps, claims that never over-commit a host, group rules under a race,
 * task takeovers that only one controller wins.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { SqliteStore, PostgresStore, openStore, type NewServer, type Store, type BeginTask } from '../../src/store/index.js';
import type { IpRequest, Network, NewPort, SecurityGroupRule, Subnet } from '../../src/store/types.js';
import { databaseOf } from '../../src/store/sqlite/sqlite-store.js';
import { pgDatabaseOf } from '../../src/store/postgres/postgres-store.js';
import { MIGRATIONS } from '../../src/store/sqlite/migrations.js';
import { PG_MIGRATIONS } from '../../src/store/postgres/migrations.js';
import { freshPostgresDatabase, postgresBase } from '../support/postgres.js';

interface Fixture { store: Store; raw(sql: string, ...params: unknown[]): Promise<void>; close(): Promise<void>; }
interface Backend { name: string; skip: string | false; open(): Promise<Fixture>; }

const pgBase = postgresBase();
const BACKENDS: Backend[] = [
  {
    name: 'sqlite', skip: false,
    async open() {
      const store = new SqliteStore(':memory:');
      return { store, raw: async (sql, ...p) => { databaseOf(store).prepare(sql).run(...p); }, close: () => store.close() };
    },
  },
  {
    name: 'postgres', skip: 'skip' in pgBase ? pgBase.skip : false,
    async open() {
      const db = await freshPostgresDatabase((pgBase as { url: string }).url);
      const store = await openStore(db.url) as PostgresStore;
      return {
        store, raw: async (sql, ...p) => { await pgDatabaseOf(store).q.query(sql, p); },
        close: async () => { await store.close(); await db.drop(); },
      };
    },
  },
];

const FLAVOR = { id: '1', name: 'm1.tiny', vcpus: 1, ram: 512, disk: 1, ephemeral: 0, swap: 0, extraSpecs: {} };

function newServer(over: Partial<NewServer> = {}): NewServer {
  const id = over.id ?? randomUUID();
  return {
    id, name: 's', projectId: 'p1', userId: 'u1', imageRef: 'img1', flavor: FLAVOR,
    oldFlavor: null, vmState: 'active', taskState: null, powerState: 1, host: 'h1', node: 'h1', availabilityZone: 'nova',
    keyName: null, keyData: null, userData: null, accessIPv4: '', accessIPv6: '', configDrive: '', diskConfig: 'MANUAL',
    description: null, locked: false, lockedReason: null, lockedBy: null, reservationId: 'r-1', launchIndex: 0,
    hostname: 's', kernelId: '', ramdiskId: '', rootDeviceName: '/dev/vda', progress: 0, addresses: [],
    requestedNetworks: null, securityGroups: ['default'], blockDeviceMapping: [], metadata: {}, tags: [], fault: null,
    createdAt: new Date().toISOString(), launchedAt: null, ...over,
  };
}

function begin(serverId: string, over: Partial<BeginTask> = {}): BeginTask {
  return {
    serverId, action: { action: 'pause', requestId: `req-${randomUUID()}`, userId: 'u1', projectId: 'p1', message: null },
    event: 'compute_pause_instance', eventHost: 'h1', expect: { taskState: null }, changes: { taskState: 'pausing' },
    task: { id: randomUUID(), kind: 'pause', params: { a: 1 }, owner: 'c1', leaseUntil: Date.now() + 30_000 }, ...over,
  };
}

const T0 = '2026-01-01T00:00:00.000Z';
const at = (ms: number) => new Date(Date.parse(T0) + ms).toISOString();

function newNetwork(id: string, over: Partial<Network> = {}): Omit<Network, 'vni' | 'revision'> {
  return {
    id, name: id, projectId: 'p1', description: '', shared: false, adminStateUp: true, mtu: 1450, networkType: 'vxlan', physicalNetwork: null,
    routerExternal: false, portSecurityEnabled: true, legacyBridge: null, legacyLibvirtNetwork: null, isDefault: false, createdAt: T0, updatedAt: T0, ...over,
  };
}

function newSubnet(id: string, networkId: string, over: Partial<Subnet> = {}): Omit<Subnet, 'revision'> {
  return {
    id, networkId, projectId: 'p1', name: id, description: '', cidr: '10.1.0.0/24', ipVersion: 4, gatewayIp: '10.1.0.1', enableDhcp: true,
    allocationPools: [{ start: '10.1.0.2', end: '10.1.0.254' }], dnsNameservers: [], hostRoutes: [], ipv6AddressMode: null, ipv6RaMode: null,
    createdAt: T0, updatedAt: T0, ...over,
  };
}

/** the first free address of 10.1.0.2..10.1.0.(1 + n) */
const pool = (subnetId: string, n = 250): IpRequest => ({ subnetId, candidates: function* () { for (let i = 2; i < 2 + n; i++) yield `10.1.0.${i}`; } });

function newPort(id: string, networkId: string, ips: IpRequest[], over: Partial<NewPort> = {}): NewPort {
  return {
    id, networkId, projectId: 'p1', name: '', description: '', macAddress: `mac-${id}`, deviceId: '', deviceOwner: '', hostId: '',
    adminStateUp: true, portSecurityEnabled: true, securityGroups: [], deleteWithDevice: false, createdAt: T0, updatedAt: T0, ips, ...over,
  };
}

for (const backend of BACKENDS) {
  describe(`store contract: ${backend.name}`, { skip: backend.skip }, () => {
    /** a test on a fresh store of this backend */
    const it = (name: string, fn: (f: Fixture, st: Store) => Promise<void>) => test(name, async () => {
      const f = await backend.open();
      try { await fn(f, f.store); } finally { await f.close(); }
    });

    it('settings: set once, first value kept', async (_, st) => {
      assert.equal(await st.getSetting('k'), null);
      assert.equal(await st.setSettingIfAbsent('k', 'a'), 'a');
      assert.equal(await st.setSettingIfAbsent('k', 'b'), 'a');
      assert.equal(await st.getSetting('k'), 'a');
    });

    it('identity: domains, projects, users, roles, assignments, revoked tokens', async (_, st) => {
      await st.createDomain({ id: 'd', name: 'Default', enabled: true });
      assert.deepEqual(await st.getDomainByName('Default'), { id: 'd', name: 'Default', enabled: true });
      assert.equal(await st.getDomain('nope'), null);
      await st.createProject({ id: 'p2', name: 'b-proj', domainId: 'd', enabled: true, description: '' });
      await st.createProject({ id: 'p1', name: 'a-proj', domainId: 'd', enabled: false, description: 'x' });
      assert.deepEqual((await st.listProjects()).map((p) => p.name), ['a-proj', 'b-proj']);
      assert.equal((await st.getProjectByName('d', 'a-proj'))!.enabled, false);
      assert.equal((await st.getProject('p2'))!.description, '');
      const u = { id: 'u1', name: 'alice', domainId: 'd', passwordHash: 'h', enabled: true, defaultProjectId: null, tokensValidAfter: '2026-01-01T00:00:00.000Z' };
      await st.createUser(u);
      await assert.rejects(st.createUser({ ...u, id: 'u2' }), 'a user name is unique in its domain');
      await st.updateUser('u1', { enabled: false, defaultProjectId: 'p1' });
      assert.deepEqual(await st.getUser('u1'), { ...u, enabled: false, defaultProjectId: 'p1' });
      assert.equal((await st.getUserByName('d', 'alice'))!.id, 'u1');
      assert.equal((await st.listUsers()).length, 1);
      await st.createRole({ id: 'r2', name: 'member' });
      await st.createRole({ id: 'r1', name: 'admin' });
      assert.deepEqual(await st.getRoleByName('member'), { id: 'r2', name: 'member' });
      assert.deepEqual((await st.listRoles()).map((r) => r.name), ['admin', 'member']);
      await st.assignRole('u1', 'p1', 'r2');
      await st.assignRole('u1', 'p1', 'r2');
      await st.assignRole('u1', 'p1', 'r1');
      assert.deepEqual(await st.listUserProjectRoles('u1', 'p1'), [{ id: 'r1', name: 'admin' }, { id: 'r2', name: 'member' }]);
      await st.unassignRole('u1', 'p1', 'r1');
      assert.deepEqual(await st.listUserProjectRoles('u1', 'p1'), [{ id: 'r2', name: 'member' }]);
      await st.revokeToken('t1', '2026-01-01T00:00:00.000Z');
      await st.revokeToken('t1', '2026-01-01T00:00:00.000Z');
      await st.revokeToken('t2', '2099-01-01T00:00:00.000Z');
      assert.equal(await st.isTokenRevoked('t1'), true);
      assert.equal(await st.isTokenRevoked('t3'), false);
      assert.equal(await st.purgeExpiredRevocations('2027-01-01T00:00:00.000Z'), 1);
      assert.equal(await st.isTokenRevoked('t1'), false);
    });

    it('flavors: extra specs, numeric-first id order, filters, marker, delete', async (_, st) => {
      const f = (id: string, name: string, over = {}) => ({ id, name, vcpus: 1, ram: 512, disk: 1, ephemeral: 0, swap: 0, rxtxFactor: 1.5, isPublic: true, description: null, disabled: false, extraSpecs: {}, createdAt: new Date().toISOString(), ...over });
      await st.createFlavor(f('10', 'ten', { ram: 4096, extraSpecs: { 'hw:cpu_policy': 'dedicated' } }));
      await st.createFlavor(f('2', 'two', { ram: 2048 }));
      await st.createFlavor(f('abc', 'word', { isPublic: false }));
      await st.createFlavor(f('3', 'gone', { disabled: true }));
      assert.deepEqual((await st.getFlavor('10'))!.extraSpecs, { 'hw:cpu_policy': 'dedicated' });
      assert.equal((await st.getFlavorByName('two'))!.rxtxFactor, 1.5);
      assert.deepEqual((await st.listFlavors({ includePrivate: true })).map((x) => x.id), ['abc', '2', '10']);
      assert.deepEqual((await st.listFlavors({ includePrivate: false })).map((x) => x.id), ['2', '10']);
      assert.deepEqual((await st.listFlavors({ includePrivate: true, minRam: 2048, sortKey: 'memory_mb', sortDir: 'desc' })).map((x) => x.id), ['10', '2']);
      assert.deepEqual((await st.listFlavors({ includePrivate: true, marker: 'abc', limit: 1 })).map((x) => x.id), ['2']);
      await st.setFlavorExtraSpecs('2', { b: '2', a: '1' });
      await st.setFlavorExtraSpecs('2', { a: 'one' });
      assert.deepEqual((await st.getFlavor('2'))!.extraSpecs, { a: 'one', b: '2' });
      assert.deepEqual(Object.keys((await st.getFlavor('2'))!.extraSpecs), ['a', 'b']);
      assert.equal(await st.deleteFlavorExtraSpec('2', 'a'), true);
      assert.equal(await st.deleteFlavorExtraSpec('2', 'a'), false);
      await st.updateFlavorDescription('2', 'small');
      assert.equal((await st.getFlavor('2'))!.description, 'small');
      assert.equal(await st.deleteFlavor('10'), true);
      assert.equal(await st.deleteFlavor('10'), false);
      assert.equal(await st.getFlavor('10'), null);
    });

    it('keypairs: unique per user, name order, marker and limit', async (_, st) => {
      const k = (name: string, userId = 'u1') => ({ userId, name, type: 'ssh' as const, publicKey: 'ssh-ed25519 AAAA', fingerprint: 'fp', createdAt: new Date().toISOString() });
      assert.equal(await st.createKeypair(k('b')), true);
      assert.equal(await st.createKeypair(k('b')), false);
      assert.equal(await st.createKeypair(k('a')), true);
      assert.equal(await st.createKeypair(k('B')), true);
      assert.equal(await st.createKeypair(k('a', 'u2')), true);
      assert.deepEqual((await st.listKeypairs('u1')).map((x) => x.name), ['B', 'a', 'b']);
      assert.deepEqual((await st.listKeypairs('u1', { marker: 'B', limit: 1 })).map((x) => x.name), ['a']);
      assert.equal((await st.getKeypair('u2', 'a'))!.userId, 'u2');
      assert.equal(await st.deleteKeypair('u1', 'a'), true);
      assert.equal(await st.deleteKeypair('u1', 'a'), false);
      assert.equal((await st.getQuotaUsage('p1', 'u1')).keyPairs, 2);
    });

    it('images: visibility, filters, newest first with marker, update, delete', async (_, st) => {
      const img = (id: string, createdAt: string, over = {}) => ({ id, name: id, status: 'active' as const, visibility: 'public' as const, owner: 'p1', diskFormat: 'qcow2', containerFormat: 'bare', size: 5_000_000_000, checksum: null, osHashAlgo: null, osHashValue: null, minDisk: 0, minRam: 0, protected: false, properties: { os_distro: 'cirros' }, tags: ['t'], createdAt, updatedAt: createdAt, ...over });
      await st.createImage(img('i1', '2026-01-01T00:00:01.000Z'));
      await st.createImage(img('i2', '2026-01-01T00:00:02.000Z', { visibility: 'private', owner: 'p2' }));
      await st.createImage(img('i3', '2026-01-01T00:00:03.000Z', { status: 'queued' }));
      await st.createImage(img('i4', '2026-01-01T00:00:03.000Z'));
      assert.equal((await st.getImage('i1'))!.size, 5_000_000_000);
      assert.deepEqual((await st.getImage('i1'))!.properties, { os_distro: 'cirros' });
      assert.deepEqual((await st.listImages({ projectId: 'p1', isAdmin: false })).map((i) => i.id), ['i4', 'i3', 'i1']);
      assert.deepEqual((await st.listImages({ projectId: null, isAdmin: true })).map((i) => i.id), ['i4', 'i3', 'i2', 'i1']);
      assert.deepEqual((await st.listImages({ projectId: null, isAdmin: true, marker: 'i4', limit: 2 })).map((i) => i.id), ['i3', 'i2']);
      assert.deepEqual((await st.listImages({ projectId: null, isAdmin: true, status: 'queued' })).map((i) => i.id), ['i3']);
      await st.updateImage('i3', { status: 'deleted' });
      assert.equal(await st.getImage('i3'), null);
      await st.updateImage('i1', { protected: true, tags: ['x', 'y'], name: null });
      const i1 = (await st.getImage('i1'))!;
      assert.deepEqual([i1.protected, i1.tags, i1.name], [true, ['x', 'y'], null]);
      assert.equal(await st.deleteImage('i1'), true);
      assert.equal(await st.deleteImage('i1'), false);
    });

    it('CAS: 50 concurrent conflicting task_state swaps, exactly one wins', async (_, st) => {
      const s = await st.createServer(newServer());
      const results = await Promise.all(Array.from({ length: 50 }, (_, i) =>
        st.updateServerIf(s.id, { taskState: null, vmState: ['active'] }, { taskState: i % 2 ? 'pausing' : 'powering-off' })));
      assert.equal(results.filter(Boolean).length, 1);
      const after = await st.getServer(s.id);
      assert.ok(after!.taskState === 'pausing' || after!.taskState === 'powering-off');
    });

    it('CAS respects vm_state, task_state lists, taskStateNot and lock, and recomputes status', async (_, st) => {
      const s = await st.createServer(newServer({ vmState: 'stopped', powerState: 4 }));
      assert.equal(s.status, 'SHUTOFF');
      assert.equal(await st.updateServerIf(s.id, { taskState: null, vmState: ['active'] }, { taskState: 'pausing' }), false);
      assert.equal(await st.updateServerIf(s.id, { taskState: [] }, { taskState: 'pausing' }), false);
      assert.equal(await st.updateServerIf(s.id, { taskState: null, vmState: ['stopped'], locked: false }, { taskState: 'powering-on' }), true);
      assert.equal((await st.getServer(s.id))!.status, 'SHUTOFF');
      assert.equal(await st.updateServerIf(s.id, { taskStateNot: ['powering-on'] }, { name: 'x' }), false);
      assert.equal(await st.updateServerIf(s.id, { taskState: ['deleting', 'powering-on'] }, { taskState: null, vmState: 'active', powerState: 1 }), true);
      assert.equal((await st.getServer(s.id))!.status, 'ACTIVE');
      await st.updateServer(s.id, { locked: true, lockedBy: 'admin' });
      assert.equal(await st.updateServerIf(s.id, { taskState: null, locked: false }, { taskState: 'pausing' }), false);
      assert.equal(await st.updateServer(randomUUID(), { name: 'x' }), false);
    });

    it('list: filters, sort, keyset paging over every page, count', async (_, st) => {
      const base = Date.parse('2026-01-01T00:00:00Z');
      for (let i = 0; i < 25; i++) {
        await st.createServer(newServer({
          name: `web-${i}`, projectId: i % 5 === 0 ? 'p2' : 'p1', vmState: i % 3 === 0 ? 'stopped' : 'active',
          createdAt: new Date(base + Math.floor(i / 2) * 1000).toISOString(),
          addresses: [{ network: 'private', addr: `10.0.0.${i}`, version: 4, mac: 'fa:16:3e:00:00:01', type: 'fixed' }],
          tags: i % 2 ? ['odd'] : ['even'], flavor: { ...FLAVOR, id: i % 2 ? '2' : '1' }, host: i % 4 ? 'h1' : 'h2', locked: i === 3,
        }));
      }
      assert.equal((await st.listServers({ projectId: 'p1' })).length, 20);
      assert.equal((await st.listServers({ nameRegex: '^web-1' })).length, 11);
      assert.equal((await st.listServers({ nameRegex: 'WEB' })).length, 0);
      assert.equal((await st.listServers({ nameRegex: '(?i)WEB-2\\Z' })).length, 1);
      assert.equal((await st.listServers({ nameRegex: '(a' })).length, 0, 'an invalid pattern matches nothing');
      assert.equal((await st.listServers({ statuses: ['SHUTOFF'] })).length, 9);
      assert.equal((await st.listServers({ vmStates: ['stopped'] })).length, 9);
      assert.equal((await st.listServers({ flavorId: '2' })).length, 12);
      assert.equal((await st.listServers({ host: 'h2' })).length, 7);
      assert.equal((await st.listServers({ locked: true })).length, 1);
      assert.equal((await st.listServers({ ipRegex: '10\\.0\\.0\\.2\\b' })).length, 1);
      assert.equal((await st.listServers({ tags: ['odd'] })).length, 12);
      assert.equal((await st.listServers({ tagsAny: ['odd', 'even'] })).length, 25);
      assert.equal((await st.listServers({ notTags: ['odd'] })).length, 13);
      assert.equal((await st.listServers({ notTagsAny: ['odd'] })).length, 13);
      assert.equal(await st.countServers({ projectId: 'p1', nameRegex: '^web-1' }), 9);
      assert.equal(await st.countServers({ tags: ['odd'] }), 12);
      // a ReDoS pattern answers at once (RE2 on both stores)
      const t0 = Date.now();
      assert.equal((await st.listServers({ nameRegex: '^(a|a)+$' })).length, 0);
      assert.ok(Date.now() - t0 < 2000);
      const sorts = [undefined, [{ key: 'display_name' as const, dir: 'asc' as const }], [{ key: 'created_at' as const, dir: 'asc' as const }],
        [{ key: 'vm_state' as const, dir: 'desc' as const }, { key: 'display_name' as const, dir: 'asc' as const }], [{ key: 'host' as const, dir: 'asc' as const }]];
      for (const sort of sorts) {
        for (const nameRegex of [undefined, 'web-[12]']) {
          const full = await st.listServers({ sort, nameRegex });
          const seen: string[] = [];
          let marker: string | undefined;
          for (;;) {
            const page = await st.listServers({ sort, limit: 4, marker, nameRegex });
            assert.deepEqual(await st.listServerRevisions({ sort, limit: 4, marker, nameRegex }), page.map((s) => ({ id: s.id, revision: s.revision })));
            seen.push(...page.map((s) => s.id));
            if (page.length < 4) break;
            marker = page[page.length - 1]!.id;
          }
          assert.deepEqual(seen, full.map((s) => s.id));
        }
      }
      const names = (await st.listServers({ sort: [{ key: 'display_name', dir: 'asc' }] })).map((s) => s.name);
      assert.deepEqual(names, [...names].sort());
      const newest = await st.listServers({});
      assert.deepEqual(newest.map((s) => s.createdAt), [...newest.map((s) => s.createdAt)].sort().reverse());
    });

    it('soft delete, deleted listing, changes-since, reclaimable, withTask', async (_, st) => {
      const a = await st.createServer(newServer({ name: 'a' }));
      const b = await st.createServer(newServer({ name: 'b', taskState: 'spawning', vmState: 'building' }));
      const c = await st.createServer(newServer({ name: 'c' }));
      await st.updateServer(c.id, { vmState: 'soft-delete', deletedAt: '2026-01-01T00:00:00.000Z' });
      assert.deepEqual((await st.listReclaimable('2026-01-02T00:00:00.000Z')).map((s) => s.id), [c.id]);
      assert.deepEqual(await st.listReclaimable('2025-01-01T00:00:00.000Z'), []);
      assert.deepEqual((await st.listServers({ withTask: true })).map((s) => s.id), [b.id]);
      // changes-since compares millisecond timestamps: keep t0 apart from the writes before and after it
      await new Promise((r) => setTimeout(r, 5));
      const t0 = new Date().toISOString();
      await new Promise((r) => setTimeout(r, 5));
      assert.equal((await st.getAllocation(a.id))!.host, 'h1');
      await st.markServerDeleted(a.id, new Date().toISOString());
      assert.equal(await st.getAllocation(a.id), null, 'a deleted server gives its claim back');
      assert.equal(await st.getServer(a.id), null);
      const gone = (await st.getServer(a.id, { includeDeleted: true }))!;
      assert.deepEqual([gone.status, gone.deleted, gone.taskState, gone.powerState], ['DELETED', true, null, 0]);
      assert.equal((await st.listServers({ deleted: 'only' })).length, 1);
      assert.equal((await st.listServers({ changesSince: t0, deleted: 'include' })).length, 1);
      assert.equal(await st.updateServerIf(a.id, {}, { name: 'x' }), false, 'a deleted server takes no CAS');
    });

    it('quota usage sums flavor columns, changes with resize and delete', async (_, st) => {
      const a = await st.createServer(newServer());
      await st.createServer(newServer({ flavor: { ...FLAVOR, id: '2', vcpus: 2, ram: 2048 } }));
      assert.deepEqual(await st.getQuotaUsage('p1', 'u1'), { instances: 2, cores: 3, ram: 2560, keyPairs: 0 });
      await st.updateServer(a.id, { flavor: { ...FLAVOR, id: '3', vcpus: 4, ram: 4096 } });
      assert.deepEqual(await st.getQuotaUsage('p1', 'u1'), { instances: 2, cores: 6, ram: 6144, keyPairs: 0 });
      await st.markServerDeleted(a.id, new Date().toISOString());
      assert.equal((await st.getQuotaUsage('p1', 'u1')).instances, 1);
      assert.deepEqual(await st.getQuotaUsage('nobody', 'nobody'), { instances: 0, cores: 0, ram: 0, keyPairs: 0 });
      await st.setQuotaLimits('p1', { instances: 10, cores: 20 });
      await st.setQuotaLimits('p1', { cores: 30 });
      assert.deepEqual(await st.getQuotaLimits('p1'), { instances: 10, cores: 30 });
      assert.deepEqual(await st.getQuotaLimits('p2'), {});
    });

    it('metadata and tags: every write shows in list pages and shows, in byte order', async (_, st) => {
      const a = await st.createServer(newServer({ name: 'a', metadata: { b: '2', a: '1', B: 'x' }, tags: ['y', 'x', 'X'] }));
      const b = await st.createServer(newServer({ name: 'b' }));
      const view = async (id: string) => {
        const listed = (await st.listServers({})).find((s) => s.id === id)!;
        const shown = (await st.getServer(id))!;
        assert.deepEqual([listed.metadata, listed.tags], [shown.metadata, shown.tags]);
        return { md: listed.metadata, tags: listed.tags };
      };
      assert.deepEqual(await view(a.id), { md: { B: 'x', a: '1', b: '2' }, tags: ['X', 'x', 'y'] });
      assert.deepEqual(Object.keys((await view(a.id)).md), ['B', 'a', 'b']);
      assert.deepEqual(await st.setServerMetadata(a.id, { c: '3', b: 'two' }, false), { B: 'x', a: '1', b: 'two', c: '3' });
      assert.equal(await st.deleteServerMetadataKey(a.id, 'a'), true);
      assert.equal(await st.deleteServerMetadataKey(a.id, 'nope'), false);
      await st.addServerTag(a.id, 'z');
      await st.addServerTag(a.id, 'z');
      assert.equal(await st.deleteServerTag(a.id, 'x'), true);
      assert.equal(await st.deleteServerTag(a.id, 'x'), false);
      assert.deepEqual(await view(a.id), { md: { B: 'x', b: 'two', c: '3' }, tags: ['X', 'y', 'z'] });
      assert.deepEqual(await st.setServerMetadata(a.id, { only: 'this' }, true), { only: 'this' });
      await st.setServerTags(a.id, ['t1', 't1']);
      assert.deepEqual(await view(a.id), { md: { only: 'this' }, tags: ['t1'] });
      assert.deepEqual(await view(b.id), { md: {}, tags: [] });
    });

    it('viewFieldsOnly lists the same servers, field by field, as a full read (but keyData, requestedNetworks, oldFlavor)', async (_, st) => {
      await st.createServer(newServer({ name: 'plain' }));
      await st.createServer(newServer({
        name: 'rich "quoted" \\ name ü', metadata: { k: 'v', 'ü': '"x"' }, tags: ['b', 'a'], userData: 'I2Nsb3VkLWNvbmZpZw==',
        keyName: 'k1', keyData: 'ssh-ed25519 AAAA k1', description: 'd', locked: true, lockedReason: 'why', lockedBy: 'owner',
        addresses: [{ network: 'private', addr: '10.0.0.5', version: 4, mac: 'fa:16:3e:00:00:05', type: 'fixed' }],
        requestedNetworks: [{ uuid: 'net-1', name: 'private' }], blockDeviceMapping: [{ boot_index: 0, destination_type: 'volume' }],
        oldFlavor: { ...FLAVOR, id: '2', extraSpecs: { a: 'b' } }, taskState: 'rebooting', host: null, node: null,
        availabilityZone: null, launchedAt: new Date().toISOString(),
      }));
      const broken = await st.createServer(newServer({ name: 'broken', vmState: 'error', powerState: 0, fault: { code: 500, message: 'boom', details: 'tb', created: new Date().toISOString() } }));
      await st.updateServer(broken.id, { deleted: true, deletedAt: new Date().toISOString(), terminatedAt: new Date().toISOString() });
      for (const deleted of ['exclude', 'include'] as const) {
        const full = await st.listServers({ deleted });
        const view = await st.listServers({ deleted, viewFieldsOnly: true });
        assert.equal(view.length, deleted === 'include' ? 3 : 2);
        assert.deepEqual(view, full.map((s) => ({ ...s, keyData: null, requestedNetworks: null, oldFlavor: null })));
        for (const s of full) assert.deepEqual(s, await st.getServer(s.id, { includeDeleted: true }));
      }
    });

    it('revision: every write to a server raises it (store writes, metadata, tags, a raw UPDATE); a refused CAS does not', async (f, st) => {
      const a = await st.createServer(newServer({ name: 'a' }));
      const b = await st.createServer(newServer({ name: 'b' }));
      assert.equal(typeof a.revision, 'number');
      const rev = async () => (await st.getServer(a.id, { includeDeleted: true }))!.revision;
      const steps: Array<[string, () => Promise<unknown>, boolean]> = [
        ['updateServer', () => st.updateServer(a.id, { name: 'a2' }), true],
        ['updateServerIf, won', () => st.updateServerIf(a.id, { taskState: null }, { taskState: 'pausing' }), true],
        ['updateServerIf, refused', () => st.updateServerIf(a.id, { taskState: null }, { taskState: 'rebooting' }), false],
        ['setServerMetadata', () => st.setServerMetadata(a.id, { k: 'v' }, false), true],
        ['deleteServerMetadataKey', () => st.deleteServerMetadataKey(a.id, 'k'), true],
        ['addServerTag', () => st.addServerTag(a.id, 't'), true],
        ['deleteServerTag', () => st.deleteServerTag(a.id, 't'), true],
        ['setServerTags', () => st.setServerTags(a.id, ['x']), true],
        ['raw UPDATE', () => f.raw('UPDATE servers SET progress = 7 WHERE id = ?', a.id), true],
        ['markServerDeleted', () => st.markServerDeleted(a.id, new Date().toISOString()), true],
      ];
      for (const [what, write, raises] of steps) {
        const before = await rev();
        await write();
        const after = await rev();
        if (raises) assert.ok(after > before, what); else assert.equal(after, before, what);
      }
      assert.equal((await st.getServer(b.id))!.revision, b.revision, 'other rows untouched');
      const q = { deleted: 'include' as const, sort: [{ key: 'display_name' as const, dir: 'asc' as const }] };
      assert.deepEqual(await st.listServerRevisions(q), (await st.listServers(q)).map((s) => ({ id: s.id, revision: s.revision })));
      assert.deepEqual((await st.listServers({ ids: [b.id, randomUUID()] })).map((s) => s.name), ['b']);
      assert.deepEqual(await st.listServers({ ids: [] }), []);
    });

    it('instance actions and events: start, finish, by request, fail the open ones', async (_, st) => {
      const s = await st.createServer(newServer());
      const t = (n: number) => new Date(Date.parse('2026-01-01T00:00:00Z') + n * 1000).toISOString();
      const a1 = await st.createInstanceAction({ serverId: s.id, action: 'create', requestId: 'req-1', userId: 'u1', projectId: 'p1', startTime: t(1), message: null });
      const a2 = await st.createInstanceAction({ serverId: s.id, action: 'reboot', requestId: 'req-2', userId: 'u1', projectId: 'p1', startTime: t(2), message: null });
      assert.ok(a2.id > a1.id);
      const e1 = await st.startActionEvent(a1.id, 'compute__do_build_and_run_instance', t(3), 'h1');
      await st.finishActionEvent(e1.id, t(4), 'Success', null);
      await st.finishInstanceAction(a1.id, t(4), null);
      const e2 = await st.startActionEvent(a2.id, 'compute_reboot_instance', t(5), null);
      assert.deepEqual((await st.listInstanceActions(s.id)).map((a) => a.requestId), ['req-2', 'req-1']);
      const got = (await st.getInstanceActionByRequest(s.id, 'req-1'))!;
      assert.deepEqual([got.id, got.finishTime, got.updatedAt], [a1.id, t(4), t(4)]);
      assert.equal(await st.getInstanceActionByRequest(s.id, 'nope'), null);
      assert.deepEqual(await st.listActionEvents(a1.id), [{ ...e1, finishTime: t(4), result: 'Success' }]);
      assert.equal(await st.failOpenActions(s.id, t(6), 'controller restarted'), 1);
      assert.deepEqual((await st.listActionEvents(a2.id))[0], { ...e2, finishTime: t(6), result: 'Error', traceback: 'controller restarted' });
      assert.equal((await st.getInstanceActionByRequest(s.id, 'req-2'))!.message, 'controller restarted');
      assert.equal(await st.failOpenActions(s.id, t(7), 'again'), 0);
    });

    it('hosts: upsert keeps admin fields, update, list in creation order', async (_, st) => {
      const h = (name: string, createdAt: string) => ({ name, serviceId: `svc-${name}`, hypervisorId: `hv-${name}`, disabled: false, disabledReason: null, forcedDown: false, lastSeenAt: createdAt, vcpus: 8, memoryMb: 16384, diskGb: 100, hypervisorType: 'QEMU', hypervisorVersion: 8_002_000, hostIp: '127.0.0.1', createdAt, updatedAt: createdAt });
      await st.upsertHost(h('b', '2026-01-01T00:00:01.000Z'));
      await st.upsertHost(h('a', '2026-01-01T00:00:02.000Z'));
      assert.equal(await st.updateHost('b', { disabled: true, disabledReason: 'maintenance' }), true);
      assert.equal(await st.updateHost('nope', { disabled: true }), false);
      await st.upsertHost({ ...h('b', '2026-01-01T00:00:09.000Z'), vcpus: 16 });
      const b = (await st.getHost('b'))!;
      assert.deepEqual([b.disabled, b.disabledReason, b.vcpus, b.createdAt, b.lastSeenAt, b.hypervisorVersion], [true, 'maintenance', 16, '2026-01-01T00:00:01.000Z', '2026-01-01T00:00:09.000Z', 8_002_000]);
      assert.deepEqual((await st.listHosts()).map((x) => x.name), ['b', 'a']);
      assert.equal(await st.getHost('nope'), null);
    });

    it('fixed IPs: first free candidate, idempotent per server and mac, 20 racing servers get 20 different addresses', async (_, st) => {
      const cands = Array.from({ length: 30 }, (_, i) => `10.0.0.${i + 2}`);
      assert.equal(await st.allocateFixedIp('net', 's1', 'm1', cands), '10.0.0.2');
      assert.equal(await st.allocateFixedIp('net', 's1', 'm1', cands), '10.0.0.2');
      assert.equal(await st.allocateFixedIp('net', 's1', 'm2', cands), '10.0.0.3');
      assert.equal(await st.allocateFixedIp('other', 's2', 'm1', cands), '10.0.0.2');
      const got = await Promise.all(Array.from({ length: 20 }, (_, i) => st.allocateFixedIp('net', `r${i}`, 'm', cands)));
      assert.equal(new Set(got).size, 20);
      assert.equal(await st.allocateFixedIp('net', 'full', 'm', ['10.0.0.2']), null);
      assert.deepEqual((await st.listFixedIps('s1')).map((x) => x.address), ['10.0.0.2', '10.0.0.3']);
      assert.equal(await st.releaseFixedIps('s1'), 2);
      assert.deepEqual(await st.listFixedIps('s1'), []);
    });

    it('claims: 30 racing claims on one host fill exactly its room; move, resize, release', async (_, st) => {
      const limits = { vcpus: 8, memoryMb: 100_000, diskGb: 1000 };
      const ids = Array.from({ length: 30 }, () => randomUUID());
      const won = await Promise.all(ids.map((id) => st.claimHost(id, 'hx', { vcpus: 1, memoryMb: 512, diskGb: 1 }, limits)));
      assert.equal(won.filter(Boolean).length, 8);
      assert.deepEqual(await st.getHostUsage('hx'), { instances: 8, vcpus: 8, memoryMb: 4096, diskGb: 8 });
      const winner = ids[won.indexOf(true)]!;
      assert.equal(await st.claimHost(winner, 'hx', { vcpus: 1, memoryMb: 512, diskGb: 1 }, limits), true, 'idempotent');
      assert.equal((await st.getHostUsage('hx')).instances, 8);
      assert.equal(await st.resizeClaim(winner, { vcpus: 2, memoryMb: 512, diskGb: 1 }, limits), false, 'no room to grow');
      assert.equal(await st.resizeClaim(winner, { vcpus: 1, memoryMb: 256, diskGb: 1 }, limits), true, 'shrinking always fits');
      assert.equal(await st.claimHost(winner, 'hy', { vcpus: 1, memoryMb: 256, diskGb: 1 }, null), true, 'moves');
      assert.deepEqual(await st.getAllocation(winner), { host: 'hy', vcpus: 1, memoryMb: 256, diskGb: 1 });
      assert.deepEqual(await st.getHostUsage('hx'), { instances: 7, vcpus: 7, memoryMb: 3584, diskGb: 7 });
      await st.releaseClaim(winner);
      await st.releaseClaim(winner);
      assert.equal(await st.getAllocation(winner), null);
      assert.deepEqual(await st.getHostUsage('hy'), { instances: 0, vcpus: 0, memoryMb: 0, diskGb: 0 });
      assert.deepEqual(await st.getHostUsage('never'), { instances: 0, vcpus: 0, memoryMb: 0, diskGb: 0 });
      assert.deepEqual([...(await st.listHostUsage()).keys()].sort(), ['hx', 'hy']);
      assert.equal(await st.resizeClaim(randomUUID(), { vcpus: 1, memoryMb: 1, diskGb: 1 }, null), false);
      // a claim records the host on the server
      const s = await st.createServer(newServer({ host: null, node: null }));
      assert.equal(await st.claimHost(s.id, 'hz', { vcpus: 1, memoryMb: 1, diskGb: 1 }, null), true);
      assert.deepEqual([(await st.getServer(s.id))!.host, (await st.getServer(s.id))!.node], ['hz', 'hz']);
    });

    it('aggregates: unique names, hosts in order, metadata replaced, delete only when empty; the requested zone kept', async (_, st) => {
      const t = '2026-01-01T00:00:00.000Z';
      const a = (await st.createAggregate({ uuid: 'u-a', name: 'a1', metadata: { availability_zone: 'az1' }, createdAt: t }))!;
      assert.deepEqual(a, { id: a.id, uuid: 'u-a', name: 'a1', metadata: { availability_zone: 'az1' }, hosts: [], createdAt: t, updatedAt: null });
      assert.equal(await st.createAggregate({ uuid: 'u-b', name: 'a1', metadata: {}, createdAt: t }), null, 'a name is unique');
      const b = (await st.createAggregate({ uuid: 'u-b', name: 'b1', metadata: {}, createdAt: t }))!;
      assert.ok(b.id > a.id);
      assert.equal(await st.addAggregateHost(a.id, 'h2', t), true);
      assert.equal(await st.addAggregateHost(a.id, 'h1', t), true);
      assert.equal(await st.addAggregateHost(a.id, 'h1', t), false, 'already in it');
      assert.equal(await st.addAggregateHost(999_999, 'h1', t), false, 'no such aggregate');
      assert.deepEqual((await st.getAggregate(a.id))!.hosts, ['h2', 'h1']);
      assert.equal((await st.getAggregate(a.id))!.updatedAt, t);
      assert.equal(await st.updateAggregate(b.id, { name: 'a1' }, t), 'name_taken');
      assert.equal(await st.updateAggregate(999_999, { name: 'z' }, t), 'not_found');
      assert.equal(await st.updateAggregate(b.id, { name: 'b2', metadata: { k: 'v' } }, t), 'ok');
      assert.deepEqual(await st.getAggregate(b.id), { ...b, name: 'b2', metadata: { k: 'v' }, updatedAt: t });
      assert.deepEqual((await st.listAggregates()).map((x) => [x.name, x.hosts]), [['a1', ['h2', 'h1']], ['b2', []]]);
      assert.equal(await st.deleteAggregate(a.id), false, 'hosts remain');
      assert.equal(await st.removeAggregateHost(a.id, 'h1', t), true);
      assert.equal(await st.removeAggregateHost(a.id, 'h1', t), false);
      assert.equal(await st.removeAggregateHost(a.id, 'h2', t), true);
      assert.equal(await st.deleteAggregate(a.id), true);
      assert.equal(await st.getAggregate(a.id), null);
      const s = await st.createServer(newServer({ requestedZone: 'az1' }));
      assert.equal((await st.getServer(s.id))!.requestedZone, 'az1');
      const s2 = await st.createServer(newServer());
      assert.equal((await st.getServer(s2.id))!.requestedZone, null);
    });

    it('server groups: members, hosts, and a rule that holds when members race', async (_, st) => {
      const g = { id: 'g1', name: 'anti', projectId: 'p1', userId: 'u1', policy: 'anti-affinity' as const, rules: { max_server_per_host: 2 }, createdAt: '2026-01-01T00:00:00.000Z' };
      await st.createServerGroup(g);
      await st.createServerGroup({ ...g, id: 'g2', name: 'aff', policy: 'affinity', rules: {}, projectId: 'p2', createdAt: '2026-01-01T00:00:01.000Z' });
      assert.deepEqual(await st.getServerGroup('g1'), g);
      assert.deepEqual((await st.listServerGroups(null)).map((x) => x.id), ['g1', 'g2']);
      assert.deepEqual((await st.listServerGroups('p2')).map((x) => x.id), ['g2']);
      assert.equal(await st.countServerGroups('p1'), 1);
      const members = await Promise.all(Array.from({ length: 6 }, async (_, i) => {
        const s = await st.createServer(newServer({ name: `m${i}`, host: null, node: null, createdAt: new Date(Date.parse('2026-01-01T00:00:00Z') + i).toISOString() }));
        await st.addServerGroupMember('g1', s.id);
        await st.addServerGroupMember('g1', s.id);
        return s.id;
      }));
      assert.equal((await st.listServerGroupMembers('g1')).length, 6);
      const rule = { groupId: 'g1', policy: 'anti-affinity' as const, maxPerHost: 2 };
      const won = await Promise.all(members.map((id) => st.claimHost(id, 'h1', { vcpus: 1, memoryMb: 1, diskGb: 1 }, null, rule)));
      assert.equal(won.filter(Boolean).length, 2, 'at most 2 members on one host even when they race');
      assert.deepEqual(await st.serverGroupHosts('g1'), new Map([['h1', 2]]));
      const placed = members.filter((_, i) => won[i]);
      assert.deepEqual(await st.serverGroupHosts('g1', placed[0]), new Map([['h1', 1]]));
      assert.deepEqual(await st.serverGroupsOf(members[0]!), ['g1']);
      await st.markServerDeleted(placed[0]!, new Date().toISOString());
      assert.equal((await st.listServerGroupMembers('g1')).length, 5);
      assert.equal(await st.deleteServerGroup('g1'), true);
      assert.equal(await st.deleteServerGroup('g1'), false);
      assert.deepEqual(await st.serverGroupsOf(members[1]!), []);
    });

    it('cluster leases: of racing controllers one holds it; renew, run out, release', async (_, st) => {
      const t = 1_000_000;
      const got = await Promise.all(['c1', 'c2', 'c3', 'c4', 'c5'].map((c) => st.takeClusterLease('reclaim', c, t + 3000, t)));
      assert.equal(got.filter(Boolean).length, 1);
      const holder = ['c1', 'c2', 'c3', 'c4', 'c5'][got.indexOf(true)]!;
      const other = holder === 'c1' ? 'c2' : 'c1';
      assert.equal(await st.takeClusterLease('reclaim', holder, t + 5000, t + 2000), true, 'the holder renews');
      assert.equal(await st.takeClusterLease('reclaim', other, t + 9000, t + 4000), false, 'renewed: still held at t+4000');
      assert.equal(await st.takeClusterLease('other-duty', other, t + 3000, t), true, 'leases are per name');
      assert.equal(await st.takeClusterLease('reclaim', other, t + 9000, t + 5001), true, 'ran out: taken over');
      assert.equal(await st.takeClusterLease('reclaim', holder, t + 9000, t + 5002), false);
      await st.releaseClusterLease('reclaim', holder);
      assert.equal(await st.takeClusterLease('reclaim', holder, t + 9000, t + 5003), false, 'only the holder releases');
      await st.releaseClusterLease('reclaim', other);
      assert.equal(await st.takeClusterLease('reclaim', holder, t + 9000, t + 5004), true, 'released: free at once');
      // membership: the live leases under a prefix (a `%` or `_` in it is not a wildcard)
      await st.takeClusterLease('member:c1', 'c1', t + 1000, t);
      await st.takeClusterLease('member:c2', 'c2', t + 3000, t);
      await st.takeClusterLease('memberXc3', 'c3', t + 3000, t);
      assert.deepEqual((await st.listClusterLeases('member:', t + 2000)).map((l) => [l.name, l.holder, l.leaseUntil]), [['member:c2', 'c2', t + 3000]]);
      assert.deepEqual((await st.listClusterLeases('member:', t)).map((l) => l.holder), ['c1', 'c2']);
      assert.deepEqual(await st.listClusterLeases('member_', t), []);
    });

    it('tasks: begin is one transaction with the CAS, checkpoints and finish need the owner, one takeover wins', async (_, st) => {
      const s = await st.createServer(newServer());
      const b = begin(s.id);
      const t = (await st.beginTask(b))!;
      assert.deepEqual([t.kind, t.step, t.params, t.data, t.owner, t.attempts, t.cancelled], ['pause', 0, { a: 1 }, {}, 'c1', 1, false]);
      assert.equal((await st.getServer(s.id))!.taskState, 'pausing');
      assert.equal((await st.getInstanceActionByRequest(s.id, b.action.requestId))!.id, t.actionId);
      assert.equal((await st.listActionEvents(t.actionId))[0]!.id, t.eventId);
      assert.equal(await st.beginTask(begin(s.id)), null, 'the CAS lost: no task, no action');
      assert.equal((await st.listInstanceActions(s.id)).length, 1);
      assert.equal(await st.checkpointTask(t.id, 'c1', 1, { host: 'h1' }), true);
      assert.equal(await st.checkpointTask(t.id, 'c2', 2, {}), false);
      assert.deepEqual([(await st.getTask(t.id))!.step, (await st.getTask(t.id))!.data], [1, { host: 'h1' }]);
      assert.equal(await st.renewTaskLeases('c1', 1), 1);
      // the lease ran out: three controllers race to take it over, one wins
      const taken = await Promise.all(['c2', 'c3', 'c4'].map((c) => st.takeOverTask(t.id, c, Date.now() + 30_000, Date.now())));
      const winner = taken.find((x) => x !== null)!;
      assert.equal(taken.filter((x) => x !== null).length, 1);
      assert.equal(winner.attempts, 2);
      assert.equal(await st.takeOverTask(t.id, 'c1', Date.now() + 30_000, Date.now()), null, 'a live lease is not taken');
      assert.deepEqual(await st.finishTask({ taskId: t.id, serverId: s.id, expectTaskState: 'pausing', changes: { taskState: null, vmState: 'paused' }, eventId: t.eventId, actionId: t.actionId, result: 'Success', detail: null, message: null }, 'c1'), { owned: false, won: false });
      assert.deepEqual(await st.finishTask({ taskId: t.id, serverId: s.id, expectTaskState: 'pausing', changes: { taskState: null, vmState: 'paused' }, eventId: t.eventId, actionId: t.actionId, result: 'Success', detail: null, message: null }, winner.owner), { owned: true, won: true });
      assert.equal((await st.getServer(s.id))!.status, 'PAUSED');
      assert.equal(await st.getTask(t.id), null);
      assert.equal((await st.listActionEvents(t.actionId))[0]!.result, 'Success');
      assert.ok((await st.getInstanceActionByRequest(s.id, b.action.requestId))!.finishTime);
    });

    it('tasks: a create inserts the server; a delete finishes with claim and addresses freed; lists and cancel', async (_, st) => {
      const ns = newServer({ taskState: 'scheduling', vmState: 'building', host: null, node: null });
      const create = (await st.beginTask(begin(ns.id, { newServer: ns, task: { id: randomUUID(), kind: 'create', params: {}, owner: 'c1', leaseUntil: 1 } })))!;
      assert.equal((await st.getServer(ns.id))!.status, 'BUILD');
      await st.claimHost(ns.id, 'h1', { vcpus: 1, memoryMb: 1, diskGb: 1 }, null);
      await st.allocateFixedIp('net', ns.id, 'm', ['10.0.0.2']);
      const del = (await st.beginTask(begin(ns.id, { expect: {}, changes: { taskState: 'deleting' }, task: { id: randomUUID(), kind: 'delete', params: {}, owner: 'c2', leaseUntil: Date.now() + 60_000 } })))!;
      assert.deepEqual((await st.listServerTasks(ns.id)).map((x) => x.kind), ['create', 'delete']);
      assert.equal(await st.cancelOtherTasks(ns.id, del.id), 1);
      assert.equal((await st.getTask(create.id))!.cancelled, true);
      assert.equal((await st.getTask(del.id))!.cancelled, false);
      // adoptable: the create's lease ran out; c2's own delete is listed for c2 only
      assert.deepEqual((await st.listAdoptableTasks('c9', Date.now(), 10)).map((x) => x.id), [create.id]);
      assert.deepEqual((await st.listAdoptableTasks('c2', Date.now(), 10)).map((x) => x.id).sort(), [create.id, del.id].sort());
      const first = (await st.listAdoptableTasks('c2', Date.now(), 1))[0]!;
      assert.equal((await st.listAdoptableTasks('c2', Date.now(), 10, { createdAt: first.createdAt, id: first.id })).length, 1);
      const r = await st.finishTask({ taskId: del.id, serverId: ns.id, expectTaskState: 'deleting', changes: {}, deleteServer: true, eventId: del.eventId, actionId: del.actionId, result: 'Success', detail: null, message: null }, 'c2');
      assert.deepEqual(r, { owned: true, won: true });
      assert.equal(await st.getServer(ns.id), null);
      assert.equal(await st.getAllocation(ns.id), null);
      assert.deepEqual(await st.listFixedIps(ns.id), []);
      assert.equal((await st.getHostUsage('h1')).instances, 0);
      // the create ends after the delete won: owned, but the server moved on
      assert.deepEqual(await st.finishTask({ taskId: create.id, serverId: ns.id, expectTaskState: 'scheduling', changes: { vmState: 'active', taskState: null }, releaseClaim: true, eventId: create.eventId, actionId: create.actionId, result: 'Error', detail: 'cancelled', message: 'Error' }, 'c1'), { owned: true, won: false });
      assert.equal((await st.getServer(ns.id, { includeDeleted: true }))!.status, 'DELETED');
    });

    it('volumes: status CAS, one of racing reservations wins, removing the attachment frees the volume, usage', async (_, st) => {
      const t = new Date().toISOString();
      await st.createVolumeType({ id: 'vt', name: '__DEFAULT__', description: null, isPublic: true, extraSpecs: { volume_backend_name: 'file' }, createdAt: t });
      assert.equal((await st.getVolumeType('__DEFAULT__'))!.extraSpecs.volume_backend_name, 'file');
      const vol = { id: 'v1', projectId: 'p', userId: 'u', name: 'a', description: null, size: 2, status: 'creating' as const, volumeTypeId: 'vt',
        availabilityZone: 'nova', bootable: false, sourceVolid: null, snapshotId: null, imageId: null, backend: 'file', location: null,
        format: 'qcow2', metadata: { k: 'v' }, createdAt: t, updatedAt: t };
      await st.createVolume(vol);
      assert.equal(await st.updateVolume('v1', { status: 'available' }, ['available']), null);
      assert.equal((await st.updateVolume('v1', { status: 'available', location: '/x' }, ['creating']))!.location, '/x');
      const att = (id: string, serverId: string) => ({ id, volumeId: 'v1', serverId, projectId: 'p', status: 'reserved' as const, device: '/dev/vdb',
        hostName: null, tag: null, deleteOnTermination: true, attachMode: 'rw' as const, createdAt: t, attachedAt: null });
      const wins = await Promise.all([st.reserveVolume(att('a1', 's1'), ['available']), st.reserveVolume(att('a2', 's2'), ['available'])]);
      assert.deepEqual(wins.filter(Boolean).length, 1);
      const [a] = await st.listAttachments({ volumeId: 'v1' });
      assert.equal(a!.deleteOnTermination, true);
      assert.equal((await st.getVolume('v1'))!.status, 'reserved');
      assert.equal((await st.updateAttachment(a!.id, { status: 'attached' }, ['reserved'], 'in-use'))!.status, 'attached');
      assert.equal((await st.getVolume('v1'))!.status, 'in-use');
      assert.equal(await st.updateAttachment(a!.id, { status: 'attached' }, ['reserved']), null);
      assert.equal(await st.removeAttachment(a!.id), true);
      assert.equal(await st.removeAttachment(a!.id), false);
      assert.equal((await st.getVolume('v1'))!.status, 'available');
      await st.createSnapshot({ id: 's', projectId: 'p', userId: 'u', volumeId: 'v1', name: null, description: null, size: 2, status: 'creating', location: null, metadata: {}, createdAt: t, updatedAt: t });
      assert.deepEqual(await st.volumeUsage('p'), { volumes: 1, gigabytes: 4, snapshots: 1 });
      assert.equal(await st.countVolumesOfType('vt'), 1);
      assert.equal((await st.listVolumes({ projectId: 'p', status: 'available' })).length, 1);
      assert.equal(await st.deleteSnapshot('s'), true);
      assert.equal(await st.deleteVolume('v1'), true);
      assert.deepEqual(await st.volumeUsage('p'), { volumes: 0, gigabytes: 0, snapshots: 0 });
    });

    it('networks: VNIs unique under a race and reused after a delete; subnets; delete refused while ports exist', async (_, st) => {
      const made = await Promise.all(Array.from({ length: 6 }, (_, i) => st.createNetwork(newNetwork(`n${i}`, { createdAt: at(i) }), true)));
      assert.deepEqual(made.map((n) => n.vni).sort(), [1001, 1002, 1003, 1004, 1005, 1006], 'racing creates never share a VNI');
      const flat = await st.createNetwork(newNetwork('flat', { networkType: 'flat', physicalNetwork: 'physnet1', createdAt: at(10) }), false);
      assert.deepEqual([flat.vni, flat.physicalNetwork, flat.revision, flat.shared, flat.portSecurityEnabled], [null, 'physnet1', 1, false, true]);
      assert.deepEqual((await st.listNetworks()).map((n) => n.id), ['n0', 'n1', 'n2', 'n3', 'n4', 'n5', 'flat']);
      const up = (await st.updateNetwork('n0', { name: 'renamed', shared: true, mtu: 1400 }))!;
      assert.deepEqual([up.name, up.shared, up.mtu, up.revision], ['renamed', true, 1400, 2]);
      assert.equal(await st.updateNetwork('nope', { name: 'x' }), null);
      const freed = made.find((n) => n.id === 'n2')!.vni;
      assert.equal(await st.deleteNetwork('n2'), 'deleted');
      assert.equal(await st.deleteNetwork('n2'), 'not_found');
      assert.equal((await st.createNetwork(newNetwork('n9', { createdAt: at(20) }), true)).vni, freed, 'a deleted network\'s VNI is reused');

      const sub = await st.createSubnet(newSubnet('s1', 'n0', { dnsNameservers: ['10.0.0.53'], hostRoutes: [{ destination: '10.9.0.0/16', nexthop: '10.1.0.9' }] }));
      assert.deepEqual([sub.cidr, sub.ipVersion, sub.enableDhcp, sub.allocationPools, sub.dnsNameservers, sub.revision],
        ['10.1.0.0/24', 4, true, [{ start: '10.1.0.2', end: '10.1.0.254' }], ['10.0.0.53'], 1]);
      await st.createSubnet(newSubnet('s2', 'n1', { cidr: '10.2.0.0/24', createdAt: at(1) }));
      assert.deepEqual((await st.listSubnets()).map((x) => x.id), ['s1', 's2']);
      assert.deepEqual((await st.listSubnets('n1')).map((x) => x.id), ['s2']);
      const su = (await st.updateSubnet('s1', { gatewayIp: null, enableDhcp: false, allocationPools: [{ start: '10.1.0.10', end: '10.1.0.20' }] }))!;
      assert.deepEqual([su.gatewayIp, su.enableDhcp, su.allocationPools, su.revision], [null, false, [{ start: '10.1.0.10', end: '10.1.0.20' }], 2]);
      assert.equal(await st.updateSubnet('nope', { name: 'x' }), null);

      assert.ok('ports' in await st.createPorts([newPort('p01', 'n0', [pool('s1')])]));
      assert.equal(await st.deleteSubnet('s1'), 'in_use', 'a port holds an address of it');
      assert.equal(await st.deleteNetwork('n0'), 'in_use', 'refused while ports exist');
      assert.ok(await st.getNetwork('n0'));
      assert.equal(await st.deletePort('p01'), true);
      assert.equal(await st.deletePort('p01'), false);
      assert.equal(await st.deleteSubnet('s1'), 'deleted');
      assert.equal(await st.deleteSubnet('s1'), 'not_found');
      assert.equal(await st.deleteNetwork('n1'), 'deleted', 'with its subnets');
      assert.equal(await st.getSubnet('s2'), null);
      assert.equal(await st.getNetwork('n1'), null);
    });

    it('ports: racing creates never share an address or a MAC; fixed IPs, conflicts, update, bind, list', async (_, st) => {
      await st.createNetwork(newNetwork('n1'), true);
      await st.createSubnet(newSubnet('s1', 'n1'));
      await st.createSubnet(newSubnet('s6', 'n1', { cidr: 'fd00::/64', ipVersion: 6, gatewayIp: null, allocationPools: [], createdAt: at(1) }));
      // 12 creates at once, each asking for the first free address: 12 different addresses
      const raced = await Promise.all(Array.from({ length: 12 }, (_, i) => st.createPorts([newPort(`r${String(i).padStart(2, '0')}`, 'n1', [pool('s1')], { createdAt: at(i) })])));
      const addrs = raced.map((r) => ('ports' in r ? r.ports[0]!.fixedIps[0]!.address : `conflict ${JSON.stringify(r.conflict)}`));
      assert.equal(new Set(addrs).size, 12, `distinct addresses: ${addrs.join(' ')}`);
      assert.deepEqual([...addrs].sort(), Array.from({ length: 12 }, (_, i) => `10.1.0.${i + 2}`).sort());
      assert.equal(await st.countSubnetIps('s1'), 12);
      // the same MAC (and the same fixed address) asked for at once: one wins, the others are told why
      const sameMac = await Promise.all(Array.from({ length: 5 }, (_, i) => st.createPorts([newPort(`m${i}`, 'n1', [pool('s1')], { macAddress: 'fa:16:3e:aa:aa:aa' })])));
      assert.equal(sameMac.filter((r) => 'ports' in r).length, 1);
      for (const r of sameMac.filter((x) => 'conflict' in x)) assert.deepEqual(r, { conflict: { kind: 'mac_in_use', mac: 'fa:16:3e:aa:aa:aa' } });
      const sameIp = await Promise.all(Array.from({ length: 5 }, (_, i) => st.createPorts([newPort(`i${i}`, 'n1', [{ subnetId: 's1', address: '10.1.0.100' }])])));
      assert.equal(sameIp.filter((r) => 'ports' in r).length, 1);
      for (const r of sameIp.filter((x) => 'conflict' in x)) assert.deepEqual(r, { conflict: { kind: 'ip_in_use', subnetId: 's1', address: '10.1.0.100' } });
      assert.equal(await st.countSubnetIps('s1'), 14);

      // two addresses on one port, kept in the order asked for; all or nothing
      const two = await st.createPorts([newPort('d01', 'n1', [{ subnetId: 's6', address: 'fd00::5' }, { subnetId: 's1', address: '10.1.0.50' }],
        { securityGroups: ['sg1'], deleteWithDevice: true, createdAt: at(100) })]);
      assert.ok('ports' in two);
      const d = two.ports[0]!;
      assert.deepEqual(d.fixedIps, [{ subnetId: 's6', address: 'fd00::5' }, { subnetId: 's1', address: '10.1.0.50' }]);
      assert.deepEqual([d.securityGroups, d.deleteWithDevice, d.adminStateUp, d.revision], [['sg1'], true, true, 1]);
      assert.deepEqual(await st.getPort('d01'), d);
      const none = await st.createPorts([newPort('x01', 'n1', [pool('s1')]), newPort('x02', 'n1', [{ subnetId: 's1', address: '10.1.0.50' }])]);
      assert.deepEqual(none, { conflict: { kind: 'ip_in_use', subnetId: 's1', address: '10.1.0.50' } });
      assert.equal(await st.getPort('x01'), null, 'a conflict changes nothing');
      assert.deepEqual(await st.createPorts([newPort('x03', 'n1', [pool('s1', 13)])]), { conflict: { kind: 'exhausted', subnetId: 's1' } });

      // update: fields, MAC uniqueness, addresses replaced (a kept one stays held)
      const u = await st.updatePort('d01', { name: 'eth0', adminStateUp: false, securityGroups: [] }, [{ subnetId: 's1', address: '10.1.0.50' }, pool('s1')]);
      assert.ok('ports' in u);
      assert.deepEqual([u.ports[0]!.name, u.ports[0]!.adminStateUp, u.ports[0]!.securityGroups, u.ports[0]!.revision], ['eth0', false, [], 2]);
      assert.deepEqual(u.ports[0]!.fixedIps, [{ subnetId: 's1', address: '10.1.0.50' }, { subnetId: 's1', address: '10.1.0.15' }]);
      assert.deepEqual(await st.updatePort('d01', { macAddress: 'fa:16:3e:aa:aa:aa' }), { conflict: { kind: 'mac_in_use', mac: 'fa:16:3e:aa:aa:aa' } });
      assert.deepEqual(await st.updatePort('nope', { name: 'x' }), { conflict: { kind: 'not_found', portId: 'nope' } });
      assert.equal((await st.getPort('d01'))!.name, 'eth0', 'a refused update changes nothing');

      // bind: a compare-and-swap on an unbound port
      const bind = { portId: 'r00', deviceId: 'srv-1', deviceOwner: 'compute:nova', hostId: 'h1' };
      const bound = await st.createPorts([], [bind]);
      assert.ok('ports' in bound);
      assert.deepEqual([bound.ports[0]!.deviceId, bound.ports[0]!.hostId], ['srv-1', 'h1']);
      assert.ok('ports' in await st.createPorts([], [bind]), 'the same server binds again');
      assert.deepEqual(await st.createPorts([], [{ ...bind, deviceId: 'srv-2' }]), { conflict: { kind: 'port_in_use', portId: 'r00', deviceId: 'srv-1' } });
      assert.deepEqual(await st.createPorts([], [{ ...bind, portId: 'nope' }]), { conflict: { kind: 'not_found', portId: 'nope' } });

      assert.deepEqual((await st.listPorts({ deviceId: 'srv-1' })).map((p) => p.id), ['r00']);
      assert.deepEqual((await st.listPorts({ hostId: 'h1', networkId: 'n1', projectId: 'p1' })).map((p) => p.id), ['r00']);
      assert.deepEqual((await st.listPorts({ ids: ['d01', 'r01', 'nope'] })).map((p) => [p.id, p.fixedIps.length]), [['r01', 1], ['d01', 2]]);
      assert.deepEqual(await st.listPorts({ ids: [] }), []);
      assert.equal((await st.listPorts()).length, 15);
    });

    it('ports: a deleted server\'s ports are released when its delete task finishes; seeded networks adopt fixed IPs', async (_, st) => {
      await st.createNetwork(newNetwork('n1'), true);
      await st.createSubnet(newSubnet('s1', 'n1'));
      const s = await st.createServer(newServer());
      const mine = newPort('a01', 'n1', [pool('s1')], { deviceId: s.id, deviceOwner: 'compute:nova', hostId: 'h1', deleteWithDevice: true });
      const users = newPort('a02', 'n1', [pool('s1')], { createdAt: at(1) });
      assert.ok('ports' in await st.createPorts([mine, users], [{ portId: 'a02', deviceId: s.id, deviceOwner: 'compute:nova', hostId: 'h1' }]));
      assert.equal(await st.countSubnetIps('s1'), 2);
      const del = (await st.beginTask(begin(s.id, { expect: {}, changes: { taskState: 'deleting' }, task: { id: randomUUID(), kind: 'delete', params: {}, owner: 'c1', leaseUntil: Date.now() + 60_000 } })))!;
      assert.deepEqual(await st.finishTask({ taskId: del.id, serverId: s.id, expectTaskState: 'deleting', changes: {}, deleteServer: true, eventId: del.eventId, actionId: del.actionId, result: 'Success', detail: null, message: null }, 'c1'), { owned: true, won: true });
      assert.equal(await st.getPort('a01'), null, 'the port compute created is deleted with the server');
      const kept = (await st.getPort('a02'))!;
      assert.deepEqual([kept.deviceId, kept.deviceOwner, kept.hostId, kept.fixedIps.length, kept.revision], ['', '', '', 1, 3], 'the user\'s port is unbound');
      assert.equal(await st.countSubnetIps('s1'), 1, 'its address is given back');
      // releaseDevicePorts on its own
      assert.ok('ports' in await st.createPorts([newPort('a03', 'n1', [pool('s1')], { deviceId: 'srv-x', deleteWithDevice: true })]));
      await st.releaseDevicePorts('srv-x');
      assert.equal(await st.getPort('a03'), null);

      // seeding: a server's fixed IP from before ports were stored becomes its port, once
      const old = await st.createServer(newServer());
      await st.allocateFixedIp('legacy', old.id, 'fa:16:3e:11:22:33', ['192.168.5.7']);
      const seed = () => st.seedNetwork({ ...newNetwork('legacy', { networkType: 'local', legacyBridge: 'br0' }), vni: null }, newSubnet('legacy-s', 'legacy', { cidr: '192.168.5.0/24' }),
        (server, mac) => `legacy-${server}-${mac}`);
      await Promise.all([seed(), seed()]);
      await seed();
      const ports = await st.listPorts({ networkId: 'legacy' });
      assert.deepEqual(ports.map((p) => [p.id, p.deviceId, p.macAddress, p.fixedIps, p.deleteWithDevice]),
        [[`legacy-${old.id}-fa:16:3e:11:22:33`, old.id, 'fa:16:3e:11:22:33', [{ subnetId: 'legacy-s', address: '192.168.5.7' }], true]]);
      assert.equal((await st.getNetwork('legacy'))!.legacyBridge, 'br0');
    });

    it('security groups: one default group under a race, identical rules refused, delete refused while a port uses it', async (_, st) => {
      const g = (id: string, over = {}) => ({ id, projectId: 'p1', name: 'default', description: 'd', stateful: true, createdAt: T0, updatedAt: T0, ...over });
      const r = (id: string, groupId: string, over: Partial<SecurityGroupRule> = {}): SecurityGroupRule => ({
        id, securityGroupId: groupId, projectId: 'p1', direction: 'ingress', ethertype: 'IPv4', protocol: 'tcp', portRangeMin: 22, portRangeMax: 22,
        remoteIpPrefix: null, remoteGroupId: null, description: '', createdAt: T0, ...over });
      const defaults = await Promise.all(['g1', 'g2', 'g3', 'g4'].map((id) => st.ensureDefaultSecurityGroup(g(id), [r(`${id}-r`, id, { direction: 'egress', protocol: null, portRangeMin: null, portRangeMax: null })])));
      assert.equal(new Set(defaults.map((x) => x.id)).size, 1, 'one default group per project');
      const def = defaults[0]!;
      assert.equal(await st.defaultSecurityGroupOf('p1'), def.id);
      assert.equal(await st.defaultSecurityGroupOf('p2'), null);
      assert.equal((await st.listSecurityGroups()).length, 1);
      assert.deepEqual((await st.listSecurityGroupRules([def.id])).map((x) => x.id), [`${def.id}-r`]);

      const web = await st.createSecurityGroup(g('web', { name: 'web', projectId: 'p2', stateful: false, createdAt: at(1) }), [r('w1', 'web', { projectId: 'p2' })]);
      assert.deepEqual([web.name, web.stateful, web.revision], ['web', false, 1]);
      assert.deepEqual((await st.listSecurityGroups('p2')).map((x) => x.id), ['web']);
      const same = await Promise.all(['w2', 'w3', 'w4'].map((id) => st.createSecurityGroupRule(r(id, 'web', { protocol: 'udp', createdAt: at(2) }))));
      assert.equal(same.filter(Boolean).length, 1, 'identical rules created at once: one is stored');
      assert.equal(await st.createSecurityGroupRule(r('w5', 'web')), false, 'identical to w1');
      assert.equal((await st.getSecurityGroup('web'))!.revision, 2);
      assert.deepEqual((await st.getSecurityGroupRule('w1'))!.portRangeMax, 22);
      assert.equal((await st.listSecurityGroupRules()).length, 3);
      const upd = (await st.updateSecurityGroup('web', { description: 'http', stateful: true }))!;
      assert.deepEqual([upd.description, upd.stateful, upd.revision], ['http', true, 3]);
      assert.equal(await st.updateSecurityGroup('nope', { name: 'x' }), null);

      await st.createNetwork(newNetwork('n1'), false);
      assert.ok('ports' in await st.createPorts([newPort('p01', 'n1', [], { securityGroups: ['web'] })]));
      assert.equal(await st.deleteSecurityGroup('web'), 'in_use');
      assert.equal(await st.deletePort('p01'), true);
      assert.equal(await st.deleteSecurityGroupRule('w1'), true);
      assert.equal(await st.deleteSecurityGroupRule('w1'), false);
      assert.equal(await st.deleteSecurityGroup('web'), 'deleted');
      assert.equal(await st.deleteSecurityGroup('web'), 'not_found');
      assert.deepEqual(await st.listSecurityGroupRules(['web']), []);
      assert.equal(await st.deleteSecurityGroup(def.id), 'deleted');
      assert.equal(await st.defaultSecurityGroupOf('p1'), null);
    });
  });
}

describe('store contract: both schemas', () => {
  test('PostgreSQL has a migration for every SQLite migration (same numbers)', () => {
    assert.equal(PG_MIGRATIONS.length, MIGRATIONS.length, 'add the PostgreSQL version of each new SQLite migration (src/store/README.md)');
  });

  test('every table and column of the SQLite schema is in the PostgreSQL schema', { skip: 'skip' in pgBase ? pgBase.skip : false }, async () => {
    const lite = new SqliteStore(':memory:');
    const pgDb = await freshPostgresDatabase((pgBase as { url: string }).url);
    const pgStore = await PostgresStore.open(pgDb.url);
    try {
      const sqlite = new Set<string>();
      const db = databaseOf(lite);
      for (const t of db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'").all() as Array<{ name: string }>) {
        for (const c of db.prepare(`PRAGMA table_info(${t.name})`).all() as Array<{ name: string }>) sqlite.add(`${t.name}.${c.name}`);
      }
      const rows = (await pgDatabaseOf(pgStore).q.query("SELECT table_name AS t, column_name AS c FROM information_schema.columns WHERE table_schema = 'public' AND table_name != 'schema_migrations'")).rows;
      const postgres = new Set(rows.map((r) => `${r.t as string}.${r.c as string}`));
      assert.deepEqual([...sqlite].sort(), [...postgres].sort());
    } finally {
      await lite.close();
      await pgStore.close();
      await pgDb.drop();
    }
  });
});
