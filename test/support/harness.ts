/**
 * A controller on an in-memory store with fake hosts (test/support/fake-hosts.ts) behind the real task engine,
 * scheduler and IP allocation, bootstrapped with users and reference data, for API tests (no ports: use
 * app.inject). Accounts: admin (admin on project admin), demo (member on
 * demo), other (member on project other), reader (reader on demo).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { openStore, SqliteStore, type Store } from '../../src/store/index.js';
import { buildControllerApp } from '../../src/api/app.js';
import { defaultConfig, type ControllerConfig } from '../../src/controller/config.js';
import { bootstrapIdentity } from '../../src/controller/identity/bootstrap.js';
import { seedFlavors } from '../../src/controller/compute/seed.js';
import { FakeHosts } from './fake-hosts.js';

export const IMAGE_ID = '70a599e0-31e7-49b7-b260-868f441e862b';

export interface Response { statusCode: number; headers: Record<string, unknown>; body: string; json(): any; }

export interface Harness<S extends Store = SqliteStore> {
  app: FastifyInstance;
  store: S;
  /** the fake hosts' transport: calls made, failNext, on */
  driver: FakeHosts;
  cfg: ControllerConfig;
  tokens: { admin: string; demo: string; other: string; reader: string };
  ids: { adminProject: string; demoProject: string; otherProject: string; demoUser: string };
  /** inject a compute/image/identity request as `token`, optionally at a microversion */
  req(token: string | null, method: string, url: string, payload?: unknown, version?: string): Promise<Response>;
  /** create a server as `token` and wait until its build finished; returns its id */
  boot(token: string, name?: string, extra?: Record<string, unknown>): Promise<string>;
  /** wait for every background task to finish */
  idle(): Promise<void>;
  close(): Promise<void>;
}

export async function login(app: FastifyInstance, user: string, password: string, project: string): Promise<string> {
  const r = await app.inject({
    method: 'POST', url: '/identity/v3/auth/tokens',
    payload: { auth: { identity: { methods: ['password'], password: { user: { name: user, domain: { name: 'Default' }, password } } }, scope: { project: { name: project, domain: { name: 'Default' } } } } },
  });
  if (r.statusCode !== 201) throw new Error(`login ${user}: ${r.statusCode} ${r.body}`);
  return r.headers['x-subject-token'] as string;
}

/**
 * `dbPath`: a SQLite file instead of memory; several harnesses on one file are several controllers sharing a
 * database (each its own task owner, scheduler view and connection). `storeUrl`: any store location instead
 * (a postgres:// URL: controllers sharing a PostgreSQL database).
 */
export interface HarnessOptions {
  /** the fake hosts another harness uses (two controllers in front of the same hosts) */
  driver?: FakeHosts;
  /** crash tests: a drive hangs at these steps (tasks/engine.ts) */
  failpoints?: ReadonlyMap<string, 'before' | 'after'>;
}

export async function createHarness(over?: Partial<ControllerConfig>, driverDelayMs?: number, o?: HarnessOptions & { dbPath?: string }): Promise<Harness>;
export async function createHarness(over: Partial<ControllerConfig>, driverDelayMs: number, o: HarnessOptions & { storeUrl: string }): Promise<Harness<Store>>;
export async function createHarness(over: Partial<ControllerConfig> = {}, driverDelayMs = 2, o: HarnessOptions & { dbPath?: string; storeUrl?: string } = {}): Promise<Harness<Store>> {
  const store = o.storeUrl ? await openStore(o.storeUrl) : new SqliteStore(o.dbPath ?? ':memory:');
  // one fake host (as `novalet up`): a resize stays on it unless a test turns this off and adds hosts
  const ownImageDir = over.imageDir === undefined ? mkdtempSync(join(tmpdir(), 'novalet-img-')) : null;
  const cfg = defaultConfig({ ...(ownImageDir ? { imageDir: ownImageDir } : {}), allowResizeToSameHost: true, ...over });
  const driver = o.driver ?? new FakeHosts(driverDelayMs, cfg.imageDir);
  const app = buildControllerApp(cfg, store, driver, { periodic: false, ...(o.failpoints ? { failpoints: o.failpoints } : {}) });
  const identity = app.novalet.identity;
  const b = await bootstrapIdentity(identity, { admin: 'adminpw', demo: 'demopw' });
  const otherProject = await identity.ensureProject('other');
  const other = await identity.ensureUser('other', 'otherpw', { defaultProjectId: otherProject.id });
  await identity.grant(other.id, otherProject.id, 'member');
  const reader = await identity.ensureUser('reader', 'readerpw');
  await identity.grant(reader.id, b.demoProjectId, 'reader');
  await seedFlavors(store);
  const t = new Date().toISOString();
  if (!(await store.getImage(IMAGE_ID))) await store.createImage({
    id: IMAGE_ID, name: 'cirros', status: 'active', visibility: 'public', owner: b.adminProjectId, diskFormat: 'qcow2',
    containerFormat: 'bare', size: 1024, checksum: null, osHashAlgo: null, osHashValue: null, minDisk: 0, minRam: 0,
    protected: false, properties: {}, tags: [], createdAt: t, updatedAt: t,
  });
  // the fake host reports in, as an agent would, and the scheduler sees it
  await app.novalet.compute.hosts.heartbeat('fake-host', { vcpus: 8, memoryMb: 16384, diskGb: 100, hostIp: '127.0.0.1' });
  await app.novalet.compute.placement.refresh();
  await app.ready();
  const tokens = {
    admin: await login(app, 'admin', 'adminpw', 'admin'),
    demo: await login(app, 'demo', 'demopw', 'demo'),
    other: await login(app, 'other', 'otherpw', 'other'),
    reader: await login(app, 'reader', 'readerpw', 'demo'),
  };
  const req: Harness<Store>['req'] = async (token, method, url, payload, version) => {
    const headers: Record<string, string> = {};
    if (token) headers['x-auth-token'] = token;
    if (version) headers['openstack-api-version'] = `compute ${version}`;
    const r = await app.inject({ method: method as 'GET', url, headers, ...(payload !== undefined ? { payload: payload as object } : {}) });
    return r as unknown as Response;
  };
  const boot: Harness<Store>['boot'] = async (token, name = 's1', extra = {}) => {
    const r = await req(token, 'POST', '/compute/v2.1/servers', { server: { name, imageRef: IMAGE_ID, flavorRef: '1', ...extra } });
    if (r.statusCode !== 202) throw new Error(`boot: ${r.statusCode} ${r.body}`);
    await app.novalet.compute.tasks.idle();
    return r.json().server.id as string;
  };
  return {
    app, store, driver, cfg, tokens, req, boot,
    ids: { adminProject: b.adminProjectId, demoProject: b.demoProjectId, otherProject: otherProject.id, demoUser: b.demoUserId },
    idle: () => app.novalet.compute.tasks.idle(),
    close: async () => {
      await app.close();
      await store.close();
      if (ownImageDir) rmSync(ownImageDir, { recursive: true, force: true });
    },
  };
}
