/**
 * `npm run bench:agent`: what the host agent costs on real libvirt/QEMU (issue 3's targets).
 *
 * (a) Per-operation overhead of the agent over the raw call: pause / unpause of a running test guest through
 *     the agent's RPC (submit + long-poll until finished: validation, journal intent rows with fsync, the
 *     hypervisor call, the power refresh, the result row) versus the same LibvirtHypervisor call made
 *     directly in this process; and a state query (GET /v1/servers/:uuid vs getDomain). Target: < 5 ms.
 * (b) Agent RSS idle (no guests) and with 20 running test guests (128 MiB each), sampled once a second while a
 *     controller-like poller reads /v1/inventory and /v1/servers. Target: < 80 MB.
 *
 * Every figure is measured for each way of running the agent: from the sources under tsx (bin/novalet.js),
 * from the compiled build (`npm run build`, dist/src/cli/main.js), and from the compiled build with V8 memory
 * flags. Writes bench/results/agent.json and prints a table. Needs root, libvirtd and the test guest
 * (scripts/libvirtd.sh start; scripts/build-guest.sh). NOVALET_BENCH_AGENT_VARIANTS=tsx,compiled,... selects.
 */
import { execa } from 'execa';
import { existsSync, readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { LibvirtHypervisor } from '../src/virt/index.js';
import { domainNameFor } from '../src/virt/hypervisor.js';
import { AgentProcess, randomUUID } from '../test/integration/agent-process.js';
import { destroyAndUndefine, ensureGuestBuilt, ensureRootLibvirtd, REPO_ROOT, ROOT_URI } from '../test/support/virsh.js';
import { summarize, type Summary } from './lib/stats.js';
import { machineInfo, printTable, type ResultRow } from './lib/report.js';

const GUESTS = Number(process.env['NOVALET_BENCH_AGENT_GUESTS'] ?? 20);
const OPS = Number(process.env['NOVALET_BENCH_AGENT_OPS'] ?? 40);
const QUERIES = 200;
const RSS_SAMPLES = 10;
/** V8 flags for a small footprint: a 1 MiB young generation and no optimising compiler (the agent is I/O bound). */
export const LEAN_NODE_FLAGS = ['--max-semi-space-size=1', '--lite-mode'];

interface Variant { name: string; entry: string; nodeArgs: string[] }
const ALL_VARIANTS: Variant[] = [
  { name: 'tsx', entry: 'bin/novalet.js', nodeArgs: [] },
  { name: 'compiled', entry: 'dist/src/cli/main.js', nodeArgs: [] },
  { name: 'compiled+lean', entry: 'dist/src/cli/main.js', nodeArgs: LEAN_NODE_FLAGS },
];

const ms = (t0: number): number => performance.now() - t0;

/** Resident set (VmRSS) and private anonymous memory (Pss_Anon: heap, stacks; no shared code pages) in MB. */
function memoryOf(pid: number): { rss: number; anon: number } {
  const kb = (file: string, key: string): number => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(readFileSync(file, 'utf8'))?.[1] ?? NaN);
  return { rss: kb(`/proc/${pid}/status`, 'VmRSS') / 1024, anon: kb(`/proc/${pid}/smaps_rollup`, 'Pss_Anon') / 1024 };
}

/** Samples memory once a second while polling like a controller (inventory + server list). */
async function sampleMemory(agent: AgentProcess): Promise<{ rss: number[]; anon: number[] }> {
  const out = { rss: [] as number[], anon: [] as number[] };
  for (let i = 0; i < RSS_SAMPLES; i++) {
    await agent.client.inventory();
    await agent.client.listServers();
    await sleep(1000);
    const m = memoryOf(agent.child!.pid!);
    out.rss.push(m.rss);
    out.anon.push(m.anon);
  }
  return out;
}

async function timed(n: number, fn: () => Promise<unknown>): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    await fn();
    out.push(ms(t0));
  }
  return out;
}

async function viaAgent(agent: AgentProcess, uuid: string, kind: 'pause' | 'unpause'): Promise<void> {
  const r = await agent.client.submit(kind, uuid, {});
  const op = await agent.client.waitOperation(r.operation.id, 60_000, 10);
  if (op.state !== 'succeeded') throw new Error(`${kind} through the agent: ${op.state} ${JSON.stringify(op.error)}`);
}

async function spawnGuests(agent: AgentProcess, uuids: string[]): Promise<void> {
  const ops = await Promise.all(uuids.map((u) => agent.client.submit('spawn', u, { spec: agent.guestSpec(u, { memoryMiB: 128 }) })));
  const done = await Promise.all(ops.map((r) => agent.client.waitOperation(r.operation.id, 600_000, 25)));
  const bad = done.filter((o) => o.state !== 'succeeded');
  if (bad.length) throw new Error(`spawn failed: ${JSON.stringify(bad.map((o) => o.error))}`);
}

async function destroyGuests(agent: AgentProcess, uuids: string[]): Promise<void> {
  const ops = await Promise.all(uuids.map((u) => agent.client.submit('destroy', u, {}).catch(() => undefined)));
  await Promise.all(ops.map((r) => (r ? agent.client.waitOperation(r.operation.id, 300_000, 25).catch(() => undefined) : undefined)));
}

interface VariantResult {
  variant: string;
  agentPauseMs: number[];
  directPauseMs: number[];
  agentUnpauseMs: number[];
  directUnpauseMs: number[];
  agentQueryMs: number[];
  directQueryMs: number[];
  idle: { rss: number[]; anon: number[] };
  loaded: { rss: number[]; anon: number[] };
}

async function runVariant(v: Variant, hv: LibvirtHypervisor): Promise<VariantResult> {
  const agent = new AgentProcess({ logLevel: 'info', pollIntervalMs: 500 }, { entry: v.entry, nodeArgs: v.nodeArgs });
  const uuids = Array.from({ length: GUESTS }, () => randomUUID());
  const first = uuids[0]!;
  try {
    await agent.makeImage();
    await agent.start();
    await sleep(3000); // past start-up (reconcile, first sweep)
    const idle = await sampleMemory(agent);

    await spawnGuests(agent, [first]);
    // warm-up both paths
    for (let i = 0; i < 5; i++) { await viaAgent(agent, first, 'pause'); await viaAgent(agent, first, 'unpause'); }
    for (let i = 0; i < 5; i++) { await hv.pause(first); await hv.unpause(first); }
    await sleep(500); // the agent hears the direct calls' events; let its journal catch up before it is asked again
    const r: Omit<VariantResult, 'idle' | 'loaded'> = {
      variant: v.name, agentPauseMs: [], directPauseMs: [], agentUnpauseMs: [], directUnpauseMs: [], agentQueryMs: [], directQueryMs: [],
    };
    // two alternating blocks each, so that drift of the machine (other guests booting) hits both sides
    for (let block = 0; block < 2; block++) {
      for (let i = 0; i < OPS / 2; i++) {
        r.agentPauseMs.push(...await timed(1, () => viaAgent(agent, first, 'pause')));
        r.agentUnpauseMs.push(...await timed(1, () => viaAgent(agent, first, 'unpause')));
      }
      for (let i = 0; i < OPS / 2; i++) {
        r.directPauseMs.push(...await timed(1, () => hv.pause(first)));
        r.directUnpauseMs.push(...await timed(1, () => hv.unpause(first)));
      }
      await sleep(500);
      r.agentQueryMs.push(...await timed(QUERIES / 2, () => agent.client.getServer(first)));
      r.directQueryMs.push(...await timed(QUERIES / 2, () => hv.getDomain(first)));
    }

    const t0 = performance.now();
    await spawnGuests(agent, uuids.slice(1));
    console.log(`[${v.name}] ${GUESTS} guests running after ${(ms(t0) / 1000).toFixed(1)} s more; settling`);
    await sleep(10_000);
    const loaded = await sampleMemory(agent);
    return { ...r, idle, loaded };
  } finally {
    if (agent.child?.exitCode === null) await destroyGuests(agent, uuids);
    await agent.stop();
    for (const u of uuids) await destroyAndUndefine(ROOT_URI, domainNameFor(u)).catch(() => undefined);
    agent.cleanup();
  }
}

function rows(results: VariantResult[]): ResultRow[] {
  const out: ResultRow[] = [];
  for (const r of results) {
    const pair = (what: string, agentMs: number[], directMs: number[]) => {
      const a = summarize(agentMs);
      const d = summarize(directMs);
      out.push({ name: `[${r.variant}] ${what}: through the agent`, unit: 'ms', summary: a, notes: `overhead ${(a.median - d.median).toFixed(2)} ms (median), ${(a.p95 - d.p95).toFixed(2)} ms (p95)` });
      out.push({ name: `[${r.variant}] ${what}: direct`, unit: 'ms', summary: d });
    };
    pair('pause', r.agentPauseMs, r.directPauseMs);
    pair('unpause', r.agentUnpauseMs, r.directUnpauseMs);
    pair('state query', r.agentQueryMs, r.directQueryMs);
    out.push({ name: `[${r.variant}] RSS idle`, unit: 'MB', summary: summarize(r.idle.rss), notes: `private anon ${summarize(r.idle.anon).median.toFixed(1)} MB` });
    out.push({ name: `[${r.variant}] RSS with ${GUESTS} guests`, unit: 'MB', summary: summarize(r.loaded.rss), notes: `private anon ${summarize(r.loaded.anon).median.toFixed(1)} MB` });
  }
  return out;
}

async function ensureCompiled(): Promise<void> {
  // tsc emits even when another part of the tree does not typecheck; what matters is that the entry exists
  const r = await execa('npx', ['tsc', '-p', 'tsconfig.json'], { cwd: REPO_ROOT, reject: false });
  if (!existsSync(join(REPO_ROOT, 'dist/src/cli/main.js'))) throw new Error(`npm run build produced no dist/src/cli/main.js:\n${r.stdout}`);
}

export async function runAgentBench(): Promise<{ rows: ResultRow[]; results: VariantResult[] }> {
  const wanted = (process.env['NOVALET_BENCH_AGENT_VARIANTS'] ?? ALL_VARIANTS.map((v) => v.name).join(',')).split(',');
  const variants = ALL_VARIANTS.filter((v) => wanted.includes(v.name));
  await ensureRootLibvirtd();
  await ensureGuestBuilt();
  if (variants.some((v) => v.entry.startsWith('dist/'))) await ensureCompiled();
  const hv = new LibvirtHypervisor({ uri: ROOT_URI });
  const results: VariantResult[] = [];
  try {
    for (const v of variants) {
      console.log(`[${v.name}] node ${[...v.nodeArgs, v.entry].join(' ')} agent`);
      results.push(await runVariant(v, hv));
    }
  } finally {
    await hv.close();
  }
  return { rows: rows(results), results };
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  console.log(`machine: ${JSON.stringify(machineInfo())}`);
  const { rows: table, results } = await runAgentBench();
  printTable(`agent overhead over direct LibvirtHypervisor calls and agent memory (${GUESTS} test guests)`, table);
  const summary = (xs: number[]): Summary => summarize(xs);
  const file = join(dirname(fileURLToPath(import.meta.url)), 'results', 'agent.json');
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, JSON.stringify({
    suite: 'agent', at: new Date().toISOString(), machine: machineInfo(), guests: GUESTS, opsPerKind: OPS, leanNodeFlags: LEAN_NODE_FLAGS,
    targets: { overheadMs: 5, rssMB: 80 },
    variants: results.map((r) => ({
      variant: r.variant,
      overheadMs: {
        pause: summary(r.agentPauseMs).median - summary(r.directPauseMs).median,
        unpause: summary(r.agentUnpauseMs).median - summary(r.directUnpauseMs).median,
        stateQuery: summary(r.agentQueryMs).median - summary(r.directQueryMs).median,
      },
      rssIdleMB: summary(r.idle.rss), rssLoadedMB: summary(r.loaded.rss),
      anonIdleMB: summary(r.idle.anon), anonLoadedMB: summary(r.loaded.anon),
    })),
    rows: table,
  }, null, 2) + '\n');
  console.log(`results: ${file}`);
  process.exit(0);
}
