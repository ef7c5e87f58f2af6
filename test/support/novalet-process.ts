/**
 * `node bin/novalet.js <command> ...` as a child process that is ready when a log line contains `readyText`;
 * kill -9 and restart with the same arguments for crash tests.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { resolve } from 'node:path';
import { REPO_ROOT } from './virsh.js';

export class NovaletProcess {
  log = '';
  private child: ChildProcess | null = null;

  /** `env`: extra environment for the next start (e.g. NOVALET_FAILPOINTS); change it between restarts */
  constructor(private readonly args: string[], private readonly readyText: string, public env: Record<string, string> = {}) {}

  get running(): boolean { return this.child !== null && this.child.exitCode === null; }

  async start(timeoutMs = 90_000): Promise<void> {
    const child = spawn(process.execPath, [resolve(REPO_ROOT, 'bin/novalet.js'), ...this.args], {
      stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...this.env },
    });
    this.child = child;
    const from = this.log.length;
    await new Promise<void>((res, rej) => {
      const t = setTimeout(() => rej(new Error(`novalet ${this.args[0]} did not get ready:\n${this.log.slice(-3000)}`)), timeoutMs);
      const onData = (c: Buffer): void => {
        this.log += c.toString();
        if (this.log.indexOf(this.readyText, from) >= 0) { clearTimeout(t); res(); }
      };
      child.stdout!.on('data', onData);
      child.stderr!.on('data', onData);
      child.once('exit', (code) => { clearTimeout(t); rej(new Error(`novalet ${this.args[0]} exited ${code}:\n${this.log.slice(-3000)}`)); });
    });
  }

  /** SIGKILL: nothing gets to clean up */
  async kill(): Promise<void> {
    const c = this.child;
    if (!c || c.exitCode !== null) return;
    const gone = new Promise((r) => c.once('exit', r));
    c.kill('SIGKILL');
    await gone;
    this.child = null;
  }

  async stop(): Promise<void> {
    const c = this.child;
    if (!c || c.exitCode !== null) return;
    const gone = new Promise((r) => c.once('exit', r));
    c.kill('SIGTERM');
    const t = setTimeout(() => c.kill('SIGKILL'), 15_000);
    await gone;
    clearTimeout(t);
    this.child = null;
  }
}
