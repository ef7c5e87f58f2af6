/**
 * Issue 5's Nova 26 reference figures and targets, in one place. The references are the issue's text (measured
 * by hand on a comparable 2-core machine with real Nova), not figures of this run; the targets are checked
 * against this run's median (or p95 where the target says so).
 */
import type { ResultRow } from './report.js';
import type { Summary } from './stats.js';

export const NOVA = {
  postSeq: '359 ms p50, 571 ms p95 (100 sequential); 0.30 s idle',
  postConc: '3.5-4.0 s p50 at 10 clients; saturates at 2.5-2.8 creates/s',
  toActiveSeq: '224 s (100 sequential creates)',
  toActiveOne: '~2 s (one server, idle)',
  list1k: '1.85 s p50, 2.2 s p95 at 1,000 servers; 4.0 s with 4 clients',
  list200: '340 ms at 200 servers',
  actionApi: '75-170 ms p50',
  actionState: '1.0-1.9 s after the API answer',
  memory100: '1.1-1.2 GB at 100 servers, 1 compute host (+0.5 GB Placement)',
  memory1k: '2.9 GB at 1,000 servers, 10 compute hosts (+0.5 GB Placement)',
  computeProcess: '~170 MB per nova-compute process',
  none: '(no reference in issue 5)',
} as const;

export interface Target {
  text: string;
  ok: (s: Summary) => boolean;
}

export const TARGET = {
  postP50: { text: 'p50 < 5 ms', ok: (s) => s.median < 5 },
  hundredToActive: { text: '< 2 s', ok: (s) => s.median < 2000 },
  list1k: { text: 'p50 < 30 ms', ok: (s) => s.median < 30 },
  page50k: { text: 'page of 1,000 < 50 ms', ok: (s) => s.median < 50 },
  schedule: { text: '< 2 ms', ok: (s) => s.median < 2 },
  controllerRss: { text: '< 200 MB', ok: (s) => s.median < 200 },
  agentRss: { text: '< 80 MB', ok: (s) => s.median < 80 },
  linear: { text: 'growth exponent <= 1.1 (at most linear)', ok: (s) => s.median <= 1.1 },
} satisfies Record<string, Target>;

/** Adds the reference and (optionally) the target verdict to a row. */
export function judge(row: ResultRow, nova: string | undefined, target?: Target): ResultRow {
  const r: ResultRow = { ...row };
  if (nova !== undefined) r.nova = nova;
  if (target) { r.target = target.text; r.met = target.ok(row.summary); }
  return r;
}

/**
 * Growth exponent b of cost ~ size^b over a curve (least squares on log-log): 0 = flat, 1 = linear, 2 = quadratic.
 * Needs at least two points with positive values.
 */
export function growthExponent(points: ReadonlyArray<{ size: number; cost: number }>): number {
  const p = points.filter((x) => x.size > 0 && x.cost > 0).map((x) => ({ x: Math.log(x.size), y: Math.log(x.cost) }));
  if (p.length < 2) return NaN;
  const mx = p.reduce((a, q) => a + q.x, 0) / p.length;
  const my = p.reduce((a, q) => a + q.y, 0) / p.length;
  const sxy = p.reduce((a, q) => a + (q.x - mx) * (q.y - my), 0);
  const sxx = p.reduce((a, q) => a + (q.x - mx) ** 2, 0);
  return sxy / sxx;
}

/** A one-number row (a derived figure such as a growth exponent): runs = 1. */
export function single(name: string, unit: string, value: number, notes?: string): ResultRow {
  return { name, unit, summary: { runs: 1, median: value, p95: value, min: value, max: value }, ...(notes ? { notes } : {}) };
}
