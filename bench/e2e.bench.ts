/**
 * End to end through the real processes: `novalet controller` (persisted tasks over the agent RPC, heartbeats, scheduler) with
 * `novalet sim-hosts` (1,000 simulated hosts by default), driven over HTTP as a user's client would:
 *   - POST /servers latency, sequential and 50 in flight, and time until a batch of 100 is ACTIVE
 *   - actions stop/start/pause/unpause: API answer and time until the state is reached
 *   - 100 servers in four server groups (anti-affinity, affinity, soft-anti-affinity, soft-affinity): time until all
 *     are ACTIVE, each group's placement checked
 *   - identity token issue rate, sequential and concurrent
 *   - GET /servers/detail at 1,000 / 10,000 / 50,000 servers (unpaged, paged at the tail, filters), the
 *     servers beyond the API-created ones inserted through the store (bench/lib/populate.ts)
 *   - controller RSS at each size, simulated-host process RSS
 */
import { randomUUID } from 'node:crypto';
import { SqliteStore } from '../src/store/index.js';
import { ADMIN_PW, BENCH_NETWORK, DEMO_PW, login, startCluster, type Cluster } from './lib/cluster.js';
import { Api, pool, until } from './lib/http.js';
import { populateServers, serverToucher } from './lib/populate.js';
import { memoryOf } from './lib/proc.js';
import type { ResultRow } from './lib/report.js';
import { summarize } from './lib/stats.js';
import { growthExponent, judge, NOVA, single, TARGET } from './lib/targets.js';

export interface E2eOptions {
  quick: boolean;
  runs: number;
}

interface Plan {
  hosts: number;
  creates: number;
  concurrency: number;
  actionServers: number;
  tokensSeq: number;
  tokensConc: number;
  tokenConcurrency: number;
  scales: number[];
  listSamples: number;
}

function plan(o: E2eOptions): Plan {
  const env = (k: string, d: number) => Number(process.env[k] ?? d);
  const scales = process.env['NOVALET_BENCH_SCALES']?.split(',').map(Number);
  const base: Plan = o.quick
    ? { hosts: env('NOVALET_BENCH_HOSTS', 50), creates: 30, concurrency: 15, actionServers: 5, tokensSeq: 10, tokensConc: 20, tokenConcurrency: 10, scales: [1000, 5000], listSamples: 5 }
    : { hosts: env('NOVALET_BENCH_HOSTS', 1000), creates: 100, concurrency: 50, actionServers: 20, tokensSeq: 100, tokensConc: 200, tokenConcurrency: 10, scales: [1000, 10_000, 50_000], listSamples: 40 };
  return scales ? { ...base, scales } : base;
}

const C = '/compute/v2.1';
const rowOf = (name: string, unit: string, samples: number[], notes?: string): ResultRow =>
  ({ name, unit, summary: summarize(samples), ...(notes ? { notes } : {}) });

export async function runE2eBench(o: E2eOptions): Promise<ResultRow[]> {
  const p = plan(o);
  console.log(`e2e: starting ${p.hosts} simulated hosts and a controller ...`);
  const t0 = performance.now();
  const cluster = await startCluster(p.hosts);
  console.log(`e2e: cluster up in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  const rows: ResultRow[] = [];
  const admin = new Api(cluster.url);
  const demo = new Api(cluster.url);
  try {
    const a = await login(admin, 'admin', ADMIN_PW, 'admin');
    const d = await login(demo, 'demo', DEMO_PW, 'demo');
    admin.token = a.token;
    demo.token = d.token;
    for (const pid of [a.projectId, d.projectId]) {
      await admin.expect(200, 'PUT', `${C}/os-quota-sets/${pid}`, { quota_set: { instances: -1, cores: -1, ram: -1, server_groups: -1, server_group_members: -1 } });
    }
    const img = await admin.expect(201, 'POST', '/image/v2/images', { name: 'bench-image', disk_format: 'qcow2', container_format: 'bare', visibility: 'public' });
    const imageRef = img.body.id as string;
    await admin.expect(204, 'PUT', `/image/v2/images/${imageRef}/file`, Buffer.alloc(4096, 1), { 'content-type': 'application/octet-stream' });
    const hyp = await admin.expect(200, 'GET', `${C}/os-hypervisors`);
    const known = (hyp.body.hypervisors as unknown[]).length;
    if (known < p.hosts) throw new Error(`controller knows ${known} of ${p.hosts} hosts`);
    const memAtStart = memoryOf(cluster.controller.pid).rssMiB;

    // a failed phase is reported (with the controller's last words) and the next one still runs;
    // NOVALET_BENCH_E2E_PHASES=groups,... runs only those (e.g. the groups placement on 1,000 hosts alone)
    let dead = false;
    const only = process.env['NOVALET_BENCH_E2E_PHASES']?.split(',').map((x) => x.trim()).filter(Boolean);
    const phase = async (name: string, fn: () => Promise<ResultRow[]>) => {
      if (dead || (only && !only.includes(name))) return;
      try {
        rows.push(...await fn());
      } catch (err) {
        const alive = cluster.controller.proc.exitCode === null && cluster.controller.proc.signalCode === null;
        const msg = `${(err as Error).message}; controller ${alive ? 'running' : `exited (${cluster.controller.proc.exitCode ?? cluster.controller.proc.signalCode})`}`;
        console.error(`e2e: phase ${name} failed: ${msg}\n${cluster.controller.stderr().slice(-1500)}`);
        rows.push(single(`FAILED: ${name}`, '', NaN, msg));
        dead = !alive;
      }
    };
    // at most 3 create batches: the API-created servers must stay under the first list size (1,000)
    await phase('creates', () => creates(demo, p, Math.min(o.runs, 3), imageRef));
    await phase('actions', () => actions(demo, p, imageRef));
    await phase('groups', () => groups(demo, p, imageRef));
    await phase('tokens', () => tokens(new Api(cluster.url), p, o.runs));
    // lists adds its rows as it goes: the smaller sizes are kept when a larger one fails
    await phase('lists', async () => { await lists(cluster, admin, demo, p, { imageRef, owners: [a, d], memAtStart }, rows); return []; });
  } finally {
    admin.close();
    demo.close();
    await cluster.close();
  }
  return rows;
}

async function activeCount(api: Api, prefix: string): Promise<{ active: number; error: number }> {
  const r = await api.expect(200, 'GET', `${C}/servers/detail?name=${encodeURIComponent(`^${prefix}`)}`);
  const servers = r.body.servers as Array<{ status: string; fault?: { message: string } }>;
  const err = servers.filter((s) => s.status === 'ERROR');
  if (err.length) throw new Error(`${err.length} servers went to ERROR: ${err[0]!.fault?.message ?? ''}`);
  return { active: servers.filter((s) => s.status === 'ACTIVE').length, error: err.length };
}

function createBody(name: string, imageRef: string) {
  return { server: { name, imageRef, flavorRef: '1' } };
}

/** POST /servers latency and time to ACTIVE, sequential and `concurrency` in flight, `runs` batches each. */
async function creates(api: Api, p: Plan, runs: number, imageRef: string): Promise<ResultRow[]> {
  const seqLat: number[] = [];
  const concLat: number[] = [];
  const seqActive: number[] = [];
  const concActive: number[] = [];
  const concRate: number[] = [];
  const oneActive: number[] = [];
  for (let r = 0; r < runs; r++) {
    // one server alone, idle system: POST to ACTIVE
    const oneName = `one-${r}-${randomUUID().slice(0, 8)}`;
    const t1 = performance.now();
    const one = await api.expect(202, 'POST', `${C}/servers`, createBody(oneName, imageRef));
    await until(async () => (await api.expect(200, 'GET', `${C}/servers/${one.body.server.id}`)).body.server.status === 'ACTIVE', 60_000, 2);
    oneActive.push(performance.now() - t1);

    for (const mode of ['seq', 'conc'] as const) {
      const prefix = `${mode}-${r}-${randomUUID().slice(0, 8)}-`;
      const t0 = performance.now();
      const lat = await pool(p.creates, mode === 'seq' ? 1 : p.concurrency, async (i) => (await api.expect(202, 'POST', `${C}/servers`, createBody(`${prefix}${i}`, imageRef))).ms);
      const accepted = performance.now() - t0;
      await until(async () => (await activeCount(api, prefix)).active === p.creates, 300_000, 10);
      const total = performance.now() - t0;
      if (mode === 'seq') { seqLat.push(...lat); seqActive.push(total); } else { concLat.push(...lat); concActive.push(total); concRate.push(p.creates / (accepted / 1000)); }
    }
  }
  const n = p.creates;
  return [
    judge(rowOf('POST /servers, sequential', 'ms', seqLat, `${n} creates x ${runs} runs, each sample one request`), NOVA.postSeq, TARGET.postP50),
    judge(rowOf(`POST /servers, ${p.concurrency} in flight`, 'ms', concLat, `${n} creates x ${runs} runs`), NOVA.postConc),
    judge(rowOf(`POST /servers accepted per second, ${p.concurrency} in flight`, 'creates/s', concRate), NOVA.postConc),
    judge(rowOf('one server POST -> ACTIVE (idle)', 'ms', oneActive), NOVA.toActiveOne),
    judge(rowOf(`${n} sequential creates -> all ACTIVE`, 'ms', seqActive, `${p.hosts} simulated hosts; from the first POST`), NOVA.toActiveSeq, TARGET.hundredToActive),
    judge(rowOf(`${n} creates, ${p.concurrency} in flight -> all ACTIVE`, 'ms', concActive, `${p.hosts} simulated hosts`), NOVA.toActiveSeq, TARGET.hundredToActive),
  ];
}

/**
 * Placement with server groups: p.creates servers split over four groups, one per policy, created p.concurrency at a
 * time; the time until all are ACTIVE, and each group's placement checked (anti-affinity: every member on its own
 * host; affinity: all on one; soft anti-affinity: spread while hosts remain).
 */
async function groups(api: Api, p: Plan, imageRef: string): Promise<ResultRow[]> {
  const policies = ['anti-affinity', 'affinity', 'soft-anti-affinity', 'soft-affinity'] as const;
  const v = { 'x-openstack-nova-api-version': '2.64' };
  const ids: string[] = [];
  for (const policy of policies) {
    ids.push((await api.expect(200, 'POST', `${C}/os-server-groups`, { server_group: { name: `bench-${policy}`, policy } }, v)).body.server_group.id);
  }
  const prefix = `grp-${randomUUID().slice(0, 8)}-`;
  const per = Math.ceil(p.creates / policies.length);
  const t0 = performance.now();
  const lat = await pool(per * policies.length, p.concurrency, async (i) => (await api.expect(202, 'POST', `${C}/servers`, {
    ...createBody(`${prefix}${i % policies.length}-${i}`, imageRef), 'os:scheduler_hints': { group: ids[i % policies.length] },
  })).ms);
  await until(async () => (await activeCount(api, prefix)).active === per * policies.length, 300_000, 10);
  const total = performance.now() - t0;
  const listed = (await api.expect(200, 'GET', `${C}/servers/detail?name=${encodeURIComponent(`^${prefix}`)}`, undefined, { 'x-openstack-nova-api-version': '2.47' })).body.servers as Array<{ name: string; hostId: string }>;
  const hostsOf = (g: number) => listed.filter((s) => s.name.startsWith(`${prefix}${g}-`)).map((s) => s.hostId); // hostId: the project's hash of the host (the host name is admin-only)
  const distinct = (g: number) => new Set(hostsOf(g)).size;
  if (distinct(0) !== per) throw new Error(`anti-affinity: ${per} members on ${distinct(0)} hosts`);
  if (distinct(1) !== 1) throw new Error(`affinity: members on ${distinct(1)} hosts`);
  if (distinct(2) !== Math.min(per, p.hosts)) throw new Error(`soft anti-affinity: ${per} members on ${distinct(2)} hosts`);
  return [
    judge(single(`${per * policies.length} creates in 4 server groups, ${p.concurrency} in flight -> all ACTIVE`, 'ms', total,
      `${p.hosts} simulated hosts; each group's placement checked; POST p50 ${summarize(lat).median.toFixed(1)} ms`), NOVA.toActiveSeq, TARGET.hundredToActive),
  ];
}

/** stop/start/pause/unpause on `actionServers` servers: the API's 202 and the time until the state is reached. */
async function actions(api: Api, p: Plan, imageRef: string): Promise<ResultRow[]> {
  const prefix = `act-${randomUUID().slice(0, 8)}-`;
  const ids = await pool(p.actionServers, 10, async (i) => (await api.expect(202, 'POST', `${C}/servers`, createBody(`${prefix}${i}`, imageRef))).body.server.id as string);
  await until(async () => (await activeCount(api, prefix)).active === p.actionServers, 120_000, 10);
  const steps: Array<{ action: string; body: unknown; status: string }> = [
    { action: 'stop', body: { 'os-stop': null }, status: 'SHUTOFF' },
    { action: 'start', body: { 'os-start': null }, status: 'ACTIVE' },
    { action: 'pause', body: { pause: null }, status: 'PAUSED' },
    { action: 'unpause', body: { unpause: null }, status: 'ACTIVE' },
  ];
  const rows: ResultRow[] = [];
  for (const s of steps) {
    const apiMs: number[] = [];
    const stateMs: number[] = [];
    for (const id of ids) {
      const t0 = performance.now();
      const r = await api.expect(202, 'POST', `${C}/servers/${id}/action`, s.body);
      apiMs.push(r.ms);
      await until(async () => {
        const v = (await api.expect(200, 'GET', `${C}/servers/${id}`)).body.server;
        return v.status === s.status && v['OS-EXT-STS:task_state'] == null;
      }, 120_000, 2);
      stateMs.push(performance.now() - t0);
    }
    rows.push(judge(rowOf(`${s.action}: API answer (202)`, 'ms', apiMs, `${ids.length} servers, one at a time`), NOVA.actionApi));
    rows.push(judge(rowOf(`${s.action}: until ${s.status}`, 'ms', stateMs, 'from the request, polled every 2 ms'), NOVA.actionState));
  }
  return rows;
}

/** POST /identity/v3/auth/tokens (password method): latency and issue rate. */
async function tokens(api: Api, p: Plan, runs: number): Promise<ResultRow[]> {
  const seq: number[] = [];
  const conc: number[] = [];
  const seqRate: number[] = [];
  const concRate: number[] = [];
  const issue = async () => {
    const t0 = performance.now();
    await login(api, 'demo', DEMO_PW, 'demo');
    return performance.now() - t0;
  };
  try {
    for (let r = 0; r < runs; r++) {
      let t0 = performance.now();
      seq.push(...await pool(p.tokensSeq, 1, issue));
      seqRate.push(p.tokensSeq / ((performance.now() - t0) / 1000));
      t0 = performance.now();
      conc.push(...await pool(p.tokensConc, p.tokenConcurrency, issue));
      concRate.push(p.tokensConc / ((performance.now() - t0) / 1000));
    }
  } finally {
    api.close();
  }
  return [
    judge(rowOf('token issue, sequential', 'ms', seq, 'password + project scope, catalog in the body'), NOVA.none),
    judge(rowOf('token issue rate, sequential', 'tokens/s', seqRate), NOVA.none),
    judge(rowOf(`token issue, ${p.tokenConcurrency} in flight`, 'ms', conc), NOVA.none),
    judge(rowOf(`token issue rate, ${p.tokenConcurrency} in flight`, 'tokens/s', concRate), NOVA.none),
  ];
}

interface Sampled { ms: number[]; rows: number }

/**
 * One untimed GET of each query (`rows`: how many servers it held), then `n` timed GETs of each (after its
 * untimed `before`), round-robin (query 1, 2, ..., 1, 2, ...): the 1,000 hosts' heartbeat rounds (about a second
 * of controller work every 10 s) then fall on every query alike instead of on whichever query's samples happened
 * to run during one.
 */
async function sampleEach(n: number, queries: Array<{ api: Api; path: string; expectRows?: number; before?: () => void }>): Promise<Sampled[]> {
  const out = await Promise.all(queries.map(async (q) => {
    const rows = (await q.api.expect(200, 'GET', q.path)).body.servers.length as number;
    if (q.expectRows !== undefined && rows !== q.expectRows) throw new Error(`${q.path}: ${rows} rows, expected ${q.expectRows}`);
    return { ms: [], rows } as Sampled;
  }));
  for (let i = 0; i < n; i++) {
    for (const [k, q] of queries.entries()) {
      q.before?.(); // untimed
      out[k]!.ms.push((await q.api.expect(200, 'GET', q.path)).ms);
    }
  }
  return out;
}

/** GET /servers/detail at each size; the rows beyond the API-created ones come from the store. */
async function lists(cluster: Cluster, admin: Api, demo: Api, p: Plan,
  ctx: { imageRef: string; owners: Array<{ projectId: string; userId: string }>; memAtStart: number }, rows: ResultRow[]): Promise<void> {
  const curve: Array<{ size: number; unpaged: number; changed: number; tail: number; status: number; regex: number; rss: number }> = [];
  const base = await countServers(cluster.dbFile);
  // two more projects so rows spread over four owners
  const extra = await addProjects(cluster.dbFile, ctx.owners[1]!.userId, 2);
  const owners = [...ctx.owners, ...extra];
  let populated = 0;
  let ids: string[] = [];
  const touch = serverToucher(cluster.dbFile);
  try {
    for (const size of p.scales) {
      const add = Math.max(0, size - base - populated);
      const t0 = performance.now();
      ids = ids.concat(await populateServers({ dbFile: cluster.dbFile, count: add, from: populated, imageRef: ctx.imageRef, hosts: p.hosts, owners, networkName: BENCH_NETWORK.name }));
      populated += add;
      console.log(`e2e: ${base + populated} servers (${add} inserted through the store in ${((performance.now() - t0) / 1000).toFixed(1)} s)`);
      const total = base + populated;
      const label = total.toLocaleString('en-US');
      // the oldest 1,000 rows are the last page of the default sort (created_at desc): marker = the 1,001st oldest
      const marker = ids[1000] ?? ids[ids.length - 1]!;
      const first = `${C}/servers/detail?all_tenants=1`;
      const [unpaged, tail, status, regex, project] = await sampleEach(p.listSamples, [
        { api: admin, path: first, expectRows: Math.min(1000, total) },
        { api: admin, path: `${C}/servers/detail?all_tenants=1&limit=1000&marker=${marker}` },
        { api: admin, path: `${C}/servers/detail?all_tenants=1&status=ACTIVE` },
        { api: admin, path: `${C}/servers/detail?all_tenants=1&name=${encodeURIComponent('^bench-00012[0-9]')}` },
        { api: demo, path: `${C}/servers/detail` },
      ]) as [Sampled, Sampled, Sampled, Sampled, Sampled];
      // The queries above are each listed again unchanged. The controller keeps each server's rendered view until
      // the server changes (src/api/compute/views/server-list-renders.ts): the first page again, after a tenth of
      // its servers were written, then after all of them were; one after the other, since each one's writes make
      // the pages of the others stale too
      const [someChanged] = await sampleEach(p.listSamples, [{ api: admin, path: first, before: () => touch.touch(0.1) }]) as [Sampled];
      const [allChanged] = await sampleEach(p.listSamples, [{ api: admin, path: first, before: () => touch.touch(1) }]) as [Sampled];
      const mem = memoryOf(cluster.controller.pid);
      const s = (x: { ms: number[] }) => summarize(x.ms).median;
      curve.push({ size: total, unpaged: s(unpaged), changed: s(allChanged), tail: s(tail), status: s(status), regex: s(regex), rss: mem.rssMiB });
      const near1k = size === p.scales[0];
      const largest = size === p.scales[p.scales.length - 1];
      const novaList = near1k ? NOVA.list1k : undefined;
      const got = (x: { rows: number }) => `${x.rows} rows`;
      rows.push(judge(rowOf(`GET /servers/detail, ${label} servers, unpaged (default limit 1,000)`, 'ms', unpaged.ms, `admin, all_tenants; ${got(unpaged)}; the same page listed again, nothing changed`), novaList, near1k ? TARGET.list1k : largest ? TARGET.page50k : undefined));
      rows.push(judge(rowOf(`GET /servers/detail, ${label} servers, unpaged, ~10% of the page changed since the last list`, 'ms', someChanged.ms, 'a random tenth of the 1,000 servers written before each GET'), novaList));
      rows.push(judge(rowOf(`GET /servers/detail, ${label} servers, unpaged, every server changed since the last list`, 'ms', allChanged.ms, 'all 1,000 servers written before each GET: nothing kept applies'), novaList));
      rows.push(judge(rowOf(`GET /servers/detail, ${label} servers, limit=1000 + marker at the tail`, 'ms', tail.ms, `last page of the default sort; ${got(tail)}`), undefined, largest ? TARGET.page50k : undefined));
      rows.push(rowOf(`GET /servers/detail, ${label} servers, status=ACTIVE`, 'ms', status.ms, `~70% of rows match; ${got(status)}`));
      rows.push(rowOf(`GET /servers/detail, ${label} servers, name regex ^bench-00012[0-9]`, 'ms', regex.ms, got(regex)));
      rows.push(rowOf(`GET /servers/detail, ${label} servers, one project (demo)`, 'ms', project.ms, `member token; ${got(project)}`));
      rows.push(judge(single(`controller RSS, ${label} servers`, 'MiB', mem.rssMiB, `peak ${mem.peakMiB.toFixed(0)} MiB; ${p.hosts} hosts heartbeating`),
        size === p.scales[0] ? NOVA.memory1k : undefined, largest ? TARGET.controllerRss : undefined));
    }
  } finally {
    await touch.close();
  }
  const simMem = memoryOf(cluster.sim.pid);
  rows.push(judge(single(`sim-hosts process RSS, ${p.hosts} hosts`, 'MiB', simMem.rssMiB, `${(simMem.rssMiB / p.hosts).toFixed(2)} MiB per host; peak ${simMem.peakMiB.toFixed(0)} MiB`), NOVA.computeProcess));
  rows.push(single(`controller RSS, idle after start (${p.hosts} hosts)`, 'MiB', ctx.memAtStart));
  const sizes = curve.map((c) => c.size).join(' / ');
  for (const k of ['unpaged', 'changed', 'tail', 'status', 'regex', 'rss'] as const) {
    const b = growthExponent(curve.map((c) => ({ size: c.size, cost: c[k] })));
    const what = k === 'rss' ? 'controller RSS' : k === 'changed' ? 'list unpaged, every server changed' : `list ${k}`;
    rows.push(judge(single(`growth exponent vs servers: ${what}`, 'exponent', b,
      `at ${sizes} servers: ${curve.map((c) => c[k].toFixed(1)).join(' / ')} ${k === 'rss' ? 'MiB' : 'ms'}`), undefined, TARGET.linear));
  }
}

async function countServers(dbFile: string): Promise<number> {
  const store = new SqliteStore(dbFile);
  try { return await store.countServers({}); } finally { await store.close(); }
}

async function addProjects(dbFile: string, userId: string, n: number): Promise<Array<{ projectId: string; userId: string }>> {
  const store = new SqliteStore(dbFile);
  try {
    const demo = (await store.listProjects()).find((x) => x.name === 'demo')!;
    const out: Array<{ projectId: string; userId: string }> = [];
    for (let i = 0; i < n; i++) {
      const id = randomUUID().replace(/-/g, '');
      await store.createProject({ id, name: `bench-project-${i}-${id.slice(0, 6)}`, domainId: demo.domainId, enabled: true, description: 'bench' });
      out.push({ projectId: id, userId });
    }
    return out;
  } finally {
    await store.close();
  }
}
