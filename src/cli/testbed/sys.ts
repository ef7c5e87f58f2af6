/** Small process, namespace and virsh helpers of the testbed (spawned tools: ip, virsh, losetup). */
import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { execa, type Result } from 'execa';

export async function run(cmd: string, args: string[], opts: { reject?: boolean; timeoutMs?: number } = {}): Promise<Result> {
  return execa(cmd, args, { reject: opts.reject ?? true, timeout: opts.timeoutMs ?? 60_000, env: { LC_ALL: 'C' } });
}

/** the start time of a process (clock ticks since boot): with the pid, it names one process, not a reused pid */
export function procStart(pid: number): string {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19] ?? '';
  } catch {
    return '';
  }
}

export function pidAlive(pid: number): boolean {
  try { process.kill(pid, 0); return true; } catch { return false; }
}

/** alive and still the process that had this start time */
export function sameProcess(p: { pid: number; start: string } | undefined): boolean {
  return !!p && pidAlive(p.pid) && procStart(p.pid) === p.start;
}

export async function netnsList(): Promise<string[]> {
  const r = await run('ip', ['netns', 'list'], { reject: false });
  return String(r.stdout).split('\n').map((l) => l.split(' ')[0] ?? '').filter((n) => n !== '');
}

export async function netnsPids(ns: string): Promise<number[]> {
  const r = await run('ip', ['netns', 'pids', ns], { reject: false });
  return String(r.stdout).split('\n').map((s) => Number(s.trim())).filter((n) => Number.isInteger(n) && n > 0);
}

export async function waitGone(pids: number[], timeoutMs: number): Promise<number[]> {
  const deadline = Date.now() + timeoutMs;
  let left = pids.filter(pidAlive);
  while (left.length > 0 && Date.now() < deadline) {
    await sleep(100);
    left = left.filter(pidAlive);
  }
  return left;
}

/** SIGTERM, 4 s grace, then SIGKILL for every process in a network namespace */
export async function killNetnsProcesses(ns: string): Promise<void> {
  const pids = await netnsPids(ns);
  if (pids.length === 0) return;
  for (const p of pids) { try { process.kill(p, 'SIGTERM'); } catch { /* gone */ } }
  const left = await waitGone(pids, 4000);
  for (const p of left) { try { process.kill(p, 'SIGKILL'); } catch { /* gone */ } }
  await waitGone(left, 5000);
}

/** SIGKILL for every process in a network namespace at once (a power loss); waits until they are gone */
export async function powerOffNetns(ns: string): Promise<number[]> {
  const pids = await netnsPids(ns);
  for (const p of pids) { try { process.kill(p, 'SIGKILL'); } catch { /* gone */ } }
  await waitGone(pids, 10_000);
  return pids;
}

export async function virsh(uri: string, args: string[], timeoutMs = 60_000): Promise<string> {
  const r = await run('virsh', ['-q', '-c', uri, ...args], { reject: false, timeoutMs });
  if (r.exitCode !== 0) throw new Error(`virsh -c ${uri} ${args.join(' ')}: ${String(r.stderr).trim() || String(r.stdout).trim()}`);
  return String(r.stdout).trim();
}

export async function listDomains(uri: string): Promise<string[]> {
  return (await virsh(uri, ['list', '--all', '--name'], 30_000)).split('\n').map((s) => s.trim()).filter((s) => s !== '');
}

export async function destroyAndUndefine(uri: string, name: string): Promise<void> {
  await virsh(uri, ['destroy', name]).catch(() => undefined);
  await virsh(uri, ['undefine', name, '--managed-save', '--snapshots-metadata', '--checkpoints-metadata']).catch(() => undefined);
}

/** Detaches every loop device backed by a file in dir. */
export async function detachLoops(dir: string): Promise<void> {
  const r = await run('losetup', ['-l', '-n', '-O', 'NAME,BACK-FILE'], { reject: false });
  for (const line of String(r.stdout).split('\n')) {
    const m = /^(\/dev\/loop\d+)\s+(.*?)\s*$/.exec(line);
    if (!m || !m[2]) continue;
    const back = m[2].replace(/ \(deleted\)$/, '');
    if (back.startsWith(`${dir}/`)) await run('losetup', ['-d', m[1] ?? ''], { reject: false });
  }
}
