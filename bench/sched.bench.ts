/**
 * Cost versus hosts: for 1, 100, 300 and 1,000 simulated hosts (a `novalet sim-hosts` child each time) and a
 * controller built in-process exactly as `novalet controller` builds it (startControllerProcess), measures
 *   - scheduling: Scheduler.select() over the view the heartbeats filled (what every create's schedule step proposes)
 *   - one heartbeat round over every host (inventory over RPC, host registry, scheduler refresh)
 *   - the simulated-host process's RSS (per host, and one host alone ~ one agent process)
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { startControllerProcess } from '../src/cli/controller-process.js';
import { BENCH_NETWORK, startSim } from './lib/cluster.js';
import { freePort, memoryOf, runtimeBaselineMiB } from './lib/proc.js';
import { runtime } from './lib/runtime.js';
import type { ResultRow } from './lib/report.js';
import { summarize } from './lib/stats.js';
import { growthExponent, judge, NOVA, single, TARGET } from './lib/targets.js';

export interface SchedOptions { quick: boolean; runs: number }

export async function runSchedBench(o: SchedOptions): Promise<ResultRow[]> {
  const sizes = o.quick ? [1, 20, 50, 100] : [1, 100, 300, 1000];
  const selects = o.quick ? 200 : 2000;
  const rows: ResultRow[] = [];
  const curve: Array<{ hosts: number; select: number; round: number; rss: number }> = [];
  for (const hosts of sizes) {
    const dir = mkdtempSync(join(process.env['NOVALET_BENCH_TMP'] ?? tmpdir(), 'novalet-sched-'));
    const secret = `sched-secret-${process.pid}-${Date.now()}`;
    const secretFile = join(dir, 'secret');
    writeFileSync(secretFile, `${secret}\n`, { mode: 0o600 });
    const t0 = performance.now();
    const sim = await startSim(dir, secretFile, hosts);
    const startS = (performance.now() - t0) / 1000;
    let controller: Awaited<ReturnType<typeof startControllerProcess>> | undefined;
    try {
      const mem = memoryOf(sim.child.pid);
      mkdirSync(join(dir, 'controller'), { recursive: true });
      controller = await startControllerProcess({
        dataDir: join(dir, 'controller'), listenHost: '127.0.0.1', listenPort: await freePort(), secret,
        agents: sim.urls.map((url) => ({ url })), passwords: { admin: 'sched-admin-pw', demo: 'sched-demo-pw' },
        config: { networks: [BENCH_NETWORK] }, heartbeatIntervalMs: 3_600_000, log: pino({ level: 'silent' }),
      });
      const hb = controller.cluster.heartbeats!;
      const rounds: number[] = [];
      for (let r = 0; r < o.runs; r++) {
        const t = performance.now();
        await hb.poll();
        rounds.push(performance.now() - t);
      }
      const flavor = (await controller.store.getFlavor('1'))!;
      const snap = { id: flavor.id, name: flavor.name, vcpus: flavor.vcpus, ram: flavor.ram, disk: flavor.disk, ephemeral: flavor.ephemeral, swap: flavor.swap, extraSpecs: {} };
      const sched = controller.app.novalet.compute.scheduler;
      await hb.refreshScheduler();
      const lat: number[] = [];
      for (let i = 0; i < selects; i++) {
        // claims pile up as on a real cloud between heartbeats; give them back now and then so small clouds never fill
        if (i % 100 === 99) await hb.refreshScheduler();
        const t = performance.now();
        sched.select(snap);
        lat.push(performance.now() - t);
      }
      const sel = summarize(lat);
      const rnd = summarize(rounds);
      curve.push({ hosts, select: sel.median, round: rnd.median, rss: mem.rssMiB });
      if (hosts > 1) {
        rows.push(judge({ name: `schedule one server among ${hosts} hosts`, unit: 'ms', summary: sel, notes: `Scheduler.select (filters + RAM weigher + claim), ${selects} samples` },
          NOVA.none, hosts >= 1000 ? TARGET.schedule : undefined));
        rows.push({ name: `heartbeat round over ${hosts} hosts`, unit: 'ms', summary: rnd, notes: 'GET /v1/inventory from each (64 in flight), registry + scheduler refresh' });
      }
      // not judged against the agent's target: this process is the simulation (fake hypervisor, sim machinery) in
      // this run's runtime; the agent as its unit runs it is measured on libvirt by bench:agent
      rows.push(judge(single(`sim-hosts process RSS, ${hosts} host${hosts > 1 ? 's' : ''}`, 'MiB', mem.rssMiB,
        `${(mem.rssMiB / hosts).toFixed(2)} MiB per host; started in ${startS.toFixed(1)} s${hosts === 1 ? '; the real agent: npm run bench:agent' : ''}`), hosts === 1 ? NOVA.computeProcess : undefined));
    } finally {
      await controller?.close();
      await sim.child.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  }
  rows.push(single(`node ${process.version}, idle empty process as the runtime starts it`, 'MiB', await runtimeBaselineMiB(), `the floor under every novalet process (${runtime().name})`));
  const one = curve.find((c) => c.hosts === 1);
  const multi = curve.filter((c) => c.hosts > 1);
  const last = multi[multi.length - 1];
  if (one && last) {
    const perHost = (last.rss - one.rss) / (last.hosts - 1);
    rows.push(judge(single('simulated agent memory per additional host', 'MiB', perHost, `(RSS at ${last.hosts} hosts - RSS at 1) / ${last.hosts - 1}`), NOVA.computeProcess, TARGET.agentRss));
  }
  const hostsText = multi.map((c) => c.hosts).join(' / ');
  for (const [k, unit, label] of [['select', 'ms', 'scheduling'], ['round', 'ms', 'heartbeat round'], ['rss', 'MiB', 'sim-hosts RSS']] as const) {
    const b = growthExponent(multi.map((c) => ({ size: c.hosts, cost: c[k] })));
    rows.push(judge(single(`growth exponent vs hosts: ${label}`, 'exponent', b, `at ${hostsText} hosts: ${multi.map((c) => c[k].toFixed(k === 'select' ? 3 : 1)).join(' / ')} ${unit}`), undefined, TARGET.linear));
  }
  return rows;
}
