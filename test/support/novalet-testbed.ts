/**
 * A `novalet testbed` of one test file's own, in a fresh temp dir, driven through the CLI as a user would
 * (`novalet testbed up|down|kill-host|...`): the CLI call, the logs to print with a failure, a guest's console.
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { execa } from 'execa';
import { ConsoleLog } from './guest.js';
import { Clients } from './stock-clients.js';
import { REPO_ROOT } from './virsh.js';

export class NovaletTestbed {
  /** the temp dir (removed by remove()); the testbed's DIR is `dir` inside it */
  readonly parent: string;
  readonly dir: string;

  constructor(tag: string) {
    this.parent = mkdtempSync(join(tmpdir(), `novalet-${tag}-`));
    this.dir = join(this.parent, 'tb');
  }

  /** `novalet testbed <args> --data-dir DIR` (never throws: the exit code and output are in the result) */
  readonly run = (...args: string[]) =>
    execa(process.execPath, [resolve(REPO_ROOT, 'bin/novalet.js'), 'testbed', ...args, '--data-dir', this.dir], { reject: false, timeout: 300_000, all: true });

  /** the tail of every log of the testbed (controller, agents), for a failure's message */
  readonly logs = (tail = 2500): string => {
    const d = join(this.dir, 'logs');
    if (!existsSync(d)) return '';
    return readdirSync(d).map((f) => `--- ${f}\n${readFileSync(join(d, f), 'utf8').slice(-tail)}`).join('\n');
  };

  /** the console log of a server's guest on a host (the agent's instance dir) */
  readonly consoleOn = (host: string, id: string) => new ConsoleLog(join(this.dir, host, 'agent', 'instances', id, 'console.log'));

  /** `novalet testbed up <args>`; the stock clients of its clouds.yaml (clouds novalet and novalet-admin) */
  async up(...args: string[]): Promise<{ demo: Clients; admin: Clients }> {
    const r = await this.run('up', ...args);
    if (r.exitCode !== 0) throw new Error(`novalet testbed up exited ${r.exitCode}: ${r.all}\n${this.logs()}`);
    const demo = new Clients({ cloudsYaml: join(this.dir, 'clouds.yaml') }, 'novalet');
    return { demo, admin: demo.as('novalet-admin') };
  }

  /** polls `fn` until it gives a value; a timeout fails with the testbed's logs */
  async waitFor<T>(what: string, fn: () => Promise<T | undefined | false>, timeoutMs = 60_000, intervalMs = 500): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const v = await fn().catch(() => undefined);
      if (v) return v;
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}\n${this.logs()}`);
      await sleep(intervalMs);
    }
  }

  /** the temp dir goes (after `down`) */
  remove(): void { rmSync(this.parent, { recursive: true, force: true }); }
}
