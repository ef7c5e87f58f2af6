/**
 * Controller memory under malformed traffic (issue 17: "peak RSS reached 263 MiB during the fuzz run; find where"):
 * `novalet controller` + 5 simulated hosts, then N requests (default 40,000; --quick 10,000), 8 in flight, each to
 * a random route of the controller's own route table (test/support/route-table.ts) with random path parameters
 * (short, 120-character, random bytes), now and then an oversized query, and bodies from a fixed-seed generator:
 * 70 KB names, 1 MiB+ bodies (413), arrays nested 5,000 deep, 50 metadata items with 300-character keys, small
 * valid-looking creates. Tokens of a member and an admin, so many requests are accepted (servers, images, key
 * pairs... are created) and most are refused.
 *
 * Reports the controller's peak RSS (VmHWM) against the 200 MB target, its RSS at the end and 12 s later, and V8's
 * heap used then (novalet_nodejs_heap_size_used_bytes from /metrics). Without CONTROLLER_NODE_FLAGS the peak is dead
 * request data waiting for a major collection, not live data (systemd/novalet-controller.service).
 */
import { randomBytes } from 'node:crypto';
import { ADMIN_PW, DEMO_PW, login, startCluster } from './lib/cluster.js';
import { Api } from './lib/http.js';
import { memoryOf } from './lib/proc.js';
import type { ResultRow } from './lib/report.js';
import { judge, single, TARGET } from './lib/targets.js';
import { createHarness } from '../test/support/harness.js';
import { routeTable } from '../test/support/route-table.js';
import { prng } from '../test/support/prng.js';

export interface FuzzMemoryOptions { quick: boolean }

async function heapUsedMiB(api: Api): Promise<number> {
  const r = await api.request('GET', '/metrics');
  const m = /^novalet_nodejs_heap_size_used_bytes(?:\{[^}]*\})? (\S+)$/m.exec(String(r.body));
  return m ? Number(m[1]) / 1024 ** 2 : NaN;
}

export async function runFuzzMemoryBench(o: FuzzMemoryOptions): Promise<ResultRow[]> {
  const total = Number(process.env['NOVALET_FUZZ_REQUESTS'] ?? (o.quick ? 10_000 : 40_000));
  const seed = Number(process.env['NOVALET_FUZZ_SEED'] ?? 20261206);
  const h = await createHarness();
  const routes = routeTable(h.app);
  await h.close();
  const cluster = await startCluster(5);
  const api = new Api(cluster.url);
  try {
    const admin = (await login(api, 'admin', ADMIN_PW, 'admin')).token;
    const demo = (await login(api, 'demo', DEMO_PW, 'demo')).token;
    const startMiB = memoryOf(cluster.controller.pid).rssMiB;
    const byClass: Record<string, number> = {};
    const fives: string[] = [];
    let sent = 0;
    const worker = async (w: number) => {
      const rnd = prng(seed + w);
      const pick = (n: number) => Math.floor(rnd() * n);
      const text = (n: number) => randomBytes(Math.ceil((n * 3) / 4) + 3).toString('base64url').slice(0, n);
      const body = (): unknown => {
        switch (pick(10)) {
          case 0: return { server: { name: text(70_000) } };
          case 1: return Buffer.from(JSON.stringify({ server: { name: 'x'.repeat(1024 * 1024 + 10) } }));
          case 2: return Buffer.from(`${'['.repeat(5000)}${']'.repeat(5000)}`);
          case 3: return { metadata: Object.fromEntries(Array.from({ length: 50 }, () => [text(300), text(3000)])) };
          default: return { server: { name: 's', imageRef: 'x', flavorRef: '1' }, [text(8)]: text(pick(2000)) };
        }
      };
      while (sent < total) {
        sent++;
        const r = routes[pick(routes.length)]!;
        const url = r.url.replace(/:[A-Za-z_]+/g, () => (pick(2) ? 'x'.repeat(pick(3) ? 5 : 120) : encodeURIComponent(text(10))));
        const query = pick(3) ? '' : `?limit=${text(5)}&name=${text(pick(3000))}`;
        const b = r.method === 'GET' || r.method === 'DELETE' ? undefined : body();
        let status: number;
        try {
          status = (await api.request(r.method, url + query, b, { 'x-auth-token': pick(2) ? admin : demo, ...(Buffer.isBuffer(b) ? { 'content-type': 'application/json' } : {}) })).status;
        } catch {
          // an oversized body: the controller answers 413 and closes while the body is still being written (EPIPE)
          byClass['closed'] = (byClass['closed'] ?? 0) + 1;
          continue;
        }
        const cls = `${Math.floor(status / 100)}xx`;
        byClass[cls] = (byClass[cls] ?? 0) + 1;
        if (status >= 500 && fives.length < 20) fives.push(`${r.method} ${r.url}: ${status}`);
      }
    };
    const t0 = performance.now();
    await Promise.all(Array.from({ length: 8 }, (_, w) => worker(w)));
    const seconds = (performance.now() - t0) / 1000;
    const end = memoryOf(cluster.controller.pid);
    const heapEnd = await heapUsedMiB(api);
    // V8's memory reducer collects a heap that went quiet after a few seconds: what stays is what is live
    await new Promise((r) => setTimeout(r, 12_000));
    const heapIdle = await heapUsedMiB(api);
    const idle = memoryOf(cluster.controller.pid);
    console.log(`fuzz-memory: ${total} requests in ${seconds.toFixed(1)} s, answers ${JSON.stringify(byClass)}; controller RSS ${startMiB.toFixed(0)} -> peak ${end.peakMiB.toFixed(0)} MiB, heap used ${heapEnd.toFixed(0)} -> ${heapIdle.toFixed(0)} MiB after 12 s idle`);
    for (const f of fives) console.log(`  5xx: ${f}`);
    return [
      judge(single(`controller peak RSS, ${total} fuzzed requests (5 sim hosts)`, 'MiB', end.peakMiB,
        `RSS ${startMiB.toFixed(0)} MiB before, ${end.rssMiB.toFixed(0)} at the end, ${idle.rssMiB.toFixed(0)} 12 s later; answers ${JSON.stringify(byClass)}; ${(total / seconds).toFixed(0)} req/s`), undefined, TARGET.controllerRss),
      single('controller V8 heap used, end of the fuzz -> 12 s idle', 'MiB', heapIdle, `${heapEnd.toFixed(0)} MiB at the end`),
      judge(single('5xx answers to fuzzed requests', 'count', byClass['5xx'] ?? 0), undefined, { text: 'none', ok: (s) => s.median === 0 }),
    ];
  } finally {
    api.close();
    await cluster.close();
  }
}
