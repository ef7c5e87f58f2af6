/**
 * Child processes for the end-to-end suites: `novalet controller` and `novalet sim-hosts` started through the
 * real CLI (bin/novalet.js), so what is measured is what an operator runs. Memory is read from
 * /proc/<pid>/status (VmRSS now, VmHWM peak) of that process alone.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { runtime } from './runtime.js';

export interface Child {
  proc: ChildProcess;
  pid: number;
  /** stdout lines so far */
  lines: string[];
  stderr(): string;
  stop(): Promise<void>;
}

/** Starts `novalet <args>`; resolves once `ready(lines)` is true (or rejects when the process exits first). */
export async function startNovalet(args: string[], ready: (lines: string[]) => boolean | Promise<boolean>, timeoutMs = 180_000): Promise<Child> {
  const rt = runtime();
  const proc = spawn(process.execPath, [...rt.nodeArgs, rt.entry, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...rt.env } });
  const lines: string[] = [];
  let err = '';
  let buf = '';
  proc.stdout!.on('data', (c: Buffer) => {
    buf += c.toString('utf8');
    const parts = buf.split('\n');
    buf = parts.pop()!;
    lines.push(...parts);
  });
  proc.stderr!.on('data', (c: Buffer) => { err = (err + c.toString('utf8')).slice(-20_000); });
  const exited = new Promise<number | null>((r) => proc.once('exit', (code) => r(code)));
  const child: Child = {
    proc, pid: proc.pid!, lines, stderr: () => err,
    stop: async () => {
      if (proc.exitCode !== null || proc.signalCode !== null) return;
      proc.kill('SIGTERM');
      const done = await Promise.race([exited.then(() => true), sleep(15_000).then(() => false)]);
      if (!done) { proc.kill('SIGKILL'); await exited; }
    },
  };
  const deadline = Date.now() + timeoutMs;
  let gone = false;
  void exited.then(() => { gone = true; });
  const isReady = async (): Promise<boolean> => { try { return await ready(lines); } catch { return false; } };
  while (!(await isReady())) {
    if (gone) throw new Error(`novalet ${args[0]} exited early: ${err.slice(-2000)}`);
    if (Date.now() > deadline) { await child.stop(); throw new Error(`novalet ${args[0]} not ready after ${timeoutMs} ms: ${err.slice(-2000)}`); }
    await sleep(50);
  }
  return child;
}

/** Resident and peak memory of a process, MiB. */
export function memoryOf(pid: number): { rssMiB: number; peakMiB: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (k: string) => Number(new RegExp(`^${k}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN);
  return { rssMiB: kb('VmRSS') / 1024, peakMiB: kb('VmHWM') / 1024 };
}

/** RSS of an idle node process as the runtime starts novalet (with tsx loaded, or lean flags): the floor under every novalet process. */
export async function runtimeBaselineMiB(): Promise<number> {
  const rt = runtime();
  const args = rt.name === 'tsx' ? ['--import', 'tsx'] : rt.nodeArgs;
  const proc = spawn(process.execPath, [...args, '-e', 'setTimeout(() => {}, 60_000)'], { stdio: 'ignore', env: { ...process.env, ...rt.env } });
  try {
    await sleep(1500);
    return memoryOf(proc.pid!).rssMiB;
  } finally {
    proc.kill('SIGKILL');
  }
}

/** A free TCP port on 127.0.0.1 (or the first of `count` consecutive free ports). */
export async function freePort(count = 1): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const base = count === 1 ? await ephemeral() : 10_000 + Math.floor(Math.random() * Math.max(1, ephemeralLow() - 10_000 - count));
    if (count === 1 || await rangeFree(base, count)) return base;
  }
  throw new Error(`no ${count} consecutive free ports`);
}

/** ranges of ports below the kernel's ephemeral range: outgoing connections never take them meanwhile */
function ephemeralLow(): number {
  try {
    return Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]) || 32_768;
  } catch {
    return 32_768;
  }
}

function ephemeral(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

async function rangeFree(base: number, count: number): Promise<boolean> {
  const probe = (port: number) => new Promise<boolean>((resolve) => {
    const s = createServer();
    s.once('error', () => resolve(false));
    s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
  });
  for (let p = base; p < base + count; p++) if (!(await probe(p))) return false;
  return true;
}
