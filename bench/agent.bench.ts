/**
 * `npm run bench:agent`: what the host agent costs on real libvirt/QEMU (issue 3's targets).
 *
 * (a) Per-operation overhead of the agent over the raw call: pause / unpause of a running test guest through
 *     the agent's RPC (submit with ?wait, answered when finished, as the controller calls it: validation, journal intent rows with fsync, the
 *     hypervisor call, the power refresh, the result row) versus the same LibvirtHypervisor call made
 *     directly in this process; and a state query (GET /v1/servers/:uuid vs getDomain). Target: < 5 ms.
 * (b) Agent RSS idle (no guests) and with 20 running test guests (128 MiB each), sampled once a second while a
 *     controller-like poller reads /v1/inventory and /v1/servers. Target: < 80 MB.
 *
 * Every figure is measured for each way of running the agent: from the sources under tsx (bin/novalet.js),
 * from the compiled build (`npm run build`, dist/src/cli/main.js), and from the compiled build with V8 memory
 * flags. Writes bench/results/agent.json and prints a table. Needs root, libvirtd and the test guest
 * (scripts/libvirtd.sh start; scripts/build-guest.sh). NOVALET_BENCH_AGENT_VARIANTS=tsx,compiled,... selects;
 * NOVALET_BENCH_NODE_FLAGS='--flag ...' adds 'compiled+custom' (the build with those node flags).
 */
import { execa } from 'execa';
import { existsSync, readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { LibvirtHypervisor } from '../src/virt/index.js';
import { domainNameFor } from '../src/virt/hypervisor.js';
import { AgentProcess, randomUUID } from '../test/integration/agent-process.js';
import { destroyAndUndefine, ensureGuestBuilt, ensureRootLibvirtd, REPO_ROOT, ROOT_URI } from '../test/support/virsh.js';
import { summarize, type Summary } from './lib/stats.js';
import { LEAN_NODE_FLAGS, RUNTIMES, type Runtime } from './lib/runtime.js';
import { machineInfo, printTable, type ResultRow } from './lib/report.js';

const GUESTS = Number(process.env['NOVALET_BENCH_AGENT_GUESTS'] ?? 20);
const OPS = Number(process.env['NOVALET_BENCH_AGENT_OPS'] ?? 40);
const QUERIES = 200;
const RSS_SAMPLES = 10;

/** the ways of running novalet the other suites use too (bench/lib/runtime.ts; NOVALET_BENCH_NODE_FLAGS adds one) */
type Variant = Runtime;
const ALL_VARIANTS: Variant[] = RUNTIMES;

const ms = (t0: number): number => performance.now() - t0;

/** Resident set (VmRSS) and private anonymous memory (Pss_Anon: heap, stacks; no shared code pages) in MB. */
function memoryOf(pid: number): { rss: number; anon: number } {
  const kb = (file: string, key: string): number => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(readFileSync(file, 'utf8'))?.[1] ?? NaN);
  return { rss: kb(`/proc/${pid}/status`, 'VmRSS') / 1024, anon: kb(`/proc/${pid}/smaps_rollup`, 'Pss_Anon') / 1024 };
}

/** user + system CPU time of a process so far, in ms (/proc/<pid>/stat utime + stime, clock ticks of 10 ms). */
function cpuMsOf(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(f[11]) + Number(f[12])) * 10;
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
  // as the controller does it (AgentClient.run: submit?wait, one round trip)
  const op = await agent.client.run(kind, uuid, {}, { timeoutMs: 60_000 });
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
  /** 1-minute load average at the end of the overhead runs (2 cores here: above 2 the agent waits for CPU) */
  loadAverage: number;
  /** user + system CPU the agent process spent per pause/unpause (submit + long-poll + the operation) */
  agentCpuMsPerOp: number;
}

type OverheadPart = Omit<VariantResult, 'loaded'>;

/** Phase 1 (one guest, so the machine is as quiet as it gets): idle memory, then paired overhead runs. */
async function overheadPhase(v: Variant, hv: LibvirtHypervisor): Promise<OverheadPart> {
  const agent = new AgentProcess({ logLevel: 'info', pollIntervalMs: 500 }, { entry: v.entry, nodeArgs: v.nodeArgs, env: v.env });
  const first = randomUUID();
  try {
    await agent.makeImage();
    await agent.start();
    await sleep(3000); // past start-up (reconcile, first sweep)
    const idle = await sampleMemory(agent);

    await spawnGuests(agent, [first]);
    await sleep(8000); // let the guest finish booting (TCG boots take both cores for a few seconds)
    // warm-up both paths
    for (let i = 0; i < 5; i++) { await viaAgent(agent, first, 'pause'); await viaAgent(agent, first, 'unpause'); }
    for (let i = 0; i < 5; i++) { await hv.pause(first); await hv.unpause(first); }
    while ((await agent.client.getServer(first)).server.power !== 'running') await sleep(5);
    const r: OverheadPart = {
      variant: v.name, agentPauseMs: [], directPauseMs: [], agentUnpauseMs: [], directUnpauseMs: [], agentQueryMs: [], directQueryMs: [],
      idle, loadAverage: 0, agentCpuMsPerOp: 0,
    };
    // paired: each agent call right next to the same direct call, so that the machine's load (other guests,
    // other processes on 2 cores) hits both sides of a pair alike; the overhead is the median of the differences
    for (let i = 0; i < OPS; i++) {
      r.agentPauseMs.push(...await timed(1, () => viaAgent(agent, first, 'pause')));
      r.agentUnpauseMs.push(...await timed(1, () => viaAgent(agent, first, 'unpause')));
      r.directPauseMs.push(...await timed(1, () => hv.pause(first)));
      r.directUnpauseMs.push(...await timed(1, () => hv.unpause(first)));
      // the agent learns the direct calls from libvirt's events: wait until its journal says running again
      while ((await agent.client.getServer(first)).server.power !== 'running') await sleep(5);
      r.agentQueryMs.push(...await timed(1, () => agent.client.getServer(first)));
      r.directQueryMs.push(...await timed(1, () => hv.getDomain(first)));
    }
    for (let i = 0; i < QUERIES - OPS; i++) {
      r.agentQueryMs.push(...await timed(1, () => agent.client.getServer(first)));
      r.directQueryMs.push(...await timed(1, () => hv.getDomain(first)));
    }
    // the agent's own CPU per operation: independent of how long the machine makes it wait for a core
    const cpu0 = cpuMsOf(agent.child!.pid!);
    for (let i = 0; i < OPS; i++) { await viaAgent(agent, first, 'pause'); await viaAgent(agent, first, 'unpause'); }
    r.agentCpuMsPerOp = (cpuMsOf(agent.child!.pid!) - cpu0) / (2 * OPS);
    r.loadAverage = loadavg()[0]!;
    return r;
  } finally {
    await teardown(agent, [first]);
  }
}

/** Phase 2: the agent spawns GUESTS guests (in parallel) and is sampled while a poller reads it. */
async function memoryPhase(v: Variant): Promise<{ rss: number[]; anon: number[] }> {
  const agent = new AgentProcess({ logLevel: 'info', pollIntervalMs: 500 }, { entry: v.entry, nodeArgs: v.nodeArgs, env: v.env });
  const uuids = Array.from({ length: GUESTS }, () => randomUUID());
  try {
    await agent.makeImage();
    await agent.start();
    const t0 = performance.now();
    await spawnGuests(agent, uuids);
    console.log(`[${v.name}] ${GUESTS} guests running after ${(ms(t0) / 1000).toFixed(1)} s; settling`);
    await sleep(10_000);
    return await sampleMemory(agent);
  } finally {
    await teardown(agent, uuids);
  }
}

async function teardown(agent: AgentProcess, uuids: string[]): Promise<void> {
  if (agent.child?.exitCode === null) await destroyGuests(agent, uuids);
  await agent.stop();
  for (const u of uuids) await destroyAndUndefine(ROOT_URI, domainNameFor(u)).catch(() => undefined);
  agent.cleanup();
}

/** Per-pair differences (the i-th agent call against the i-th direct call). */
function overhead(agentMs: number[], directMs: number[]): Summary {
  return summarize(agentMs.map((a, i) => a - directMs[i]!));
}

function rows(results: VariantResult[]): ResultRow[] {
  const out: ResultRow[] = [];
  for (const r of results) {
    const pair = (what: string, agentMs: number[], directMs: number[]) => {
      out.push({ name: `[${r.variant}] ${what}: through the agent`, unit: 'ms', summary: summarize(agentMs) });
      out.push({ name: `[${r.variant}] ${what}: direct`, unit: 'ms', summary: summarize(directMs) });
      out.push({ name: `[${r.variant}] ${what}: overhead (agent - direct, paired)`, unit: 'ms', summary: overhead(agentMs, directMs), notes: 'target < 5 ms' });
    };
    pair('pause', r.agentPauseMs, r.directPauseMs);
    pair('unpause', r.agentUnpauseMs, r.directUnpauseMs);
    pair('state query', r.agentQueryMs, r.directQueryMs);
    out.push({ name: `[${r.variant}] agent CPU per pause/unpause`, unit: 'ms', summary: summarize([r.agentCpuMsPerOp]), notes: `${OPS * 2} operations` });
    out.push({ name: `[${r.variant}] 1-min load average during the overhead runs`, unit: '', summary: summarize([r.loadAverage]), notes: '2 cores' });
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
    const parts: OverheadPart[] = [];
    for (const v of variants) {
      console.log(`[${v.name}] node ${[...v.nodeArgs, v.entry].join(' ')} agent: idle memory, overhead`);
      parts.push(await overheadPhase(v, hv));
    }
    for (const [i, v] of variants.entries()) {
      console.log(`[${v.name}] memory with ${GUESTS} guests`);
      results.push({ ...parts[i]!, loaded: await memoryPhase(v) });
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
        pause: overhead(r.agentPauseMs, r.directPauseMs),
        unpause: overhead(r.agentUnpauseMs, r.directUnpauseMs),
        stateQuery: overhead(r.agentQueryMs, r.directQueryMs),
      },
      loadAverage: r.loadAverage,
      agentCpuMsPerOp: r.agentCpuMsPerOp,
      rssIdleMB: summary(r.idle.rss), rssLoadedMB: summary(r.loaded.rss),
      anonIdleMB: summary(r.idle.anon), anonLoadedMB: summary(r.loaded.anon),
    })),
    rows: table,
  }, null, 2) + '\n');
  console.log(`results: ${file}`);
  process.exit(0);
}
