/**
 * Test doubles for the agent's unit tests: a minimal in-memory hypervisor (until src/virt/fake lands, and
 * kept afterwards for the knobs these tests need: guests that ignore ACPI, gates that freeze a call to
 * simulate a crash mid-operation, shared state across "agent restarts") and an in-memory disk tool.
 */
import { mkdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { pino } from 'pino';
import type {
  DhcpHost, DiskSpec, DiskSnapshotResult, DomainSpec, DomainStatus, HostInfo, Hypervisor, HypervisorEvent, NicSpec, PowerState,
} from '../../src/virt/hypervisor.js';
import { domainNameFor } from '../../src/virt/hypervisor.js';
import type { DiskInfo, DiskTool } from '../../src/agent/disks/disk-tool.js';
import { Agent } from '../../src/agent/agent.js';
import { DEFAULT_CONFIG, type AgentConfig } from '../../src/agent/config.js';

export interface FakeDomain {
  uuid: string;
  name: string;
  managed: boolean;
  spec: DomainSpec | null;
  rawXml: string | null;
  power: PowerState;
  managedSave: boolean;
  /** disk target -> active source (differs from spec after snapshotDisks) */
  sources: Record<string, string>;
  boots: number;
}

export class FakeState {
  domains = new Map<string, FakeDomain>();
  /** uuids whose guest ignores the ACPI power button (no OS) */
  ignoreAcpi = new Set<string>();
  calls: string[] = [];
  /** method -> promise the call waits on (simulate a crash by never resolving it) */
  gates = new Map<string, Promise<void>>();
  /** method -> error to throw once */
  failures = new Map<string, Error>();
  /** libvirt network -> DHCP host entries (a network springs into existence at its first entry) */
  networks = new Map<string, DhcpHost[]>();
}

export class MiniFakeHypervisor implements Hypervisor {
  private listeners = new Set<(e: HypervisorEvent) => void>();
  constructor(readonly state: FakeState = new FakeState(), readonly acpiDelayMs = 5) {}

  private async enter(method: string, uuid?: string): Promise<void> {
    this.state.calls.push(uuid ? `${method}:${uuid}` : method);
    const gate = this.state.gates.get(method);
    if (gate) await gate;
    const f = this.state.failures.get(method);
    if (f) { this.state.failures.delete(method); throw f; }
  }
  private dom(uuid: string): FakeDomain {
    const d = this.state.domains.get(uuid);
    if (!d) throw Object.assign(new Error(`no domain ${uuid}`), { code: 'domain_not_found' });
    return d;
  }
  private setPower(d: FakeDomain, p: PowerState, ev: string): void {
    d.power = p;
    for (const l of this.listeners) l({ type: 'power', uuid: d.uuid, power: p, libvirtEvent: ev, detail: '' });
  }
  private status(d: FakeDomain): DomainStatus {
    return { uuid: d.uuid, name: d.name, power: d.power, libvirtState: d.power, libvirtReason: '', managedSave: d.managedSave, managed: d.managed };
  }

  async hostInfo(): Promise<HostInfo> {
    return { hostname: 'fakehost', domainType: 'qemu', cpus: 2, cpuModel: 'fake', memoryMiB: 4096, freeMemoryMiB: 2048, hypervisorVersion: '8.0', libvirtVersion: '9.0', hostUuid: '00000000-0000-0000-0000-00000000f00d' };
  }
  async listDomains(): Promise<DomainStatus[]> { await this.enter('listDomains'); return [...this.state.domains.values()].map((d) => this.status(d)); }
  async getDomain(uuid: string): Promise<DomainStatus | null> { const d = this.state.domains.get(uuid); return d ? this.status(d) : null; }
  async getDomainXml(uuid: string): Promise<string> {
    const d = this.dom(uuid);
    if (d.rawXml && !d.spec) return d.rawXml;
    const s = d.spec!;
    const disks = s.disks.map((k) => `<disk type='file'><source file='${d.sources[k.target] ?? k.path}'/><target dev='${k.target}'/></disk>`).join('');
    const nics = s.nics.map((n) => `<interface><mac address='${n.mac}'/><alias name='ua-${n.portId}'/></interface>`).join('');
    return `<domain><uuid>${uuid}</uuid><vcpu>${s.vcpus}</vcpu><memory unit='MiB'>${s.memoryMiB}</memory><devices>${disks}${nics}</devices><!--spec:${JSON.stringify(s)}--></domain>`;
  }
  async define(spec: DomainSpec): Promise<void> {
    await this.enter('define', spec.uuid);
    const d = this.state.domains.get(spec.uuid);
    if (d) { d.spec = structuredClone(spec); d.rawXml = null; d.sources = {}; return; }
    this.state.domains.set(spec.uuid, { uuid: spec.uuid, name: domainNameFor(spec.uuid), managed: true, spec: structuredClone(spec), rawXml: null, power: 'shutdown', managedSave: false, sources: {}, boots: 0 });
  }
  async defineXml(xml: string): Promise<void> {
    await this.enter('defineXml');
    const m = /<!--spec:(.*)-->/.exec(xml);
    if (!m) throw new Error('fake defineXml: not a fake XML');
    const spec = JSON.parse(m[1]!) as DomainSpec;
    const d = this.dom(spec.uuid);
    d.spec = spec; d.sources = {};
  }
  async undefine(uuid: string): Promise<void> { await this.enter('undefine', uuid); const d = this.dom(uuid); if (d.power === 'running' || d.power === 'paused') throw new Error('fake: undefine of a running domain is allowed by libvirt but not expected here'); this.state.domains.delete(uuid); }
  async start(uuid: string): Promise<void> {
    await this.enter('start', uuid);
    const d = this.dom(uuid);
    if (d.power === 'running') throw Object.assign(new Error('already running'), { code: 'invalid_state' });
    d.managedSave = false; d.boots++;
    this.setPower(d, 'running', 'started');
  }
  async shutdown(uuid: string): Promise<void> {
    await this.enter('shutdown', uuid);
    const d = this.dom(uuid);
    if (d.power === 'shutdown') return; // as libvirt-hypervisor: already off is a no-op
    if (d.power !== 'running') throw Object.assign(new Error('not running'), { code: 'invalid_state' });
    if (this.state.ignoreAcpi.has(uuid)) return;
    setTimeout(() => { if (d.power === 'running') this.setPower(d, 'shutdown', 'stopped'); }, this.acpiDelayMs);
  }
  async destroy(uuid: string): Promise<void> { await this.enter('destroy', uuid); const d = this.dom(uuid); if (d.power === 'running' || d.power === 'paused') this.setPower(d, 'shutdown', 'stopped'); }
  async reboot(uuid: string, hard: boolean): Promise<void> { await this.enter(hard ? 'reset' : 'reboot', uuid); this.dom(uuid).boots++; }
  async pause(uuid: string): Promise<void> { await this.enter('pause', uuid); const d = this.dom(uuid); if (d.power !== 'running') throw Object.assign(new Error('not running'), { code: 'invalid_state' }); this.setPower(d, 'paused', 'suspended'); }
  async unpause(uuid: string): Promise<void> { await this.enter('unpause', uuid); const d = this.dom(uuid); if (d.power !== 'paused') throw Object.assign(new Error('not paused'), { code: 'invalid_state' }); this.setPower(d, 'running', 'resumed'); }
  async managedSave(uuid: string): Promise<void> { await this.enter('managedSave', uuid); const d = this.dom(uuid); d.managedSave = true; this.setPower(d, 'shutdown', 'stopped'); }
  async attachDisk(uuid: string, disk: DiskSpec): Promise<void> { await this.enter('attachDisk', uuid); const d = this.dom(uuid); if (d.spec!.disks.some((k) => k.target === disk.target)) throw new Error('target in use'); d.spec!.disks.push(disk); }
  async detachDisk(uuid: string, target: string): Promise<void> { await this.enter('detachDisk', uuid); const d = this.dom(uuid); d.spec!.disks = d.spec!.disks.filter((k) => k.target !== target); }
  async attachNic(uuid: string, nic: NicSpec): Promise<void> { await this.enter('attachNic', uuid); this.dom(uuid).spec!.nics.push(nic); }
  async detachNic(uuid: string, portId: string): Promise<void> { await this.enter('detachNic', uuid); const d = this.dom(uuid); d.spec!.nics = d.spec!.nics.filter((n) => n.portId !== portId); }
  async snapshotDisks(uuid: string, name: string): Promise<DiskSnapshotResult> {
    await this.enter('snapshotDisks', uuid);
    const d = this.dom(uuid);
    const overlays: Record<string, string> = {};
    for (const k of d.spec!.disks) {
      if (k.readonly || k.role === 'volume') continue;
      const o = `${k.path}.${name}`;
      writeFileSync(o, JSON.stringify({ format: 'qcow2', size: 1, backing: k.path }));
      overlays[k.target] = o; d.sources[k.target] = o;
    }
    return { overlays };
  }
  async commitDisk(uuid: string, target: string): Promise<void> { await this.enter('commitDisk', uuid); delete this.dom(uuid).sources[target]; }
  async listDhcpHosts(network: string): Promise<DhcpHost[]> { await this.enter('listDhcpHosts'); return [...(this.state.networks.get(network) ?? [])]; }
  async setDhcpHost(network: string, host: DhcpHost): Promise<void> {
    await this.enter('setDhcpHost');
    const hosts = (this.state.networks.get(network) ?? []).filter((h) => h.mac !== host.mac && h.ip !== host.ip);
    this.state.networks.set(network, [...hosts, { ...host }]);
  }
  async removeDhcpHost(network: string, host: DhcpHost): Promise<void> {
    await this.enter('removeDhcpHost');
    const hosts = this.state.networks.get(network);
    if (hosts) this.state.networks.set(network, hosts.filter((h) => !(h.mac === host.mac && h.ip === host.ip)));
  }
  onEvent(listener: (event: HypervisorEvent) => void): () => void { this.listeners.add(listener); return () => this.listeners.delete(listener); }
  async close(): Promise<void> { this.listeners.clear(); }

  /** An operator's own domain, not defined by novalet. */
  addForeignDomain(uuid: string, power: PowerState = 'running', managed = false): void {
    this.state.domains.set(uuid, { uuid, name: managed ? domainNameFor(uuid) : `operator-${uuid.slice(0, 8)}`, managed, spec: null, rawXml: '<domain/>', power, managedSave: false, sources: {}, boots: 1 });
  }
}

/** Disk tool writing small JSON descriptors instead of images. */
export class FakeDiskTool implements DiskTool {
  calls: string[] = [];
  private write(path: string, v: { format: string; size: number; backing?: string }): void {
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, JSON.stringify(v));
  }
  private read(path: string): { format: string; size: number; backing?: string } {
    try { return JSON.parse(readFileSync(path, 'utf8')); } catch { return { format: 'raw', size: existsSync(path) ? readFileSync(path).length : 0 }; }
  }
  async createOverlay(path: string, backing: string, _fmt: 'qcow2' | 'raw', sizeBytes?: number): Promise<void> { this.calls.push(`overlay:${path}`); this.write(path, { format: 'qcow2', size: Math.max(sizeBytes ?? 0, this.read(backing).size), backing }); }
  async create(path: string, format: 'qcow2' | 'raw', sizeBytes: number): Promise<void> { this.calls.push(`create:${path}`); this.write(path, { format, size: sizeBytes }); }
  async resize(path: string, sizeBytes: number): Promise<void> { this.calls.push(`resize:${path}`); const v = this.read(path); if (sizeBytes > v.size) this.write(path, { ...v, size: sizeBytes }); }
  async info(path: string): Promise<DiskInfo> { const v = this.read(path); const i: DiskInfo = { format: v.format, virtualSize: v.size }; if (v.backing) i.backingFile = v.backing; return i; }
  /** convert waits on this (simulate a crash mid-copy by never resolving it) */
  convertGate: Promise<void> | undefined;
  async convert(src: string, dst: string, outFormat: 'qcow2' | 'raw'): Promise<void> { this.calls.push(`convert:${src}`); if (this.convertGate) await this.convertGate; this.write(dst, { format: outFormat, size: this.read(src).size }); }
  sizeOf(path: string): number { return this.read(path).size; }
  async makeIso(path: string, label: string, files: Map<string, Buffer>): Promise<void> {
    this.calls.push(`iso:${path}`);
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, JSON.stringify({ format: 'raw', size: 1, label, files: Object.fromEntries([...files].map(([k, v]) => [k, v.toString('utf8')])) }));
  }
}

export const GiB = 1024 ** 3;

export function tmpDir(prefix = 'novalet-agent-'): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

export function testConfig(dataDir: string, over: Partial<AgentConfig> = {}): AgentConfig {
  return {
    ...DEFAULT_CONFIG, dataDir, runDir: join(dataDir, 'run'), secret: 'test-secret-0123456789abcdef',
    shutdownTimeoutSec: 0.3, shutdownRetryIntervalSec: 0.1, softRebootTimeoutSec: 0.3, pollIntervalMs: 10,
    syncPowerStateIntervalSec: 3600, reconcileIntervalSec: 3600, ...over,
  };
}

export const silentLog = pino({ level: process.env['NOVALET_TEST_LOG'] ?? 'silent' });

export interface Harness {
  agent: Agent;
  hv: MiniFakeHypervisor;
  disks: FakeDiskTool;
  dir: string;
  imageFile: string;
  restart(): Promise<Harness>;
  cleanup(): Promise<void>;
}

/** A started agent on a temp data dir with the fake hypervisor; restart() reopens on the same state. */
export async function harness(over: Partial<AgentConfig> = {}, shared?: { dir: string; state: FakeState; disks: FakeDiskTool; cleanupDir: () => void }): Promise<Harness> {
  const t = shared ?? { ...tmpDir(), state: new FakeState(), disks: new FakeDiskTool() };
  const dir = 'dir' in t ? t.dir : '';
  const cleanupDir = 'cleanupDir' in t ? t.cleanupDir : (t as unknown as { cleanup: () => void }).cleanup;
  const imageFile = join(dir, 'source-image.qcow2');
  if (!existsSync(imageFile)) writeFileSync(imageFile, JSON.stringify({ format: 'qcow2', size: GiB }));
  const hv = new MiniFakeHypervisor(t.state);
  const agent = await Agent.create({ hv, config: testConfig(dir, over), log: silentLog, disks: t.disks });
  await agent.start();
  const h: Harness = {
    agent, hv, disks: t.disks, dir, imageFile,
    restart: async () => {
      await agent.stop();
      agent.close();
      return harness(over, { dir, state: t.state, disks: t.disks, cleanupDir });
    },
    cleanup: async () => { await agent.stop(); try { agent.close(); } catch { /* closed */ } cleanupDir(); },
  };
  return h;
}

let n = 0;
export function uuid(): string {
  n++;
  return `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`;
}

export function spawnParams(id: string, imageFile: string, over: Record<string, unknown> = {}) {
  return {
    spec: {
      uuid: id, displayName: `srv-${id.slice(-4)}`, vcpus: 1, memoryMiB: 128,
      image: { id: 'img-test', source: imageFile, format: 'qcow2' as const }, rootGiB: 1, ephemeralGiB: 1, swapMiB: 64,
      ...over,
    },
  };
}
