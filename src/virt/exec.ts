/**
 * Runs a helper program of the virt layer (qemu-img, virsh): an argument vector (no shell), LC_ALL=C so
 * messages are stable, stdin closed, output captured. Never rejects: the caller turns a non-zero exit,
 * a time-out or a program that could not start (exitCode undefined) into its own error. Plain
 * child_process instead of execa keeps the agent's resident memory down (~3.5 MB).
 */
import { spawn } from 'node:child_process';

export interface ExecResult {
  exitCode: number | undefined;
  stdout: string;
  stderr: string;
  timedOut: boolean;
}

export function execCapture(file: string, args: readonly string[], opts: { timeoutMs: number }): Promise<ExecResult> {
  return new Promise((resolve) => {
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let timedOut = false;
    let settled = false;
    const done = (r: ExecResult): void => { if (!settled) { settled = true; clearTimeout(timer); resolve(r); } };
    const child = spawn(file, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, LC_ALL: 'C' } });
    const timer = setTimeout(() => { timedOut = true; child.kill('SIGKILL'); }, opts.timeoutMs);
    child.stdout.on('data', (c: Buffer) => out.push(c));
    child.stderr.on('data', (c: Buffer) => err.push(c));
    child.on('error', (e) => done({ exitCode: undefined, stdout: '', stderr: e.message, timedOut: false }));
    child.on('close', (code) => done({
      exitCode: code ?? undefined, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8'), timedOut,
    }));
  });
}
