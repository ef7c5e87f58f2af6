/**
 * Networks end to end through the real processes (`novalet controller` + `novalet sim-hosts`, 1,000 simulated hosts
 * by default; the simulated hosts journal the networks they are given, as a real agent does, without kernel devices):
 *   - POST /network/v2.0/ports (IPAM + MAC in the store's transaction) and DELETE, sequential
 *   - 100 servers with 2 ports each (two tenant VXLAN networks), 50 in flight: POST latency and time until all
 *     ACTIVE (each create allocates its ports, sends both networks' specs to its host and refreshes the VXLAN peers
 *     of every other host carrying them), against 100 servers on the seeded network in the same run
 */
import { randomUUID } from 'node:crypto';
import { ADMIN_PW, DEMO_PW, login, startCluster } from './lib/cluster.js';
import { Api, pool, until } from './lib/http.js';
import type { ResultRow } from './lib/report.js';
import { summarize } from './lib/stats.js';

export interface NetOptions { quick: boolean; runs: number }

const C = '/compute/v2.1';
const N = '/network/v2.0';
const rowOf = (name: string, unit: string, samples: number[], notes?: string): ResultRow =>
  ({ name, unit, summary: summarize(samples), ...(notes ? { notes } : {}) });

export async function runNetBench(o: NetOptions): Promise<ResultRow[]> {
  const env = (k: string, d: number) => Number(process.env[k] ?? d);
  const hosts = env('NOVALET_BENCH_HOSTS', o.quick ? 50 : 1000);
  const servers = o.quick ? 30 : 100;
  const portCreates = o.quick ? 50 : 300;
  const concurrency = o.quick ? 15 : 50;
  const runs = Math.min(o.runs, 3);
  console.log(`net: starting ${hosts} simulated hosts and a controller ...`);
  const cluster = await startCluster(hosts);
  const admin = new Api(cluster.url);
  const demo = new Api(cluster.url);
  try {
    const a = await login(admin, 'admin', ADMIN_PW, 'admin');
    const d = await login(demo, 'demo', DEMO_PW, 'demo');
    admin.token = a.token;
    demo.token = d.token;
    await admin.expect(200, 'PUT', `${C}/os-quota-sets/${d.projectId}`, { quota_set: { instances: -1, cores: -1, ram: -1 } });
    await admin.expect(200, 'PUT', `${N}/quotas/${d.projectId}`, { quota: { port: -1, network: -1, subnet: -1 } });
    const img = await admin.expect(201, 'POST', '/image/v2/images', { name: 'bench-image', disk_format: 'qcow2', container_format: 'bare', visibility: 'public' });
    const imageRef = img.body.id as string;
    await admin.expect(204, 'PUT', `/image/v2/images/${imageRef}/file`, Buffer.alloc(4096, 1), { 'content-type': 'application/octet-stream' });
    const nets: string[] = [];
    for (const [i, cidr] of ['10.40.0.0/20', '10.41.0.0/20'].entries()) {
      const n = await demo.expect(201, 'POST', `${N}/networks`, { network: { name: `bench-net-${i}` } });
      await demo.expect(201, 'POST', `${N}/subnets`, { subnet: { network_id: n.body.network.id, cidr, ip_version: 4 } });
      nets.push(n.body.network.id as string);
    }

    // ports through the network API, one at a time
    const portCreate: number[] = [];
    const portDelete: number[] = [];
    for (let r = 0; r < runs; r++) {
      const made: string[] = [];
      for (let i = 0; i < portCreates; i++) {
        const p = await demo.expect(201, 'POST', `${N}/ports`, { port: { network_id: nets[0] } });
        portCreate.push(p.ms);
        made.push(p.body.port.id as string);
      }
      for (const id of made) portDelete.push((await demo.expect(204, 'DELETE', `${N}/ports/${id}`)).ms);
    }

    // servers: 2 tenant ports each, versus the seeded network's single NIC
    const rows: ResultRow[] = [
      rowOf('POST /network/v2.0/ports, sequential', 'ms', portCreate, `${portCreates} ports x ${runs} runs on a /20 (an address and a MAC in one transaction)`),
      rowOf('DELETE /network/v2.0/ports/:id, sequential', 'ms', portDelete, 'the addresses released'),
    ];
    for (const kind of ['seeded network, 1 NIC', 'two tenant networks, 2 ports'] as const) {
      const lat: number[] = [];
      const toActive: number[] = [];
      for (let r = 0; r < runs; r++) {
        const prefix = `net-${r}-${randomUUID().slice(0, 8)}-`;
        const body = (i: number) => ({
          server: { name: `${prefix}${i}`, imageRef, flavorRef: '1', ...(kind.startsWith('two') ? { networks: nets.map((uuid) => ({ uuid })) } : {}) },
        });
        const t0 = performance.now();
        lat.push(...await pool(servers, concurrency, async (i) => (await demo.expect(202, 'POST', `${C}/servers`, body(i))).ms));
        await until(async () => {
          const l = (await demo.expect(200, 'GET', `${C}/servers/detail?name=${encodeURIComponent(`^${prefix}`)}`)).body.servers as Array<{ status: string; fault?: { message: string } }>;
          const err = l.find((s) => s.status === 'ERROR');
          if (err) throw new Error(`a server went to ERROR: ${err.fault?.message ?? ''}`);
          return l.filter((s) => s.status === 'ACTIVE').length === servers;
        }, 600_000, 10);
        toActive.push(performance.now() - t0);
        // gone again: the next run starts from empty networks (and their hosts drop them)
        const ids = ((await demo.expect(200, 'GET', `${C}/servers?name=${encodeURIComponent(`^${prefix}`)}`)).body.servers as Array<{ id: string }>).map((s) => s.id);
        await pool(ids.length, concurrency, async (i) => demo.expect(204, 'DELETE', `${C}/servers/${ids[i]}`));
        await until(async () => ((await demo.expect(200, 'GET', `${C}/servers?name=${encodeURIComponent(`^${prefix}`)}`)).body.servers as unknown[]).length === 0, 600_000, 20);
      }
      rows.push(
        rowOf(`POST /servers, ${kind}, ${concurrency} in flight`, 'ms', lat, `${servers} creates x ${runs} runs`),
        rowOf(`${servers} creates, ${kind}, ${concurrency} in flight -> all ACTIVE`, 'ms', toActive, `${hosts} simulated hosts; from the first POST`),
      );
    }
    const left = (await admin.expect(200, 'GET', `${N}/ports?network_id=${nets[0]}`)).body.ports as unknown[];
    if (left.length) throw new Error(`${left.length} ports left on ${nets[0]} after the deletes`);
    return rows;
  } finally {
    admin.close();
    demo.close();
    await cluster.close();
  }
}
