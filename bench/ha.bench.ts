/**
 * Several controllers on one database (issue 16), the same figures for each store in one run: SQLite (one file the
 * controllers share) and PostgreSQL (NOVALET_BENCH_POSTGRES_URL or NOVALET_TEST_POSTGRES_URL, a fresh C-collated
 * database per run; skipped with a note when neither is set). Processes as an operator runs them: `novalet
 * sim-hosts` (NOVALET_BENCH_HOSTS, default 100) and one, then two `novalet controller` on the same store.
 *   - POST /servers, sequential: p50 of the 202
 *   - 100 creates, 50 in flight, to ACTIVE (one controller)
 *   - create throughput to ACTIVE, one controller vs two (the same batch sent round-robin): servers per second
 *   - GET /servers/detail?limit=1000 (admin, all projects) at NOVALET_BENCH_HA_SCALE servers (default 50,000,
 *     --quick 5,000), the rest inserted through the store (bench/lib/populate.ts)
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes, randomUUID } from 'node:crypto';
import pg from 'pg';
import { ADMIN_PW, BENCH_NETWORK, DEMO_PW, login, startSim } from './lib/cluster.js';
import { Api, pool, until } from './lib/http.js';
import { populateServers } from './lib/populate.js';
import { freePort, startNovalet, type Child } from './lib/proc.js';
import type { ResultRow } from './lib/report.js';
import { summarize } from './lib/stats.js';
import { single } from './lib/targets.js';

const C = '/compute/v2.1';

interface Plan { hosts: number; creates: number; throughput: number; scale: number; listSamples: number; seq: number }

function plan(quick: boolean): Plan {
  const env = (k: string, d: number) => Number(process.env[k] ?? d);
  return quick
    ? { hosts: env('NOVALET_BENCH_HOSTS', 50), creates: 30, throughput: 60, scale: env('NOVALET_BENCH_HA_SCALE', 5000), listSamples: 5, seq: 20 }
    : { hosts: env('NOVALET_BENCH_HOSTS', 100), creates: 100, throughput: 200, scale: env('NOVALET_BENCH_HA_SCALE', 50_000), listSamples: 20, seq: 50 };
}

async function freshPostgres(base: string): Promise<{ url: string; drop(): Promise<void> }> {
  const name = `novalet_bench_${randomBytes(5).toString('hex')}`;
  const admin = async (sql: string) => {
    const c = new pg.Client({ connectionString: base });
    await c.connect();
    try { await c.query(sql); } finally { await c.end(); }
  };
  await admin(`CREATE DATABASE ${name} TEMPLATE template0 ENCODING 'UTF8' LC_COLLATE 'C' LC_CTYPE 'C'`);
  const u = new URL(base); u.pathname = `/${name}`;
  return { url: u.toString(), drop: () => admin(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`) };
}

async function startController(dir: string, id: string, secretFile: string, urls: string[], database: string): Promise<{ child: Child; url: string }> {
  const dataDir = join(dir, id);
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  writeFileSync(join(dataDir, 'admin-password'), `${ADMIN_PW}\n`, { mode: 0o600 });
  writeFileSync(join(dataDir, 'demo-password'), `${DEMO_PW}\n`, { mode: 0o600 });
  const port = await freePort();
  const configFile = join(dataDir, 'controller.json');
  writeFileSync(configFile, JSON.stringify({
    agents: urls.map((url) => ({ url })), networks: [BENCH_NETWORK], tokenIssueLimit: { burst: 1, perMinute: 0 },
    database, controllerId: id,
  }));
  const url = `http://127.0.0.1:${port}`;
  const probe = new Api(url);
  const child = await startNovalet(['controller', '--config', configFile, '--data-dir', dataDir, '--listen', `127.0.0.1:${port}`,
    '--secret-file', secretFile, '--log-level', 'warn'], async () => (await probe.request('GET', '/identity/v3')).status === 200);
  probe.close();
  return { child, url };
}

/** every server named `prefix*` ACTIVE (an ERROR fails the bench) */
async function allActive(api: Api, prefix: string, n: number): Promise<boolean> {
  const r = await api.expect(200, 'GET', `${C}/servers/detail?name=${encodeURIComponent(`^${prefix}`)}`);
  const servers = r.body.servers as Array<{ status: string; fault?: { message: string } }>;
  const err = servers.filter((s) => s.status === 'ERROR');
  if (err.length) throw new Error(`${err.length} servers went to ERROR: ${err[0]!.fault?.message ?? ''}`);
  return servers.filter((s) => s.status === 'ACTIVE').length === n;
}

const body = (name: string, imageRef: string) => ({ server: { name, imageRef, flavorRef: '1' } });

/** `n` creates spread round-robin over `apis`, `inFlight` at a time; ms from the first POST until all are ACTIVE */
async function batchToActive(apis: Api[], check: Api, n: number, inFlight: number, imageRef: string): Promise<{ ms: number; postMs: number[] }> {
  const prefix = `b-${randomUUID().slice(0, 8)}-`;
  const t0 = performance.now();
  const postMs = await pool(n, inFlight, async (i) => (await apis[i % apis.length]!.expect(202, 'POST', `${C}/servers`, body(`${prefix}${i}`, imageRef))).ms);
  // polled every 100 ms: the poll's own list costs CPU the controllers share
  await until(() => allActive(check, prefix, n), 600_000, 100);
  return { ms: performance.now() - t0, postMs };
}

async function runStore(label: string, database: string, p: Plan, runs: number): Promise<ResultRow[]> {
  const dir = mkdtempSync(join(process.env['NOVALET_BENCH_TMP'] ?? tmpdir(), 'novalet-bench-ha-'));
  const secretFile = join(dir, 'cluster-secret');
  writeFileSync(secretFile, `bench-secret-${process.pid}-${Date.now()}\n`, { mode: 0o600 });
  const db = database === 'sqlite' ? join(dir, 'shared.db') : database;
  const children: Child[] = [];
  const apis: Api[] = [];
  const rows: ResultRow[] = [];
  const row = (name: string, unit: string, samples: number[], notes?: string): ResultRow => ({ name: `${label}: ${name}`, unit, summary: summarize(samples), ...(notes ? { notes } : {}) });
  try {
    const sim = await startSim(dir, secretFile, p.hosts);
    children.push(sim.child);
    const one = await startController(dir, 'ctl-1', secretFile, sim.urls, db);
    children.push(one.child);
    const api1 = new Api(one.url); apis.push(api1);
    const a = await login(api1, 'admin', ADMIN_PW, 'admin');
    const demoApi = new Api(one.url); apis.push(demoApi);
    const d = await login(demoApi, 'demo', DEMO_PW, 'demo');
    api1.token = a.token;
    for (const pid of [a.projectId, d.projectId]) await api1.expect(200, 'PUT', `${C}/os-quota-sets/${pid}`, { quota_set: { instances: -1, cores: -1, ram: -1 } });
    const img = await api1.expect(201, 'POST', '/image/v2/images', { name: 'bench-image', disk_format: 'qcow2', container_format: 'bare', visibility: 'public' });
    const imageRef = img.body.id as string;
    await api1.expect(204, 'PUT', `/image/v2/images/${imageRef}/file`, Buffer.alloc(4096, 1), { 'content-type': 'application/octet-stream' });
    await until(async () => ((await api1.expect(200, 'GET', `${C}/os-hypervisors`)).body.hypervisors as unknown[]).length >= p.hosts, 120_000, 200);

    // POST latency alone, then a batch to ACTIVE, on one controller
    const seqPrefix = `seq-${randomUUID().slice(0, 8)}-`;
    const seq = await pool(p.seq, 1, async (i) => (await api1.expect(202, 'POST', `${C}/servers`, body(`${seqPrefix}${i}`, imageRef))).ms);
    await until(() => allActive(api1, seqPrefix, p.seq), 300_000, 20);
    rows.push(row('POST /servers, sequential', 'ms', seq, `${p.seq} creates, each sample one request`));
    const batch: number[] = [];
    for (let r = 0; r < Math.min(runs, 3); r++) batch.push((await batchToActive([api1], api1, p.creates, 50, imageRef)).ms);
    rows.push(row(`${p.creates} creates, 50 in flight -> all ACTIVE`, 'ms', batch, `${p.hosts} simulated hosts, one controller`));

    // throughput: one controller vs two on the same store, runs interleaved (one, two, one, two) so that neither
    // gets the emptier database; the second controller warms up on a small batch first
    const two = await startController(dir, 'ctl-2', secretFile, sim.urls, db);
    children.push(two.child);
    const api2 = new Api(two.url); apis.push(api2);
    api2.token = a.token; // one database: a token of one controller is valid on the other
    await until(async () => ((await api2.expect(200, 'GET', `${C}/os-hypervisors`)).body.hypervisors as unknown[]).length >= p.hosts, 120_000, 200);
    await batchToActive([api2], api2, 20, 20, imageRef);
    const tput1: number[] = [];
    const tput2: number[] = [];
    for (let r = 0; r < Math.max(1, Math.min(runs, 2)); r++) {
      tput1.push(p.throughput / ((await batchToActive([api1], api1, p.throughput, 100, imageRef)).ms / 1000));
      tput2.push(p.throughput / ((await batchToActive([api1, api2], api1, p.throughput, 100, imageRef)).ms / 1000));
    }
    rows.push(row(`${p.throughput} creates -> ACTIVE, one controller`, 'servers/s', tput1, '100 in flight'));
    rows.push(row(`${p.throughput} creates -> ACTIVE, two controllers (round-robin)`, 'servers/s', tput2, '100 in flight'));
    const ratio = summarize(tput2).median / summarize(tput1).median;
    rows.push(single(`${label}: two controllers / one, create throughput`, 'x', Math.round(ratio * 100) / 100, 'issue 16 target: 1.7x (both controllers and the hosts share this machine\'s cores)'));

    // the list at scale
    const have = p.seq + p.creates * batch.length + 20 + p.throughput * (tput1.length + tput2.length);
    const t0 = performance.now();
    if (p.scale > have) {
      await populateServers({ dbFile: db, count: p.scale - have, from: 0, imageRef, hosts: p.hosts, owners: [a, d], networkName: BENCH_NETWORK.name, pauseMs: 20 });
    }
    console.log(`ha/${label}: ${p.scale} servers in ${((performance.now() - t0) / 1000).toFixed(0)} s`);
    const q = `${C}/servers/detail?all_tenants=1&limit=1000`;
    const first = await api1.expect(200, 'GET', q);
    if ((first.body.servers as unknown[]).length !== 1000) throw new Error(`detail page holds ${(first.body.servers as unknown[]).length}`);
    const lat: number[] = [];
    await api2.expect(200, 'GET', q);
    for (let i = 0; i < p.listSamples; i++) lat.push((await (i % 2 ? api2 : api1).expect(200, 'GET', q)).ms);
    rows.push(row(`GET /servers/detail?limit=1000 at ${p.scale.toLocaleString('en')} servers`, 'ms', lat, `admin, all projects; ${p.listSamples} samples over both controllers after one untimed GET each`));
  } finally {
    for (const x of apis) x.close();
    for (const c of children.reverse()) await c.stop();
    rmSync(dir, { recursive: true, force: true });
  }
  return rows;
}

export async function runHaBench(o: { quick: boolean; runs: number }): Promise<ResultRow[]> {
  const p = plan(o.quick);
  const rows: ResultRow[] = [];
  const base = process.env['NOVALET_BENCH_POSTGRES_URL'] ?? process.env['NOVALET_TEST_POSTGRES_URL'];
  for (const store of ['sqlite', 'postgres'] as const) {
    if (store === 'postgres' && !base) {
      rows.push(single('postgres: skipped', '', NaN, 'set NOVALET_BENCH_POSTGRES_URL (scripts/postgres.sh start prints one)'));
      continue;
    }
    console.log(`ha: ${store}, ${p.hosts} simulated hosts ...`);
    const pgDb = store === 'postgres' ? await freshPostgres(base!) : null;
    try {
      rows.push(...await runStore(store, pgDb ? pgDb.url : 'sqlite', p, o.runs));
    } catch (err) {
      rows.push(single(`${store}: FAILED`, '', NaN, (err as Error).message.slice(0, 300)));
      console.error(`ha: ${store} failed: ${(err as Error).stack ?? String(err)}`);
    } finally {
      await pgDb?.drop();
    }
  }
  return rows;
}
