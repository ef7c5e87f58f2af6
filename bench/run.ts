/**
 * `npm run bench`: runs every benchmark suite, prints a table per suite and writes JSON results (with the
 * machine noted) under bench/results/. Needs the local libvirtd (scripts/up.sh or scripts/libvirtd.sh start).
 * Benchmarks never run inside the test suite.
 */
import { runBindingBench } from './binding.bench.js';
import { printTable, writeResults, machineInfo } from './lib/report.js';

const suites: { name: string; title: string; run: () => Promise<Parameters<typeof printTable>[1]> }[] = [
  { name: 'binding', title: 'libvirt calls per second: native binding vs virsh (qemu:///system)', run: runBindingBench },
];

console.log(`machine: ${JSON.stringify(machineInfo())}`);
for (const s of suites) {
  const rows = await s.run();
  printTable(s.title, rows);
  console.log(`results: ${writeResults(s.name, rows)}`);
}
