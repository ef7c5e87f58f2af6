/**
 * A real all-in-one for end-to-end tests: `novalet up` as a child process (controller + agent + libvirt NAT
 * network) on a temporary data dir and free ports, driven with the stock Debian clients through the clouds.yaml it
 * writes. `kill()` is a kill -9 of the whole process (controller and agent together), `start()` brings it back on
 * the same data dir.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { domainNameFor } from '../../src/virt/hypervisor.js';
import { NovaletProcess } from './novalet-process.js';
import { freePort } from './ports.js';
import { Clients, type Run } from './stock-clients.js';

export class AllInOne {
  readonly dataDir = mkdtempSync(join(tmpdir(), 'novalet-aio-'));
  readonly cloudsYaml = join(this.dataDir, 'clouds.yaml');
  private proc: NovaletProcess | null = null;
  private ports: { api: number; agent: number } | null = null;

  /** `upArgs`: more `novalet up` flags */
  constructor(readonly network = { name: 'novalet-e2e', cidr: '10.0.9.0/24' }, readonly reclaimIntervalSeconds = 0, readonly upArgs: string[] = []) {}

  get url(): string { return `http://127.0.0.1:${this.ports?.api ?? 0}`; }

  consoleLogPath(uuid: string): string { return join(this.dataDir, 'agent', 'instances', uuid, 'console.log'); }

  async start(timeoutMs = 90_000): Promise<void> {
    // a run killed before its cleanup leaves the network behind, with its DHCP state: the next run starts clean
    if (!this.proc) await removeLibvirtLeftovers(this.dataDir, this.network.name);
    this.ports ??= { api: await freePort(), agent: await freePort() };
    this.proc ??= new NovaletProcess(['up', '--data-dir', this.dataDir, '--listen', `127.0.0.1:${this.ports.api}`,
      '--agent-listen', `127.0.0.1:${this.ports.agent}`, '--network-name', this.network.name, '--network-cidr', this.network.cidr,
      '--reclaim-interval', String(this.reclaimIntervalSeconds), ...this.upArgs], 'novalet up: ready');
    await this.proc.start(timeoutMs);
  }

  get log(): string { return this.proc?.log ?? ''; }

  /** SIGKILL of the whole all-in-one: nothing gets to clean up (guests keep running under libvirtd) */
  kill(): Promise<void> { return this.proc?.kill() ?? Promise.resolve(); }

  stop(): Promise<void> { return this.proc?.stop() ?? Promise.resolve(); }

  /** the stock clients as `cloud` (clouds.yaml: `novalet` = demo, `novalet-admin`) */
  clients(cloud = 'novalet'): Clients { return new Clients(this, cloud); }

  /** `openstack --os-cloud <cloud> ...args`: parsed JSON for commands that print something */
  openstack<T = any>(args: string[], cloud = 'novalet'): Promise<T> { return this.clients(cloud).run<T>(...args); }

  /** `nova ...` as demo or admin, whatever the exit code */
  nova(args: string[], account: 'demo' | 'admin' = 'demo'): Promise<Run> {
    return this.clients(account === 'admin' ? 'novalet-admin' : 'novalet').novaRun(...args);
  }

  /** removes the data dir, the test network and any domain of this data dir (after stop) */
  async cleanup(): Promise<void> {
    await this.stop();
    await removeLibvirtLeftovers(this.dataDir, this.network.name);
    rmSync(this.dataDir, { recursive: true, force: true });
  }

}

/** destroys and undefines every domain whose XML mentions `dir` (its disks live there), then the test network */
export async function removeLibvirtLeftovers(dir: string, network: string): Promise<void> {
  const uuids = (await execa('virsh', ['list', '--all', '--uuid'], { reject: false })).stdout.split('\n').map((s) => s.trim()).filter(Boolean);
  for (const uuid of uuids) {
    if (!(await execa('virsh', ['dumpxml', uuid], { reject: false })).stdout.includes(dir)) continue;
    await execa('virsh', ['destroy', uuid], { reject: false });
    await execa('virsh', ['undefine', uuid, '--managed-save', '--nvram'], { reject: false });
  }
  await execa('virsh', ['net-destroy', network], { reject: false });
  await execa('virsh', ['net-undefine', network], { reject: false });
}

export const domstate = async (uuid: string): Promise<string> => (await execa('virsh', ['domstate', domainNameFor(uuid)])).stdout.trim();
