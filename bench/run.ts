/**
 * `npm run bench [-- --only <suite>[,<suite>]] [--quick]`: runs the benchmark suites, prints a table per suite
 * and writes JSON results (with the machine noted) under bench/results/ (<suite>-<time>.json and <suite>.json),
 * then a Markdown summary of every suite's latest results (bench/results/summary.md, what the README shows).
 * Suites: binding (needs the local libvirtd: scripts/up.sh), e2e (controller + 1,000 simulated hosts), volume (real QEMU, file + rbd),
 * qemu (novalet up + 8 real test guests; libvirtd and the test guest), ha (one vs two controllers on SQLite and
 * PostgreSQL: NOVALET_BENCH_POSTGRES_URL), migration (a two-host testbed: live migration through novalet vs
 * virsh; root, libvirtd, the test guest), evacuation (a three-host testbed: power loss of a host, detection and
 * automatic evacuation times; root, libvirtd, the test guest), net (ports, servers with tenant ports), sched (cost versus hosts), load (200 req/s
 * mixed for 60 s: errors, latency, event-loop delay; NOVALET_LOAD_RATE, NOVALET_LOAD_SECONDS), fuzzmem (controller peak RSS
 * under 40,000 fuzzed requests; NOVALET_FUZZ_REQUESTS). --quick: small sizes, one run, for a smoke test in about a minute.
 * Results another suite wrote (bench/results/agent.json, the agent overhead bench) are included in the summary.
 * Benchmarks never run inside the test suite.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from '../src/cli/args.js';
import { machineInfo, markdownTable, printTable, readResults, RESULTS_DIR, writeResults, type ResultRow } from './lib/report.js';
import { prepareRuntime, RUNTIMES, useRuntime } from './lib/runtime.js';

interface RunOptions { quick: boolean; runs: number }
/** `usesRuntime`: the suite starts novalet processes, so --runtime applies (and names its results) */
interface Suite { name: string; title: string; usesRuntime?: boolean; run: (o: RunOptions) => Promise<ResultRow[]> }

const SUITES: Suite[] = [
  { name: 'binding', title: 'libvirt calls per second: native binding vs virsh (qemu:///system)',
    run: async () => (await import('./binding.bench.js')).runBindingBench() },
  { name: 'e2e', title: 'controller + simulated hosts, end to end over HTTP', usesRuntime: true,
    run: async (o) => (await import('./e2e.bench.js')).runE2eBench(o) },
  { name: 'qemu', title: 'real QEMU: novalet up, a batch of test guests created through the API',
    run: async (o) => (await import('./qemu.bench.js')).runQemuBench(o) },
  { name: 'load', title: 'load: mixed requests at a fixed rate (default 200 req/s for 60 s), latency, errors, event-loop delay', usesRuntime: true,
    run: async (o) => (await import('./load.bench.js')).runLoadBench(o) },
  { name: 'fuzzmem', title: 'controller memory under fuzzed requests (random routes, oversized and malformed bodies)', usesRuntime: true,
    run: async (o) => (await import('./fuzz-memory.bench.js')).runFuzzMemoryBench(o) },
  { name: 'ha', title: 'several controllers on one store: SQLite and PostgreSQL, one controller vs two', usesRuntime: true,
    run: async (o) => (await import('./ha.bench.js')).runHaBench(o) },
  { name: 'migration', title: 'live migration on a two-host testbed: through novalet vs plain virsh (real QEMU)',
    run: async (o) => (await import('./migration.bench.js')).runMigrationBench(o) },
  { name: 'evacuation', title: 'host failure on a three-host testbed: detection, then automatic evacuation of its servers (real QEMU)',
    run: async (o) => (await import('./evacuation.bench.js')).runEvacuationBench(o) },
  { name: 'volume', title: 'volumes on real QEMU: create and attach per backend (file; rbd on a single-node Ceph when installed)',
    run: async (o) => (await import('./volume.bench.js')).runVolumeBench(o) },
  { name: 'net', title: 'networks: port create, 100 servers with 2 tenant ports each on simulated hosts', usesRuntime: true,
    run: async (o) => (await import('./net.bench.js')).runNetBench(o) },
  { name: 'sched', title: 'cost versus hosts: scheduling, heartbeats, simulated agent memory', usesRuntime: true,
    run: async (o) => (await import('./sched.bench.js')).runSchedBench(o) },
];
/** results files of suites run elsewhere, shown in the summary when present */
const FOREIGN = [{ file: 'agent.json', title: 'agent overhead (bench/agent*.ts)' }];

const { flags } = parseArgs(process.argv.slice(2), ['quick', 'help']);
if (flags['help']) {
  console.log(`usage: npm run bench [-- --only ${SUITES.map((s) => s.name).join('|')}[,...]] [--quick] [--runtime ${RUNTIMES.map((r) => r.name).join('|')}]`);
  process.exit(0);
}
const quick = flags['quick'] === true;
const only = typeof flags['only'] === 'string' ? flags['only'].split(',') : SUITES.map((s) => s.name);
const unknown = only.filter((n) => !SUITES.some((s) => s.name === n));
if (unknown.length) {
  console.error(`unknown suite ${unknown.join(', ')}; suites: ${SUITES.map((s) => s.name).join(', ')}`);
  process.exit(2);
}
const runs = Number(process.env['NOVALET_BENCH_RUNS'] ?? (quick ? 1 : 5));
// default: how the systemd units run the controller (and the simulated hosts alike)
const rt = typeof flags['runtime'] === 'string' ? flags['runtime'] : 'compiled';
/** results file of a suite: <suite>[-<runtime> unless tsx][-quick] */
const resultName = (s: Suite, runtimeName: string) => `${s.name}${s.usesRuntime && runtimeName !== 'tsx' ? `-${runtimeName}` : ''}${quick ? '-quick' : ''}`;

console.log(`machine: ${JSON.stringify(machineInfo())}${quick ? ' (quick)' : ''}, novalet processes run with ${rt}`);
if (SUITES.some((s) => s.usesRuntime && only.includes(s.name))) useRuntime(prepareRuntime(rt));
let failed = false;
for (const s of SUITES.filter((x) => only.includes(x.name))) {
  const t0 = performance.now();
  try {
    const rows = await s.run({ quick, runs });
    printTable(`${s.title}${s.usesRuntime ? ` [${rt}]` : ''}`, rows);
    console.log(`results: ${writeResults(resultName(s, rt), rows, { quick, runs, runtime: s.usesRuntime ? rt : undefined, seconds: Math.round((performance.now() - t0) / 1000) })}`);
  } catch (err) {
    failed = true;
    console.error(`suite ${s.name} failed: ${err instanceof Error ? err.stack ?? err.message : String(err)}`);
  }
}

const parts: string[] = [`Machine: ${JSON.stringify(machineInfo())}`];
const files = SUITES.flatMap((x) => (x.usesRuntime ? RUNTIMES.map((r) => r.name) : ['tsx']).map((r) => ({ file: `${resultName(x, r)}.json`, title: `${x.title}${x.usesRuntime ? ` [${r}]` : ''}` })));
for (const s of [...files, ...FOREIGN]) {
  const r = readResults(s.file);
  if (r) parts.push(`### ${s.title} (${r.at.slice(0, 10)})\n\n${markdownTable(r.rows)}`);
}
const summary = join(RESULTS_DIR, quick ? 'summary-quick.md' : 'summary.md');
writeFileSync(summary, parts.join('\n\n') + '\n');
console.log(`\nsummary: ${summary}`);
if (failed) process.exitCode = 1;
