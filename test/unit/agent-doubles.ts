/**
 * Test helpers for the agent's unit tests: the agent runs against the virt layer's FakeHypervisor
 * (src/virt/fake: LibvirtHypervisor's state rules, fault injection, a FakeHost shared across "agent
 * restarts"), an in-memory disk tool, and a harness that starts an agent on a temp data dir.
 */
import { mkdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { pino } from 'pino';
import { domainNameFor } from '../../src/virt/hypervisor.js';
import { FakeHost, FakeHypervisor, type FakeMethod } from '../../src/virt/fake/index.js';
import type { DiskInfo, DiskTool } from '../../src/agent/disks/disk-tool.js';
import { Agent } from '../../src/agent/agent.js';
import type { AgentMetrics } from '../../src/agent/metrics.js';
import { DEFAULT_CONFIG, type AgentConfig } from '../../src/agent/config.js';

/** The calls the agent made, as `method:uuid` (`method` for host-wide calls); a hard reboot shows as `reset`. */
export function calls(hv: FakeHypervisor, from = 0): string[] {
  return hv.faults.calls.slice(from).map((c) => {
    const method = c.method === 'reboot' && c.args[1] === true ? 'reset' : c.method;
    const first = c.args[0];
    if (typeof first === 'object' && first !== null && 'uuid' in first) return `${method}:${String((first as { uuid: string }).uuid)}`;
    return typeof first === 'string' && /^[0-9a-f-]{36}$/i.test(first) ? `${method}:${first}` : method;
  });
}

/** An operator's own domain (not defined by novalet); `novaletName` gives it a novalet-looking name. */
export function addForeignDomain(hv: FakeHypervisor, uuid: string, opts: { running?: boolean; novaletName?: boolean } = {}): void {
  hv.addForeignDomain({ uuid, name: opts.novaletName ? domainNameFor(uuid) : `operator-${uuid.slice(0, 8)}`, running: opts.running ?? true });
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
  async rebase(path: string, backing: string): Promise<void> { this.calls.push(`rebase:${path}`); this.write(path, { ...this.read(path), backing }); }
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

/**
 * The FakeHypervisor with the old doubles' `state.calls` / `state.gates` view, kept only for
 * test/unit/rpc-server.test.ts (not the agent's file); agent tests use `calls(hv)` and `hv.faults`.
 */
export class HarnessHypervisor extends FakeHypervisor {
  get state(): { calls: string[]; gates: { set(method: string, until: Promise<void>): void; delete(method: string): void } } {
    return {
      calls: calls(this),
      gates: {
        set: (method, until) => { const hang = this.faults.hangNext(method as FakeMethod); void until.then(() => hang.release()); },
        delete: () => { /* a hang holds one call only */ },
      },
    };
  }
}

export interface Harness {
  agent: Agent;
  hv: HarnessHypervisor;
  disks: FakeDiskTool;
  dir: string;
  imageFile: string;
  /** a new agent process on the same data dir and host (the old one is dropped as if it died) */
  restart(): Promise<Harness>;
  cleanup(): Promise<void>;
}

/** A started agent on a temp data dir with the fake hypervisor; restart() reopens on the same state. */
/** `o.metrics`: the agent's hypervisor calls and operations are measured there (the harness's `hv` stays the raw fake) */
export async function harness(over: Partial<AgentConfig> = {}, shared?: { dir: string; host: FakeHost; disks: FakeDiskTool; cleanupDir: () => void }, o: { metrics?: AgentMetrics } = {}): Promise<Harness> {
  const t = shared ?? (() => { const d = tmpDir(); return { dir: d.dir, host: new FakeHost(), disks: new FakeDiskTool(), cleanupDir: d.cleanup }; })();
  const imageFile = join(t.dir, 'source-image.qcow2');
  if (!existsSync(imageFile)) writeFileSync(imageFile, JSON.stringify({ format: 'qcow2', size: GiB }));
  const hv = new HarnessHypervisor({ host: t.host, acpiDelayMs: 5 });
  const agent = await Agent.create({
    hv: o.metrics ? o.metrics.instrument(hv) : hv, config: testConfig(t.dir, over), log: silentLog, disks: t.disks,
    ...(o.metrics ? { onOperationFinished: o.metrics.operationFinished } : {}),
  });
  await agent.start();
  return {
    agent, hv, disks: t.disks, dir: t.dir, imageFile,
    // the old hypervisor connection is not closed: a dead process's hung calls never return
    restart: async () => { await agent.stop(); agent.close(); return harness(over, t, o); },
    cleanup: async () => { await agent.stop(); await hv.close(); try { agent.close(); } catch { /* closed */ } t.cleanupDir(); },
  };
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
