/** Prints benchmark results as a table and writes them, with the machine noted, as JSON. */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, hostname, loadavg, release, totalmem } from 'node:os';
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
  /** the matching Nova 26 reference figure from issue 5, as text */
  nova?: string;
  /** the issue 5 target this row is judged against, as text, and whether this run met it */
  target?: string;
  met?: boolean;
}

export const RESULTS_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', 'results');

export function machineInfo(): Record<string, unknown> {
  const cpuList = cpus();
  return {
    hostname: hostname(),
    kernel: release(),
    cpus: cpuList.length,
    cpuModel: cpuList[0]?.model ?? 'unknown',
    memoryGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    node: process.version,
    /** the machine is shared: other work running at the same time shows here */
    loadAvg1m: Math.round((loadavg()[0] ?? 0) * 100) / 100,
  };
}

export function fmt(n: number): string {
  if (!Number.isFinite(n)) return String(n);
  if (n >= 100) return n.toFixed(0);
  if (n >= 1) return n.toFixed(2);
  return n.toPrecision(3);
}

const verdict = (r: ResultRow): string => (r.target === undefined ? '' : `${r.target}: ${r.met ? 'met' : 'MISSED'}`);

export function printTable(title: string, rows: readonly ResultRow[]): void {
  const judged = rows.some((r) => r.nova !== undefined || r.target !== undefined);
  const header = ['benchmark', 'unit', 'median', 'p95', 'runs', ...(judged ? ['Nova 26 reference', 'target'] : []), 'notes'];
  const lines = rows.map((r) => [r.name, r.unit, fmt(r.summary.median), fmt(r.summary.p95), String(r.summary.runs),
    ...(judged ? [r.nova ?? '', verdict(r)] : []), r.notes ?? '']);
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i]!.length)));
  const row = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i]!)).join('  ');
  console.log(`\n## ${title}`);
  console.log(row(header));
  console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const l of lines) console.log(row(l));
}

/** A results table as Markdown (what the README's Benchmarks section shows). */
export function markdownTable(rows: readonly ResultRow[]): string {
  const out = ['| benchmark | median | p95 | runs | Nova 26 reference | target | notes |', '|---|---|---|---|---|---|---|'];
  for (const r of rows) {
    out.push(`| ${r.name} | ${fmt(r.summary.median)} ${r.unit} | ${fmt(r.summary.p95)} ${r.unit} | ${r.summary.runs} | ${r.nova ?? ''} | ${verdict(r)} | ${r.notes ?? ''} |`);
  }
  return out.join('\n');
}

/** Writes bench/results/<suite>-<timestamp>.json (and <suite>.json, the latest) and returns the first path. */
export function writeResults(suite: string, rows: readonly ResultRow[], extra: Record<string, unknown> = {}): string {
  mkdirSync(RESULTS_DIR, { recursive: true });
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  const file = join(RESULTS_DIR, `${suite}-${stamp}.json`);
  const text = JSON.stringify({ suite, at: new Date().toISOString(), machine: machineInfo(), ...extra, rows }, null, 2) + '\n';
  writeFileSync(file, text);
  writeFileSync(join(RESULTS_DIR, `${suite}.json`), text);
  return file;
}

/** A results file written by another suite (e.g. bench/results/agent.json), or null when absent/unreadable. */
export function readResults(file: string): { suite: string; at: string; machine?: Record<string, unknown>; rows: ResultRow[] } | null {
  try {
    const r = JSON.parse(readFileSync(join(RESULTS_DIR, file), 'utf8')) as { suite?: string; at?: string; rows?: ResultRow[] };
    return Array.isArray(r.rows) ? { suite: r.suite ?? file, at: r.at ?? '', rows: r.rows } : null;
  } catch {
    return null;
  }
}
