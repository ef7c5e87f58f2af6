/**
 * Runs the real agent (`node bin/novalet.js agent ...`) as a child process on a temp data dir and a random
 * port, for the agent integration tests; kill -9 and restart on the same data dir for crash tests.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { after, before } from 'node:test';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { AgentClient } from '../../src/rpc/client.js';
import type { OperationView } from '../../src/rpc/protocol/operations.js';
import { guestArtifacts } from '../support/guest.js';
import { destroyAndUndefine, ensureGuestBuilt, ensureRootLibvirtd, REPO_ROOT, ROOT_URI } from '../support/virsh.js';
import { domainNameFor } from '../../src/virt/hypervisor.js';
import * as qemuImg from '../../src/virt/qemu-img.js';

export interface AgentProcessOptions {
  /** node flags before the entry script (e.g. V8 memory flags) */
  nodeArgs?: string[];
  /** entry script; default bin/novalet.js (tsx), e.g. dist/src/cli/main.js for the compiled build */
  entry?: string;
  /** added to the environment (e.g. MALLOC_ARENA_MAX, as the systemd unit sets it) */
  env?: Record<string, string>;
}

export class AgentProcess {
  readonly dir = mkdtempSync(join(tmpdir(), 'novalet-agent-it-'));
  readonly dataDir = join(this.dir, 'data');
  readonly runDir = join(this.dir, 'run');
  readonly secret = randomBytes(24).toString('hex');
  readonly imageFile = join(this.dir, 'image.raw');
  readonly opts: AgentProcessOptions;
  child: ChildProcess | undefined;
  client!: AgentClient;
  port = 0;
  log = '';

  constructor(readonly config: Record<string, unknown> = {}, opts: AgentProcessOptions = {}) {
    this.opts = opts;
    writeFileSync(join(this.dir, 'secret'), `${this.secret}\n`, { mode: 0o600 });
    writeFileSync(join(this.dir, 'agent.json'), JSON.stringify({
      shutdownTimeoutSec: 30, shutdownRetryIntervalSec: 5, softRebootTimeoutSec: 60, pollIntervalMs: 200, logLevel: 'debug', ...config,
    }));
  }

  async makeImage(): Promise<void> {
    await qemuImg.create(this.imageFile, { format: 'raw', sizeBytes: 32 * 1024 * 1024 });
  }

  /** Starts the agent; resolves once it logged 'agent ready' (with the port it bound). */
  async start(): Promise<void> {
    const child = spawn(process.execPath, [...(this.opts.nodeArgs ?? []), resolve(REPO_ROOT, this.opts.entry ?? 'bin/novalet.js'), 'agent', '--config', join(this.dir, 'agent.json'),
      '--data-dir', this.dataDir, '--run-dir', this.runDir, '--listen', '127.0.0.1:0', '--secret-file', join(this.dir, 'secret')],
    { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...this.opts.env } });
    this.child = child;
    this.port = await new Promise<number>((res, rej) => {
      let buf = '';
      const t = setTimeout(() => rej(new Error(`agent did not get ready:\n${this.log.slice(-3000)}`)), 60_000);
      const onData = (c: Buffer): void => {
        const s = c.toString();
        this.log += s;
        buf += s;
        for (const line of buf.split('\n')) {
          if (!line.includes('"agent ready"')) continue;
          clearTimeout(t);
          res((JSON.parse(line) as { port: number }).port);
        }
        buf = buf.slice(buf.lastIndexOf('\n') + 1);
      };
      child.stdout!.on('data', onData);
      child.stderr!.on('data', (c: Buffer) => { this.log += c.toString(); });
      child.once('exit', (code) => { clearTimeout(t); rej(new Error(`agent exited (${code}):\n${this.log.slice(-3000)}`)); });
    });
    this.client = new AgentClient({ url: `http://127.0.0.1:${this.port}`, secret: this.secret });
  }

  kill9(): Promise<void> {
    const c = this.child;
    if (!c || c.exitCode !== null) return Promise.resolve();
    return new Promise((r) => { c.once('exit', () => r()); c.kill('SIGKILL'); });
  }

  async stop(): Promise<void> {
    const c = this.child;
    if (!c || c.exitCode !== null) return;
    await new Promise<void>((r) => {
      const t = setTimeout(() => c.kill('SIGKILL'), 15_000);
      c.once('exit', () => { clearTimeout(t); r(); });
      c.kill('SIGTERM');
    });
  }

  cleanup(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }

  consoleLog(uuid: string): string {
    return join(this.dataDir, 'instances', uuid, 'console.log');
  }

  /** Spec of the test guest (kernel + initrd boot, root disk from the local image). */
  guestSpec(uuid: string = randomUUID(), over: Record<string, unknown> = {}) {
    const a = guestArtifacts();
    return {
      uuid, displayName: `agent-it-${uuid.slice(0, 8)}`, vcpus: 1, memoryMiB: 128,
      image: { id: 'it-image', source: this.imageFile, format: 'raw' as const }, rootGiB: 0,
      boot: { kind: 'kernel' as const, kernel: a.kernel, ramdisk: a.initrd, cmdline: a.cmdline },
      ...over,
    };
  }

  async waitOp(op: OperationView | string, timeoutMs = 120_000): Promise<OperationView> {
    return this.client.waitOperation(typeof op === 'string' ? op : op.id, timeoutMs, 10);
  }
}

/**
 * A suite's agent on real libvirt: libvirtd and the test guest ready, `setup` (e.g. a network), the agent
 * started before the suite's tests; afterwards the agent stopped, the servers' domains removed whatever the
 * tests left, `teardown`, the temp dir deleted.
 */
export function suiteAgent(servers: string[], hooks: { setup?: (a: AgentProcess) => Promise<void>; teardown?: (a: AgentProcess) => Promise<void> } = {}): AgentProcess {
  const agent = new AgentProcess();
  before(async () => {
    await ensureRootLibvirtd();
    await ensureGuestBuilt();
    await agent.makeImage();
    await hooks.setup?.(agent);
    await agent.start();
  });
  after(async () => {
    await agent.stop();
    for (const u of servers) await destroyAndUndefine(ROOT_URI, domainNameFor(u)).catch(() => undefined);
    await hooks.teardown?.(agent);
    agent.cleanup();
  });
  return agent;
}

export async function until<T>(what: string, fn: () => Promise<T | undefined | false>, timeoutMs = 30_000, everyMs = 200): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

export { randomUUID };
