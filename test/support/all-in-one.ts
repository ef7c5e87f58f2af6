/**
 * A real all-in-one for end-to-end tests: `novalet up` as a child process (controller + agent + libvirt NAT
 * network) on a temporary data dir and free ports, driven with the stock Debian clients through the clouds.yaml it
 * writes. `kill()` is a kill -9 of the whole process (controller and agent together), `start()` brings it back on
 * the same data dir.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { execa } from 'execa';
import { REPO_ROOT } from './virsh.js';

export async function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const s = createServer();
    s.once('error', rej);
    s.listen(0, '127.0.0.1', () => { const p = (s.address() as { port: number }).port; s.close(() => res(p)); });
  });
}

export interface CliResult { stdout: string; stderr: string; exitCode: number; }

export class AllInOne {
  readonly dataDir = mkdtempSync(join(tmpdir(), 'novalet-aio-'));
  readonly cloudsYaml = join(this.dataDir, 'clouds.yaml');
  log = '';
  private child: ChildProcess | null = null;
  private ports: { api: number; agent: number } | null = null;

  constructor(readonly network = { name: 'novalet-e2e', cidr: '10.0.9.0/24' }) {}

  get url(): string { return `http://127.0.0.1:${this.ports?.api ?? 0}`; }

  consoleLogPath(uuid: string): string { return join(this.dataDir, 'agent', 'instances', uuid, 'console.log'); }

  async start(timeoutMs = 90_000): Promise<void> {
    this.ports ??= { api: await freePort(), agent: await freePort() };
    const child = spawn(process.execPath, [resolve(REPO_ROOT, 'bin/novalet.js'), 'up', '--data-dir', this.dataDir,
      '--listen', `127.0.0.1:${this.ports.api}`, '--agent-listen', `127.0.0.1:${this.ports.agent}`,
      '--network-name', this.network.name, '--network-cidr', this.network.cidr, '--log-level', 'info'],
    { stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = child;
    await new Promise<void>((res, rej) => {
      const t = setTimeout(() => rej(new Error(`novalet up did not get ready:\n${this.log.slice(-3000)}`)), timeoutMs);
      const onData = (c: Buffer): void => {
        this.log += c.toString();
        if (this.log.includes('novalet up: ready')) { clearTimeout(t); res(); }
      };
      child.stdout!.on('data', onData);
      child.stderr!.on('data', onData);
      child.once('exit', (code) => { clearTimeout(t); rej(new Error(`novalet up exited ${code}:\n${this.log.slice(-3000)}`)); });
    });
  }

  /** SIGKILL: nothing gets to clean up (guests keep running under libvirtd) */
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
    await Promise.race([gone, new Promise((r) => setTimeout(r, 15_000))]);
    if (c.exitCode === null) c.kill('SIGKILL');
    this.child = null;
  }

  /** `openstack --os-cloud <cloud> ...args -f json` parsed (commands without output give undefined) */
  async openstack<T = any>(args: string[], cloud = 'novalet'): Promise<T> {
    const json = wantsJson(args);
    const r = await this.cli('openstack', ['--os-cloud', cloud, ...args, ...(json ? ['-f', 'json'] : [])]);
    if (r.exitCode !== 0) throw new Error(`openstack ${args.join(' ')} -> ${r.exitCode}: ${r.stderr}`);
    return (json && r.stdout.trim() ? JSON.parse(r.stdout) : undefined) as T;
  }

  /** novaclient reads no clouds.yaml: the demo (or admin) account as OS_* variables */
  async nova(args: string[], account: 'demo' | 'admin' = 'demo'): Promise<CliResult> {
    const password = readFileSync(join(this.dataDir, `${account}-password`), 'utf8').trim();
    return this.cli('nova', args, {
      OS_AUTH_URL: `${this.url}/identity/v3`, OS_USERNAME: account, OS_PASSWORD: password, OS_PROJECT_NAME: account,
      OS_USER_DOMAIN_NAME: 'Default', OS_PROJECT_DOMAIN_NAME: 'Default', OS_IDENTITY_API_VERSION: '3', OS_REGION_NAME: 'RegionOne',
    });
  }

  cli(cmd: string, args: string[], extraEnv: Record<string, string> = {}): Promise<CliResult> {
    return execa(cmd, args, {
      reject: false, timeout: 180_000,
      // Debian's clients run on /usr/bin/python3; keep pyenv's python and any OS_* of the caller out of it
      env: { PATH: '/usr/sbin:/usr/bin:/sbin:/bin', HOME: this.dataDir, OS_CLIENT_CONFIG_FILE: this.cloudsYaml, ...extraEnv },
      extendEnv: false,
    }).then((r) => ({ stdout: String(r.stdout), stderr: String(r.stderr), exitCode: r.exitCode ?? -1 }));
  }

  /** removes the data dir, the test network and any domain of this data dir (after stop) */
  async cleanup(): Promise<void> {
    await this.stop();
    const names = (await execa('virsh', ['list', '--all', '--uuid'], { reject: false })).stdout.split('\n').map((s) => s.trim()).filter(Boolean);
    for (const uuid of names) {
      const xml = (await execa('virsh', ['dumpxml', uuid], { reject: false })).stdout;
      if (!xml.includes(this.dataDir)) continue;
      await execa('virsh', ['destroy', uuid], { reject: false });
      await execa('virsh', ['undefine', uuid, '--managed-save', '--nvram'], { reject: false });
    }
    await execa('virsh', ['net-destroy', this.network.name], { reject: false });
    await execa('virsh', ['net-undefine', this.network.name], { reject: false });
    rmSync(this.dataDir, { recursive: true, force: true });
  }
}

/** commands that print a resource or a list take -f json; actions print nothing */
function wantsJson(args: string[]): boolean {
  return !args.includes('-f') && args.some((a) => a === 'list' || a === 'show' || a === 'create' || a === 'rebuild');
}
