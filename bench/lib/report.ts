/** Prints benchmark results as a table and writes them, with the machine noted, as JSON. */
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, totalmem, hostname, release } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Summary } from './stats.js';

export interface ResultRow {
  /** what was measured, e.g. "domain state: binding (sequential)" */
  name: string;
  unit: string;
  summary: Summary;
  /** free-form context: call counts, concurrency, ratios */
  notes?: string;
}

export function machineInfo(): Record<string, unknown> {
  const cpuList = cpus();
  return {
    hostname: hostname(),
    kernel: release(),
    cpus: cpuList.length,
    cpuModel: cpuList[0]?.model ?? 'unknown',
    memoryGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    node: process.version,
  };
}

function fmt(n: number): string {
  if (n >= 100) return n.toFixed(0);
  if (n >= 1) return n.toFixed(2);
  return n.toPrecision(3);
}

export function printTable(title: string, rows: readonly ResultRow[]): void {
  const header = ['benchmark', 'unit', 'median', 'p95', 'runs', 'notes'];
  const lines = rows.map((r) => [r.name, r.unit, fmt(r.summary.median), fmt(r.summary.p95), String(r.summary.runs), r.notes ?? '']);
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i]!.length)));
  const row = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i]!)).join('  ');
  console.log(`\n## ${title}`);
  console.log(row(header));
  console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const l of lines) console.log(row(l));
}

/** Writes bench/results/<suite>-<timestamp>.json and returns its path. */
export function writeResults(suite: string, rows: readonly ResultRow[], extra: Record<string, unknown> = {}): string {
  const dir = join(dirname(fileURLToPath(import.meta.url)), '..', 'results');
  mkdirSync(dir, { recursive: true });
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  const file = join(dir, `${suite}-${stamp}.json`);
  writeFileSync(file, JSON.stringify({ suite, at: new Date().toISOString(), machine: machineInfo(), ...extra, rows }, null, 2) + '\n');
  return file;
}
