/**
 * Load (issue 17): a fixed arrival rate of mixed requests (default 200 req/s for 60 s, open loop: a request is sent
 * every 1/rate seconds whatever the answers do) against `novalet controller` + `novalet sim-hosts`, on loopback.
 * Reports latency percentiles per request class, answers by status class, errors (5xx, transport failures and
 * 4xx other than the 409s a race may legitimately answer) and the controller's event-loop delay (its own
 * `novalet_event_loop_delay_p99_seconds`, scraped every second from /metrics) and RSS. No timing assertions: the
 * target (zero errors) is judged like the other suites' targets.
 *
 * Mix (per 100 requests): 40 GET /servers/detail?limit=100, 20 GET /servers/{id}, 10 GET /flavors/detail,
 * 5 token issues, 10 POST /servers, 5 DELETE of a server created here, 10 power actions (stop/start, each server
 * resting 2 s after an action).
 */
import { randomUUID } from 'node:crypto';
import { ADMIN_PW, DEMO_PW, login, startCluster } from './lib/cluster.js';
import { Api, until } from './lib/http.js';
import { memoryOf } from './lib/proc.js';
import type { ResultRow } from './lib/report.js';
import { summarize } from './lib/stats.js';

const C = '/compute/v2.1';

export interface LoadOptions { quick: boolean }

type Kind = 'list' | 'show' | 'flavors' | 'token' | 'create' | 'delete' | 'action';
const MIX: [Kind, number][] = [['list', 40], ['show', 20], ['flavors', 10], ['token', 5], ['create', 10], ['delete', 5], ['action', 10]];

function pick(r: number): Kind {
  let acc = 0;
  for (const [k, w] of MIX) { acc += w; if (r < acc) return k; }
  return 'list';
}

export async function runLoadBench(o: LoadOptions): Promise<ResultRow[]> {
  const env = (k: string, d: number) => Number(process.env[k] ?? d);
  const rate = env('NOVALET_LOAD_RATE', 200);
  const seconds = env('NOVALET_LOAD_SECONDS', o.quick ? 10 : 60);
  const hosts = env('NOVALET_BENCH_HOSTS', o.quick ? 20 : 100);
  const seedServers = o.quick ? 50 : 200;
  console.log(`load: ${hosts} simulated hosts, ${seedServers} servers first, then ${rate} req/s for ${seconds} s`);
  const cluster = await startCluster(hosts);
  const admin = new Api(cluster.url);
  const demo = new Api(cluster.url);
  const tokens = new Api(cluster.url);
  const metrics = new Api(cluster.url);
  try {
    const a = await login(admin, 'admin', ADMIN_PW, 'admin');
    const d = await login(demo, 'demo', DEMO_PW, 'demo');
    admin.token = a.token;
    demo.token = d.token;
    await admin.expect(200, 'PUT', `${C}/os-quota-sets/${d.projectId}`, { quota_set: { instances: -1, cores: -1, ram: -1 } });
    const img = await admin.expect(201, 'POST', '/image/v2/images', { name: 'load-image', disk_format: 'qcow2', container_format: 'bare', visibility: 'public' });
    await admin.expect(204, 'PUT', `/image/v2/images/${img.body.id as string}/file`, Buffer.alloc(4096, 1), { 'content-type': 'application/octet-stream' });
    const body = () => ({ server: { name: `load-${randomUUID().slice(0, 8)}`, imageRef: img.body.id as string, flavorRef: '1' } });

    // servers to read and act on: ACTIVE before the load starts
    const servers: { id: string; on: boolean; restUntil: number }[] = [];
    for (let i = 0; i < seedServers; i++) servers.push({ id: (await demo.expect(202, 'POST', `${C}/servers`, body())).body.server.id as string, on: true, restUntil: 0 });
    await until(async () => {
      const r = await demo.expect(200, 'GET', `${C}/servers/detail?limit=1000`);
      return (r.body.servers as { status: string }[]).filter((s) => s.status === 'ACTIVE').length >= seedServers;
    }, 300_000, 200);
    const created: string[] = [];

    const lat = new Map<Kind, number[]>(MIX.map(([k]) => [k, []]));
    const byClass: Record<string, number> = {};
    const errors: string[] = [];
    let conflicts = 0;
    let inFlight = 0;
    let maxInFlight = 0;
    const loopDelay: number[] = [];
    const rss: number[] = [];

    const one = async (kind: Kind): Promise<void> => {
      let expectStatus: number;
      let send: () => Promise<{ status: number; ms: number; body: unknown }>;
      const now = Date.now();
      switch (kind) {
        case 'list': expectStatus = 200; send = () => demo.request('GET', `${C}/servers/detail?limit=100`); break;
        case 'show': { const s = servers[Math.floor(Math.random() * servers.length)]!; expectStatus = 200; send = () => demo.request('GET', `${C}/servers/${s.id}`); break; }
        case 'flavors': expectStatus = 200; send = () => demo.request('GET', `${C}/flavors/detail`); break;
        case 'token': expectStatus = 201; send = () => tokens.request('POST', '/identity/v3/auth/tokens', { auth: { identity: { methods: ['password'], password: { user: { name: 'demo', domain: { name: 'Default' }, password: DEMO_PW } } }, scope: { project: { name: 'demo', domain: { name: 'Default' } } } } }); break;
        case 'create': expectStatus = 202; send = async () => { const r = await demo.request('POST', `${C}/servers`, body()); if (r.status === 202) created.push(r.body.server.id as string); return r; }; break;
        case 'delete': {
          const id = created.shift();
          if (!id) return one('create');
          expectStatus = 204; send = () => demo.request('DELETE', `${C}/servers/${id}`); break;
        }
        case 'action': {
          const s = servers.find((x) => x.restUntil < now);
          if (!s) return one('show');
          s.restUntil = now + 2000;
          const action = s.on ? 'os-stop' : 'os-start';
          s.on = !s.on;
          expectStatus = 202; send = () => demo.request('POST', `${C}/servers/${s.id}/action`, { [action]: null }); break;
        }
      }
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      try {
        const r = await send();
        lat.get(kind)!.push(r.ms);
        const cls = `${Math.floor(r.status / 100)}xx`;
        byClass[cls] = (byClass[cls] ?? 0) + 1;
        if (r.status === 409) conflicts++;
        else if (r.status !== expectStatus && errors.length < 1000) errors.push(`${kind}: ${r.status} ${JSON.stringify(r.body).slice(0, 200)}`);
      } catch (err) {
        byClass['transport'] = (byClass['transport'] ?? 0) + 1;
        errors.push(`${kind}: ${(err as Error).message}`);
      } finally {
        inFlight--;
      }
    };

    const scrape = setInterval(() => {
      void metrics.request('GET', '/metrics').then((r) => {
        const m = /^novalet_event_loop_delay_p99_seconds\s+([0-9.e+-]+)$/m.exec(String(r.body));
        if (m) loopDelay.push(Number(m[1]) * 1000);
      }, () => undefined);
      rss.push(memoryOf(cluster.controller.pid).rssMiB);
    }, 1000);
    const total = rate * seconds;
    const pending: Promise<void>[] = [];
    const t0 = performance.now();
    for (let i = 0; i < total; i++) {
      const due = t0 + (i * 1000) / rate;
      const wait = due - performance.now();
      if (wait > 1) await new Promise((r) => setTimeout(r, wait));
      pending.push(one(pick(Math.random() * 100)));
    }
    const sendSeconds = (performance.now() - t0) / 1000;
    await Promise.all(pending);
    clearInterval(scrape);
    const achieved = total / sendSeconds;
    console.log(`load: ${total} requests in ${sendSeconds.toFixed(1)} s (${achieved.toFixed(0)} req/s sent), answers ${JSON.stringify(byClass)}, ${conflicts} conflicts (409), ${errors.length} errors, max in flight ${maxInFlight}`);
    for (const e of errors.slice(0, 10)) console.log(`  error: ${e}`);

    const rows: ResultRow[] = [];
    const all = [...lat.values()].flat();
    rows.push({ name: `all requests at ${rate} req/s for ${seconds} s (${hosts} sim hosts)`, unit: 'ms', summary: summarize(all),
      notes: `${all.length} answered: ${JSON.stringify(byClass)}; 409 ${conflicts}; max in flight ${maxInFlight}`,
      target: 'zero errors (5xx, transport, unexpected 4xx)', met: errors.length === 0 });
    for (const [k, v] of lat) if (v.length) rows.push({ name: `  ${k}`, unit: 'ms', summary: summarize(v) });
    if (loopDelay.length) rows.push({ name: 'controller event-loop delay p99 (per 1 s scrape)', unit: 'ms', summary: summarize(loopDelay) });
    if (rss.length) rows.push({ name: 'controller RSS during the load', unit: 'MiB', summary: summarize(rss) });
    return rows;
  } finally {
    for (const api of [admin, demo, tokens, metrics]) api.close();
    await cluster.close();
  }
}
