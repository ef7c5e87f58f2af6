/** The testbed's novalet daemons: detached `novalet agent` / `novalet controller` processes logging to a file. */
import { spawn } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { pidAlive, procStart, sameProcess, waitGone } from './sys.js';
import type { ProcessRef } from './state.js';

export const NOVALET_BIN = fileURLToPath(new URL('../../../bin/novalet.js', import.meta.url));

/**
 * Starts `prefixArgs... node bin/novalet.js args...` detached (its own session, stdio to `logFile`), and waits for
 * `readyText` in the log. `prefixArgs` put it in a namespace (`ip netns exec NS`, `nsenter ...`): both exec the
 * command, so the pid is the novalet process itself.
 */
export async function startNovalet(prefixArgs: string[], args: string[], logFile: string, readyText: string, timeoutMs = 120_000, env: NodeJS.ProcessEnv = process.env): Promise<ProcessRef> {
  const from = existsSync(logFile) ? statSync(logFile).size : 0;
  const out = openSync(logFile, 'a');
  const argv = [...prefixArgs, process.execPath, NOVALET_BIN, ...args];
  let pid: number | undefined;
  try {
    const child = spawn(argv[0]!, argv.slice(1), { detached: true, stdio: ['ignore', out, out], env });
    child.on('error', () => undefined);
    child.unref();
    pid = child.pid;
  } finally {
    closeSync(out);
  }
  if (!pid) throw new Error(`could not start ${argv.join(' ')}`);
  const ref = { pid, start: procStart(pid) };
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const log = readFileSync(logFile, 'utf8').slice(from);
    if (log.includes(readyText)) return ref;
    if (!pidAlive(pid)) throw new Error(`novalet ${args[0]} exited before it was ready; ${logFile}:\n${log.slice(-3000)}`);
    if (Date.now() > deadline) throw new Error(`novalet ${args[0]} not ready after ${timeoutMs / 1000} s; ${logFile}:\n${log.slice(-3000)}`);
    await sleep(200);
  }
}

/** SIGTERM (the daemons close cleanly and leave guests alone), SIGKILL after `graceMs` */
export async function stopNovalet(refs: Array<ProcessRef | undefined>, graceMs = 10_000): Promise<void> {
  const live = refs.filter((r): r is ProcessRef => sameProcess(r));
  for (const r of live) { try { process.kill(r.pid, 'SIGTERM'); } catch { /* gone */ } }
  const left = await waitGone(live.map((r) => r.pid), graceMs);
  for (const p of left) { try { process.kill(p, 'SIGKILL'); } catch { /* gone */ } }
  await waitGone(left, 5000);
}
